/**
 * `docker diff`: a container's changes computed from its overlay upper dir against the image's
 * layers, with dockerd's overlay semantics (`[moby] pkg/archive/changes.go`): a whiteout (char
 * device 0:0) is a deletion, an opaque directory that exists below is a deletion (its contents
 * then show as additions), a path that exists in a lower layer is modified, else added; a
 * directory that only got copied up unchanged is not reported, and the parent of an addition or
 * deletion is reported modified. Sorted by path. Deviation: dockerd also reports a directory
 * whose size or mtime alone changed; here that needs a reported change inside it, so that the
 * runtime's mount-point stubs (dockerd keeps them in an init layer) do not mark `/etc` changed.
 */
import type { BigIntStats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { IdMap } from '../../userns/id-map';
import { toContainerOwner } from './owner-shift';
import { classifyUpperEntry, isOpaqueDir } from './upper-marks';
import type { StorageDriverName } from '../../../host/overlay-driver';


export const enum ChangeKind {
  Modify = 0,
  Add = 1,
  Delete = 2,
}

export interface Change {
  Path: string;
  Kind: ChangeKind;
}

export interface ChangesOptions {
  /** Reads an xattr (undefined when absent); the overlay opaque flag. */
  getXattr(path: string, name: string): Promise<Buffer | undefined>;
  /** userns-remap: the container's mapping; the upper holds host ids, the layers container ids. */
  idMap?: IdMap;
  /** How the upper dir was written (upper-marks.ts); default overlay2. */
  driver?: StorageDriverName;
}


/**
 * Paths dockerd keeps in a container's init layer (`[moby] daemon/initlayer`), below the
 * read-write layer, so runtime-made mount points never show as changes. Berth has no init
 * layer: the runtime creates these stubs in the upper dir, and they are left out here.
 */
const INIT_PATHS = new Set(['/.dockerenv', '/etc/resolv.conf', '/etc/hosts', '/etc/hostname', '/etc/mtab']);
/** Mounted over at run time: whatever the upper dir holds below them is a stub. */
const INIT_TREES = ['/dev', '/proc', '/sys'];

export const isInitPath = (path: string) => INIT_PATHS.has(path) || INIT_TREES.some((t) => path === t || path.startsWith(`${t}/`));

/** Changes of `upper` against `lowerDirs` (top-most first). */
export async function computeChanges(upper: string, lowerDirs: string[], opts: ChangesOptions): Promise<Change[]> {
  const changes: Change[] = [];
  const changedDirs = new Set<string>();
  const lowerStat = async (path: string): Promise<BigIntStats | undefined> => {
    for (const dir of lowerDirs) {
      const st = await lstat(join(dir, path), { bigint: true }).catch(() => undefined);
      if (st) return st;
    }
    return undefined;
  };
  const record = (change: Change, isDir: boolean) => {
    if (isDir) changedDirs.add(change.Path);
    const parent = change.Path.slice(0, change.Path.lastIndexOf('/')) || '/';
    if (change.Kind !== ChangeKind.Modify && parent !== '/' && !changedDirs.has(parent)) {
      changes.push({ Path: parent, Kind: ChangeKind.Modify });
      changedDirs.add(parent);
    }
    changes.push(change);
  };

  const idMap = opts.idMap;
  const asContainer = (st: BigIntStats) => (idMap ? { mode: st.mode, ...toContainerOwner(idMap, { uid: Number(st.uid), gid: Number(st.gid) }) } : st);

  /** Visits `path` and below; true when anything there was reported. */
  const visit = async (path: string): Promise<boolean> => {
    if (isInitPath(path)) return false;
    const host = join(upper, path);
    const st = await lstat(host, { bigint: true });
    const before = changes.length;
    let below: BigIntStats | undefined;
    const slash = path.lastIndexOf('/');
    const mark = classifyUpperEntry(path.slice(slash + 1), st, opts.driver);
    if (mark.kind === 'skip') return false;
    if (mark.kind === 'whiteout') {
      record({ Path: `${path.slice(0, slash)}/${mark.target}`, Kind: ChangeKind.Delete }, false);
    } else {
      below = await lowerStat(path);
      const opaque = st.isDirectory() && below !== undefined && (await isOpaqueDir(host, opts.getXattr, opts.driver));
      if (opaque) record({ Path: path, Kind: ChangeKind.Delete }, true);
      else if (!below) record({ Path: path, Kind: ChangeKind.Add }, st.isDirectory());
      else if (!(st.isDirectory() && below.isDirectory() && sameDirMeta(asContainer(st), below))) record({ Path: path, Kind: ChangeKind.Modify }, st.isDirectory());
    }
    if (!st.isDirectory()) return changes.length > before;
    let childReported = false;
    for (const child of (await readdir(host)).sort()) {
      if (await visit(`${path}/${child}`)) childReported = true;
    }
    // A copied-up directory whose mtime moved counts only when something in it is reported (the
    // runtime's mount-point stubs alone must not make `/etc` modified).
    if (childReported && below?.isDirectory() && st.mtimeNs !== below.mtimeNs && !changedDirs.has(path)) {
      record({ Path: path, Kind: ChangeKind.Modify }, true);
    }
    return changes.length > before;
  };

  for (const child of (await readdir(upper).catch(() => [] as string[])).sort()) await visit(`/${child}`);
  return changes.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}

/** Owner and mode unchanged (mtime is judged by the caller, from what changed inside). */
export function sameDirMeta(a: { mode: number | bigint; uid: number | bigint; gid: number | bigint }, b: { mode: number | bigint; uid: number | bigint; gid: number | bigint }): boolean {
  return (BigInt(a.mode) & 0o7777n) === (BigInt(b.mode) & 0o7777n) && BigInt(a.uid) === BigInt(b.uid) && BigInt(a.gid) === BigInt(b.gid);
}


