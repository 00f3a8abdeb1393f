/**
 * How an overlay upper dir marks deletions, per storage driver, for commit (layer-pack.ts) and
 * diff (changes.ts). Kernel overlayfs: a char device 0:0 is a whiteout, the namespace's
 * `*.overlay.opaque` xattr an opaque directory. fuse-overlayfs (checked with 1.10 in a user
 * namespace) also writes char device 0:0 whiteouts where it can make them, an empty `.wh.<name>`
 * file where it cannot, and marks an opaque directory with `user.fuseoverlayfs.opaque` plus a
 * `.wh..wh..opq` file (and a `.wh..opq` whiteout) inside it.
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { FUSE_OVERLAYFS_OPAQUE_XATTR, fuseWhiteoutTarget, isFuseOverlayfsMarker, type StorageDriverName } from '../../../host/overlay-driver';
import { overlayOpaqueXattr } from '../../../host/userns';

export type UpperEntry =
  /** A deletion of `target` (a name in the same directory). */
  | { kind: 'whiteout'; target: string }
  /** The driver's own bookkeeping: neither a change nor a layer entry. */
  | { kind: 'skip' }
  | { kind: 'entry' };

interface EntryStat {
  isCharacterDevice(): boolean;
  isFile(): boolean;
  rdev: number | bigint;
}

/** What the upper dir's entry `name` stands for. */
export function classifyUpperEntry(name: string, st: EntryStat, driver: StorageDriverName | undefined): UpperEntry {
  if (driver === 'fuse-overlayfs' && isFuseOverlayfsMarker(name)) return { kind: 'skip' };
  if (st.isCharacterDevice() && Number(st.rdev) === 0) return { kind: 'whiteout', target: name };
  const target = driver === 'fuse-overlayfs' ? fuseWhiteoutTarget(name, st.isFile()) : undefined;
  return target !== undefined ? { kind: 'whiteout', target } : { kind: 'entry' };
}

/** Whether the upper dir's directory `host` is opaque (hides what lower layers hold there). */
export async function isOpaqueDir(host: string, getXattr: (path: string, name: string) => Promise<Buffer | undefined>, driver: StorageDriverName | undefined): Promise<boolean> {
  if ((await getXattr(host, overlayOpaqueXattr()))?.toString() === 'y') return true;
  if (driver !== 'fuse-overlayfs') return false;
  if ((await getXattr(host, FUSE_OVERLAYFS_OPAQUE_XATTR))?.toString() === 'y') return true;
  return (await lstat(join(host, '.wh..wh..opq')).catch(() => undefined))?.isFile() === true;
}
