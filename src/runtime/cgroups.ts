/**
 * Host cgroup layout. `v1`: /sys/fs/cgroup holds one mount per controller; `v2`: /sys/fs/cgroup is
 * the unified (cgroup2) hierarchy; `hybrid`: v1 controllers plus a cgroup2 mount at
 * /sys/fs/cgroup/unified (systemd's hybrid mode). Docker reports hybrid hosts as CgroupVersion "1".
 */
import { parseMountinfo, readMountinfoSync, type MountEntry } from '../host/mountinfo';

export type CgroupLayout = 'v1' | 'v2' | 'hybrid';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Decide the layout from the text of /proc/self/mountinfo. */
export function parseCgroupLayout(mountinfo: string): CgroupLayout {
  return cgroupLayoutOf(parseMountinfo(mountinfo));
}

/** The layout from parsed mounts. */
export function cgroupLayoutOf(mounts: readonly MountEntry[]): CgroupLayout {
  const fsTypeAt = new Map<string, string>();
  for (const m of mounts) if (m.fsType) fsTypeAt.set(m.mountPoint, m.fsType); // later mounts shadow earlier ones
  if (fsTypeAt.get(CGROUP_ROOT) === 'cgroup2') return 'v2';
  if (fsTypeAt.get(`${CGROUP_ROOT}/unified`) === 'cgroup2') return 'hybrid';
  return 'v1';
}

/** The layout of the host this process runs on. */
export function detectCgroupLayout(): CgroupLayout {
  return cgroupLayoutOf(readMountinfoSync());
}

/** What `docker info` reports as CgroupVersion: hybrid hosts count as "1", as in dockerd. */
export function cgroupVersion(layout: CgroupLayout): '1' | '2' {
  return layout === 'v2' ? '2' : '1';
}

/** Berth only manages cgroups through cgroupfs paths (no systemd driver). */
export const CGROUP_DRIVER = 'cgroupfs';
