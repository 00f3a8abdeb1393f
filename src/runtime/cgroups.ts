/**
 * Host cgroup layout. `v1`: /sys/fs/cgroup holds one mount per controller; `v2`: /sys/fs/cgroup is
 * the unified (cgroup2) hierarchy; `hybrid`: v1 controllers plus a cgroup2 mount at
 * /sys/fs/cgroup/unified (systemd's hybrid mode). Docker reports hybrid hosts as CgroupVersion "1".
 */
import { readFileSync } from 'node:fs';

export type CgroupLayout = 'v1' | 'v2' | 'hybrid';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Decide the layout from the text of /proc/self/mountinfo. */
export function parseCgroupLayout(mountinfo: string): CgroupLayout {
  const fsTypeAt = new Map<string, string>();
  for (const line of mountinfo.split('\n')) {
    // "<id> <parent> <maj:min> <root> <mount point> <options> [optional...] - <fstype> <source> <super options>"
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const mountPoint = unescapeMountinfo(line.slice(0, sep).split(' ')[4] ?? '');
    const fsType = line.slice(sep + 3).split(' ')[0];
    if (mountPoint && fsType) fsTypeAt.set(mountPoint, fsType); // later mounts shadow earlier ones
  }
  if (fsTypeAt.get(CGROUP_ROOT) === 'cgroup2') return 'v2';
  if (fsTypeAt.get(`${CGROUP_ROOT}/unified`) === 'cgroup2') return 'hybrid';
  return 'v1';
}

/** The layout of the host this process runs on. */
export function detectCgroupLayout(): CgroupLayout {
  return parseCgroupLayout(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** What `docker info` reports as CgroupVersion: hybrid hosts count as "1", as in dockerd. */
export function cgroupVersion(layout: CgroupLayout): '1' | '2' {
  return layout === 'v2' ? '2' : '1';
}

/** Berth only manages cgroups through cgroupfs paths (no systemd driver). */
export const CGROUP_DRIVER = 'cgroupfs';

/** Undoes the `\\040`-style octal escapes of /proc/self/mountinfo fields. */
export function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}
