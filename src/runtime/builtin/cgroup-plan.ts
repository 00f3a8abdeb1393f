/**
 * A container's cgroups as plan records: the directories its `cgroupsPath` lands in on this host
 * (v1: one per hierarchy, plus the cgroup2 one on hybrid hosts, as runc joins them), the resource
 * settings as runc writes them (v1 files, or v2 files with runc's conversions), and the file
 * pause/resume write.
 */
import { basename, join, posix } from 'node:path';
import type { CgroupHierarchy, CgroupHost } from './cgroup-host';
import { PlanError } from './plan-error';
import type { PlanWriter } from './plan-format';
import type { OciDeviceRule, OciResources } from './spec-types';

export interface ContainerCgroups {
  /** v1: each hierarchy with the container's directory in it. */
  v1: Array<{ hierarchy: CgroupHierarchy; dir: string }>;
  /** The container's cgroup2 directory (v2, or hybrid's unified hierarchy). */
  unified?: string;
}

/** The cgroup path inside each hierarchy: absolute, normalized; relative paths count from the root. */
export function normalizeCgroupsPath(cgroupsPath: string): string {
  const p = posix.normalize(`/${cgroupsPath}`);
  if (p === '/' ) throw new PlanError(`cgroupsPath ${JSON.stringify(cgroupsPath)} names the root cgroup`);
  return p.replace(/\/$/, '');
}

export function containerCgroups(cgroupsPath: string, host: CgroupHost): ContainerCgroups {
  const path = normalizeCgroupsPath(cgroupsPath);
  return {
    v1: host.layout === 'v2' ? [] : host.hierarchies.map((hierarchy) => ({ hierarchy, dir: join(hierarchy.mountPoint, path) })),
    ...(host.unified ? { unified: join(host.unified, path) } : {}),
  };
}

/** runc's devices that every container may use, appended after the spec's rules (runc's AllowedDevices). */
export const RUNC_ALLOWED_DEVICES: readonly OciDeviceRule[] = Object.freeze([
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // /dev/net/tun
]);

/** A rule in the devices.allow/deny syntax; the whole-class rule is the kernel's bare `a`. */
export function deviceRuleText(r: OciDeviceRule): string {
  const type = r.type || 'a';
  const access = r.access || 'rwm';
  if (type === 'a' && r.major === undefined && r.minor === undefined) return 'a';
  const num = (n: number | undefined) => (n === undefined || n < 0 ? '*' : String(n));
  return `${type} ${num(r.major)}:${num(r.minor)} ${access}`;
}

const limit = (n: number) => (n < 0 ? '-1' : String(n));

/** The `cgroup`, `cgroup-write` and `freezer` records. */
export function writeCgroupRecords(w: PlanWriter, cgroups: ContainerCgroups, host: CgroupHost, resources: OciResources = {}): void {
  for (const { dir } of cgroups.v1) w.add('cgroup', dir);
  if (cgroups.unified) w.add('cgroup', cgroups.unified);
  if (host.layout === 'v2') {
    if (!cgroups.unified) throw new PlanError('no cgroup2 mount found on this cgroup v2 host');
    writeV2(w, cgroups.unified, host, resources);
    w.add('freezer', join(cgroups.unified, 'cgroup.freeze'));
  } else {
    writeV1(w, cgroups, host, resources);
    const freezer = cgroups.v1.find((c) => c.hierarchy.controllers.includes('freezer'));
    if (freezer) w.add('freezer', join(freezer.dir, 'freezer.state'));
  }
}

function writeV1(w: PlanWriter, cgroups: ContainerCgroups, host: CgroupHost, r: OciResources): void {
  const dirOf = (controller: string) => cgroups.v1.find((c) => c.hierarchy.controllers.includes(controller));
  const write = (controller: string, file: string, value: string) => {
    const c = dirOf(controller);
    if (!c) throw new PlanError(`the spec sets ${file}, but this host has no ${controller} cgroup hierarchy`);
    w.add('cgroup-write', c.dir, file, value);
  };
  if (r.unified && Object.keys(r.unified).length) throw new PlanError('linux.resources.unified needs cgroup v2; this host runs cgroup v1');

  // A new v1 cpuset cgroup starts with no cpus and no mems, and nothing can join it: each level
  // the mkdir creates gets the root's (runc copies the parent's).
  const cpuset = dirOf('cpuset');
  if (cpuset) {
    const levels = ancestors(cpuset.hierarchy.mountPoint, cpuset.dir);
    for (const dir of levels) {
      const leaf = dir === cpuset.dir;
      const cpus = (leaf && r.cpu?.cpus) || host.cpusetCpus;
      const mems = (leaf && r.cpu?.mems) || host.cpusetMems;
      if (cpus) w.add('cgroup-write', dir, 'cpuset.cpus', cpus);
      if (mems) w.add('cgroup-write', dir, 'cpuset.mems', mems);
    }
  } else if (r.cpu?.cpus || r.cpu?.mems) {
    throw new PlanError('the spec sets a cpuset, but this host has no cpuset cgroup hierarchy');
  }

  const m = r.memory;
  if (m) {
    if (m.limit !== undefined && m.limit !== 0) write('memory', 'memory.limit_in_bytes', limit(m.limit));
    // After the limit: memory+swap may never be below it, and a fresh cgroup's is unlimited.
    if (m.swap !== undefined && m.swap !== 0 && host.swapAccounting) write('memory', 'memory.memsw.limit_in_bytes', limit(m.swap));
    if (m.reservation !== undefined && m.reservation !== 0) write('memory', 'memory.soft_limit_in_bytes', limit(m.reservation));
    if (m.swappiness !== undefined && m.swappiness >= 0 && m.swappiness <= 100) write('memory', 'memory.swappiness', String(m.swappiness));
    if (m.disableOOMKiller) write('memory', 'memory.oom_control', '1');
  }
  const cpu = r.cpu;
  if (cpu) {
    if (cpu.shares) write('cpu', 'cpu.shares', String(cpu.shares));
    // The period first: a quota is checked against the current period.
    if (cpu.period) write('cpu', 'cpu.cfs_period_us', String(cpu.period));
    if (cpu.quota) write('cpu', 'cpu.cfs_quota_us', String(cpu.quota));
    if (cpu.realtimePeriod) write('cpu', 'cpu.rt_period_us', String(cpu.realtimePeriod));
    if (cpu.realtimeRuntime) write('cpu', 'cpu.rt_runtime_us', String(cpu.realtimeRuntime));
  }
  if (r.pids && r.pids.limit !== 0) write('pids', 'pids.max', r.pids.limit > 0 ? String(r.pids.limit) : 'max');
  if (r.blockIO?.weight) write('blkio', 'blkio.weight', String(r.blockIO.weight));
  if (dirOf('devices')) {
    for (const rule of [...(r.devices ?? []), ...RUNC_ALLOWED_DEVICES]) {
      write('devices', rule.allow ? 'devices.allow' : 'devices.deny', deviceRuleText(rule));
    }
  }
}

