/**
 * What the plan compiler needs to know about this host's cgroups, read once: the layout, each v1
 * hierarchy's mount point and controllers (this host may mount cpu and cpuacct apart or
 * together), the cgroup2 mount, the root cpuset a new v1 cpuset cgroup must copy, whether swap
 * accounting exists, and the v2 controllers the root offers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMountinfo, readMountinfoSync, type MountEntry } from '../../host/mountinfo';
import { cgroupLayoutOf, type CgroupLayout } from '../cgroups';

export interface CgroupHierarchy {
  mountPoint: string;
  /** As /proc/self/cgroup names them: `cpu`, `cpuacct`, `name=systemd`. */
  controllers: readonly string[];
}

export interface CgroupHost {
  layout: CgroupLayout;
  /** v1 hierarchies (v1 and hybrid), in mount order. */
  hierarchies: readonly CgroupHierarchy[];
  /** The cgroup2 mount: /sys/fs/cgroup on v2, /sys/fs/cgroup/unified on hybrid. */
  unified?: string;
  /** The v1 cpuset root's cpus and mems: a new cpuset cgroup starts empty and must get them. */
  cpusetCpus?: string;
  cpusetMems?: string;
  /** v1 memory.memsw.* exists (swap accounting is on). */
  swapAccounting: boolean;
  /** v2: the controllers the root's cgroup.controllers lists. */
  controllers: readonly string[];
}

const V1_CONTROLLERS = new Set(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'hugetlb', 'net_cls', 'net_prio', 'perf_event', 'rdma', 'misc']);

/** The v1 hierarchies among `mounts` (a later mount on a point shadows an earlier one). */
export function cgroupHierarchies(mounts: readonly MountEntry[]): CgroupHierarchy[] {
  const byPoint = new Map<string, CgroupHierarchy>();
  for (const m of mounts) {
    if (m.fsType !== 'cgroup') {
      byPoint.delete(m.mountPoint);
      continue;
    }
    const controllers = m.superOptions.split(',').filter((o) => V1_CONTROLLERS.has(o) || o.startsWith('name='));
    if (controllers.length) byPoint.set(m.mountPoint, { mountPoint: m.mountPoint, controllers });
  }
  // The same hierarchy mounted twice is joined once.
  const seen = new Set<string>();
  return [...byPoint.values()].filter((h) => {
    const key = [...h.controllers].sort().join(',');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function readTrimmed(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** This host's cgroups, from `mountinfo` (default: this process's). */
export function detectCgroupHost(mountinfo?: string): CgroupHost {
  const mounts = mountinfo === undefined ? readMountinfoSync() : parseMountinfo(mountinfo);
  const layout = cgroupLayoutOf(mounts);
  const hierarchies = layout === 'v2' ? [] : cgroupHierarchies(mounts);
  const unified = [...mounts].reverse().find((m) => m.fsType === 'cgroup2')?.mountPoint;
  const cpuset = hierarchies.find((h) => h.controllers.includes('cpuset'));
  const memory = hierarchies.find((h) => h.controllers.includes('memory'));
  return {
    layout,
    hierarchies,
    ...(unified ? { unified } : {}),
    ...(cpuset ? { cpusetCpus: readTrimmed(join(cpuset.mountPoint, 'cpuset.cpus')), cpusetMems: readTrimmed(join(cpuset.mountPoint, 'cpuset.mems')) } : {}),
    swapAccounting: !!memory && existsSync(join(memory.mountPoint, 'memory.memsw.limit_in_bytes')),
    controllers: layout === 'v2' && unified ? (readTrimmed(join(unified, 'cgroup.controllers')) ?? '').split(/\s+/).filter(Boolean) : [],
  };
}
