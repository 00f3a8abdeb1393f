/**
 * The container's filesystem as plan records: its mounts (options turned into flags, bind
 * sources made absolute, a `cgroup` mount expanded the way runc expands it), then runc's
 * default device nodes and /dev symlinks, which runc creates only when /dev is not bound from
 * the host.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import type { CgroupHost } from './cgroup-host';
import { hierarchyName, type ContainerCgroups } from './cgroup-plan';
import { MS } from './linux-constants';
import { parseMountOptions } from './mount-options';
import { PlanError } from './plan-error';
import type { PlanWriter } from './plan-format';
import type { OciLinuxSpec, OciMountSpec } from './spec-types';

interface MountContext {
  bundleDir: string;
  host: CgroupHost;
  cgroups: ContainerCgroups;
  /** The spec gives the container a cgroup namespace of its own. */
  cgroupNamespace: boolean;
}

/** runc's default device nodes (mode 0666, owned by root), unless the spec lists the path itself. */
export const DEFAULT_DEVICES: ReadonlyArray<{ path: string; major: number; minor: number }> = Object.freeze([
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/tty', major: 5, minor: 0 },
  { path: '/dev/urandom', major: 1, minor: 9 },
  { path: '/dev/random', major: 1, minor: 8 },
]);

const DEV_SYMLINKS: ReadonlyArray<[string, string]> = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
];

const cleanDestination = (d: string) => posix.normalize(`/${d}`).replace(/(.)\/$/, '$1');

export function writeMountRecords(w: PlanWriter, mounts: readonly OciMountSpec[], ctx: MountContext): void {
  for (const m of mounts) {
    if (!m.destination) throw new PlanError('a mount has no destination');
    if (m.uidMappings || m.gidMappings) throw new PlanError(`mount ${m.destination}: id-mapped mounts are not supported by the berth runtime`);
    const destination = cleanDestination(m.destination);
    const { flags, propagation, data } = parseMountOptions(m.options ?? []);
    if (m.type === 'cgroup') {
      writeCgroupMount(w, destination, flags, ctx);
      continue;
    }
    const bind = m.type === 'bind' || (flags & MS.BIND) !== 0;
    let source = m.source ?? '';
    if (bind && !isAbsolute(source)) source = join(ctx.bundleDir, source);
    w.add('mount', destination, source, m.type || (bind ? 'bind' : 'none'), bind ? flags | MS.BIND : flags, propagation, data);
  }
}

/**
 * v1: a tmpfs with one bind per hierarchy of the container's own directory, read-only when the
 * mount says so (the tmpfs itself stays writable, as runc leaves it). v2: a cgroup2 mount, which
 * in the container's cgroup namespace shows its own subtree.
 */
function writeCgroupMount(w: PlanWriter, destination: string, flags: number, ctx: MountContext): void {
  if (ctx.host.layout === 'v2') {
    w.add('mount', destination, 'cgroup', 'cgroup2', flags, 0, '');
    return;
  }
  w.add('mount', destination, 'tmpfs', 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 0, 'mode=755');
  const bindFlags = (flags & ~MS.REC) | MS.BIND | MS.REC;
  for (const { hierarchy, dir } of ctx.cgroups.v1) {
    // A co-mounted hierarchy (`cpu,cpuacct`) is also bound under each controller's own name,
    // where runc makes symlinks: symlinks come after the mounts, and those are read-only by then.
    const names = new Set([hierarchyName(hierarchy), ...(hierarchyName(hierarchy).includes(',') ? hierarchy.controllers : [])]);
    for (const name of names) w.add('mount', posix.join(destination, name.replace(/^name=/, '')), dir, 'bind', bindFlags, 0, '');
  }
}

/** Device nodes and /dev symlinks: the spec's devices, runc's defaults, `/dev/ptmx`, `/dev/fd`... */
export function writeDeviceRecords(w: PlanWriter, mounts: readonly OciMountSpec[], linux: OciLinuxSpec): void {
  const devBound = mounts.some((m) => cleanDestination(m.destination) === '/dev' && (m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind')));
  // runc leaves a /dev bound from the host as it is.
  if (devBound) return;
  const listed = new Set<string>();
  for (const d of linux.devices ?? []) {
    const path = cleanDestination(d.path);
    const type = d.type === 'u' ? 'c' : d.type;
    if (!['c', 'b', 'p'].includes(type)) throw new PlanError(`device ${d.path}: unknown type ${JSON.stringify(d.type)}`);
    if (type !== 'p' && (d.major === undefined || d.minor === undefined)) throw new PlanError(`device ${d.path}: major and minor are required`);
    listed.add(path);
    w.add('device', path, type, d.major ?? 0, d.minor ?? 0, (d.fileMode ?? 0o666) & 0o7777, d.uid ?? 0, d.gid ?? 0);
  }
  for (const d of DEFAULT_DEVICES) {
    if (!listed.has(d.path)) w.add('device', d.path, 'c', d.major, d.minor, 0o666, 0, 0);
  }
  w.add('symlink', 'pts/ptmx', '/dev/ptmx');
  for (const [target, link] of DEV_SYMLINKS) w.add('symlink', target, link);
  if (existsSync('/proc/kcore')) w.add('symlink', '/proc/kcore', '/dev/core');
}
