/**
 * Cgroups for a rootless daemon. Inside rootlesskit's user namespace the runtimes can only use a
 * cgroup the host delegated to the user: cgroup v2 with systemd's delegation (`cgroup.controllers`
 * of the daemon's own cgroup listing controllers and its `cgroup.subtree_control` writable). On
 * cgroup v1 (and hybrid hosts, like this project's machines) nothing is delegated, so as dockerd
 * does there, bundles get no cgroupsPath and no resources: the runtimes then leave cgroups alone.
 *
 * The v2 delegated path is written but untested here (the machines this was written on are
 * cgroup v1 hybrid): containers go to `<daemon's cgroup>/../berth/<id>` — a sibling of the
 * daemon's own leaf, as a process may not sit in a cgroup whose controllers are delegated below.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { CgroupLayout } from './cgroups';
import type { RuntimeSpec } from './types';

export interface RootlessCgroups {
  /** Delegated v2 controllers the containers may use; empty = no cgroups at all (v1, or v2 without delegation). */
  controllers: readonly string[];
  /** The cgroup (v2 path from the root) under which containers' cgroups go, when delegated. */
  parent?: string;
}

/** What this rootless daemon may do with cgroups on a host of `layout`. */
export function detectRootlessCgroups(layout: CgroupLayout, procSelfCgroup = '/proc/self/cgroup', root = '/sys/fs/cgroup'): RootlessCgroups {
  if (layout !== 'v2') return { controllers: [] };
  try {
    const own = readFileSync(procSelfCgroup, 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3).trim();
    if (!own) return { controllers: [] };
    const parent = posix.join(posix.dirname(own), 'berth');
    const parentDir = join(root, posix.dirname(own));
    accessSync(join(parentDir, 'cgroup.subtree_control'), constants.W_OK);
    accessSync(parentDir, constants.W_OK);
    const controllers = readFileSync(join(parentDir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
    return controllers.length ? { controllers, parent } : { controllers: [] };
  } catch {
    return { controllers: [] };
  }
}

/** Adjusts a bundle's spec to what the rootless daemon's cgroups allow. */
export function rootlessCgroupSpec(spec: RuntimeSpec, cgroups: RootlessCgroups): void {
  const linux = spec.linux;
  if (!linux) return;
  if (cgroups.controllers.length === 0 || !cgroups.parent) {
    delete linux.cgroupsPath;
    delete linux.resources;
    return;
  }
  if (linux.cgroupsPath) linux.cgroupsPath = posix.join(cgroups.parent, posix.basename(linux.cgroupsPath));
  // The device cgroup is an eBPF program on v2, which a user namespace may not load.
  if (linux.resources && typeof linux.resources === 'object') delete (linux.resources as { devices?: unknown }).devices;
}