/** Controllers Berth's resources need; each is enabled down the tree where the root offers it. */
const V2_CONTROLLERS = ['cpu', 'cpuset', 'io', 'memory', 'pids'];

function writeV2(w: PlanWriter, dir: string, host: CgroupHost, r: OciResources): void {
  const enable = V2_CONTROLLERS.filter((c) => host.controllers.includes(c));
  for (const level of [host.unified!, ...ancestors(host.unified!, dir)].filter((d) => d !== dir)) {
    for (const c of enable) w.add('cgroup-write', level, 'cgroup.subtree_control', `+${c}`);
  }
  const m = r.memory;
  if (m) {
    if (m.limit !== undefined && m.limit !== 0) w.add('cgroup-write', dir, 'memory.max', m.limit < 0 ? 'max' : String(m.limit));
    const swap = v2Swap(m.swap ?? 0, m.limit ?? 0);
    if (swap !== undefined) w.add('cgroup-write', dir, 'memory.swap.max', swap);
    if (m.reservation !== undefined && m.reservation !== 0) w.add('cgroup-write', dir, 'memory.low', m.reservation < 0 ? 'max' : String(m.reservation));
    if (m.disableOOMKiller) throw new PlanError('disabling the OOM killer is not possible on cgroup v2');
  }
  const cpu = r.cpu;
  if (cpu) {
    if (cpu.shares) w.add('cgroup-write', dir, 'cpu.weight', String(Math.floor(1 + ((cpu.shares - 2) * 9999) / 262142)));
    if (cpu.quota || cpu.period) w.add('cgroup-write', dir, 'cpu.max', `${cpu.quota && cpu.quota > 0 ? cpu.quota : 'max'} ${cpu.period || 100000}`);
    if (cpu.cpus) w.add('cgroup-write', dir, 'cpuset.cpus', cpu.cpus);
    if (cpu.mems) w.add('cgroup-write', dir, 'cpuset.mems', cpu.mems);
  }
  if (r.pids && r.pids.limit !== 0) w.add('cgroup-write', dir, 'pids.max', r.pids.limit > 0 ? String(r.pids.limit) : 'max');
  if (r.blockIO?.weight) w.add('cgroup-write', dir, 'io.weight', `default ${Math.floor(1 + ((r.blockIO.weight - 10) * 9999) / 990)}`);
  for (const [file, value] of Object.entries(r.unified ?? {})) {
    if (file.includes('/') || file.startsWith('.')) throw new PlanError(`linux.resources.unified: invalid file name ${JSON.stringify(file)}`);
    w.add('cgroup-write', dir, file, value);
  }
  // Device rules on v2 need an eBPF program the executor does not load (see docs/builtin-runtime.md).
}

/** runc's conversion of OCI memory+swap into cgroup v2's swap alone; undefined = leave as is. */
export function v2Swap(swap: number, memory: number): string | undefined {
  if (memory === -1 && swap === 0) return 'max';
  if (swap === 0) return undefined;
  if (swap === -1) return 'max';
  if (memory <= 0) throw new PlanError('unable to set swap limit without memory limit');
  if (swap < memory) throw new PlanError(`memory+swap limit (${swap}) should be greater than memory limit (${memory})`);
  return String(swap - memory);
}

/** The directories from just below `root` down to `dir`, top first. */
function ancestors(root: string, dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; d !== root && d.startsWith(`${root}/`); d = d.slice(0, d.lastIndexOf('/'))) out.unshift(d);
  return out;
}

/** Where a hierarchy appears under the container's /sys/fs/cgroup (`cpu`, `cpu,cpuacct`, `systemd`). */
export function hierarchyName(h: CgroupHierarchy): string {
  return basename(h.mountPoint);
}
