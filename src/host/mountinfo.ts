/**
 * The one reader of /proc/self/mountinfo (proc(5)): what is mounted where, and with which
 * filesystem type. Each line reads
 * `<id> <parent> <maj:min> <root> <mount point> <options> [optional...] - <fstype> <source> <super options>`,
 * with spaces, tabs, newlines and backslashes in paths written as octal escapes (`\040`).
 */
import { readFileSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { resolve } from 'node:path';

const MOUNTINFO = '/proc/self/mountinfo';

export interface MountEntry {
  mountPoint: string;
  /** The per-mount options (`rw,nosuid,nodev,relatime`). */
  mountOptions: string;
  /** Empty when the line has no ` - ` separator (never seen from the kernel). */
  fsType: string;
  source: string;
  /** The filesystem's own options (a cgroup v1 hierarchy's controllers: `rw,cpu,cpuacct`). */
  superOptions: string;
  /** The optional fields: propagation tags such as `shared:4 master:2` (empty: private). */
  optional: string;
}

/** Mount entries in the kernel's order: a later entry on a mount point shadows earlier ones. */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    const fields = (sep < 0 ? line : line.slice(0, sep)).split(' ');
    const mountPoint = fields[4];
    if (!mountPoint) continue;
    const [fsType = '', source = '', superOptions = ''] = sep < 0 ? [] : line.slice(sep + 3).split(' ');
    entries.push({ mountPoint: unescapeMountinfo(mountPoint), mountOptions: fields[5] ?? '', fsType, source: unescapeMountinfo(source), superOptions, optional: fields.slice(6).join(' ') });
  }
  return entries;
}

/** Undoes the `\040`-style octal escapes of mountinfo fields. */
export function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** This process's mounts. */
export async function readMountinfo(): Promise<MountEntry[]> {
  return parseMountinfo(await readFile(MOUNTINFO, 'utf8'));
}

/** This process's mounts, read synchronously (daemon start-up decisions). */
export function readMountinfoSync(): MountEntry[] {
  return parseMountinfo(readFileSync(MOUNTINFO, 'utf8'));
}

/** Is something mounted at `path` (resolved to an absolute path)? */
export async function isMountPoint(path: string): Promise<boolean> {
  const abs = resolve(path);
  return (await readMountinfo()).some((m) => m.mountPoint === abs);
}

/** The flags a user namespace cannot drop from a bind of a mount (the kernel's MNT_LOCK_*). */
const LOCKED_FLAGS = ['ro', 'nodev', 'noexec', 'nosuid', 'noatime', 'relatime', 'nodiratime'];

/**
 * The locked flags of the mount holding `path`: a runtime that remounts a bind of it inside a
 * user namespace (a read-only bind) must repeat them, or the kernel refuses (dockerd's
 * UnprivilegedMountFlags).
 */
export async function lockedMountFlags(path: string): Promise<string[]> {
  return lockedFlagsOf(await readMountinfo(), await realpath(path));
}

/** The locked flags of the mount holding the absolute, resolved `path` among `entries`. */
export function lockedFlagsOf(entries: readonly MountEntry[], path: string): string[] {
  return (mountHolding(entries, path)?.mountOptions.split(',') ?? []).filter((o) => LOCKED_FLAGS.includes(o));
}

/** The mount holding the absolute, resolved `path` among `entries`. */
export function mountHolding(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  const within = (m: MountEntry) => m.mountPoint === '/' || path === m.mountPoint || path.startsWith(`${m.mountPoint}/`);
  let best: MountEntry | undefined;
  // The longest mount point wins; among equals, the last (it shadows the others).
  for (const m of entries) if (within(m) && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  return best;
}

/**
 * The propagation of the mount holding `path` (symlinks resolved; a path not made yet is judged
 * by its nearest existing parent, where it will be made).
 */
export async function mountPropagationOf(path: string): Promise<{ mountPoint: string; shared: boolean; slave: boolean }> {
  let p = resolve(path);
  let real: string | undefined;
  while (real === undefined) {
    real = await realpath(p).catch(() => undefined);
    if (real === undefined && p === '/') real = '/';
    p = resolve(p, '..');
  }
  const m = mountHolding(await readMountinfo(), real);
  const tags = (m?.optional ?? '').split(' ');
  return { mountPoint: m?.mountPoint ?? '/', shared: tags.some((t) => t.startsWith('shared:')), slave: tags.some((t) => t.startsWith('master:')) };
}
