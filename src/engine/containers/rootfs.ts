/**
 * A container's root filesystem: an overlayfs mount of the image's layers (read-only lower
 * dirs) under a per-container upper dir, mounted through host/overlay-driver.ts; under a userns-remap
 * mapping through host/idmapped-overlay.ts (the layers idmapped, the upper holding host ids).
 */
import { chown, mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { mountIdmappedOverlay } from '../../host/idmapped-overlay';
import { isMountPoint, unmount } from '../../host/mount';
import { mountOverlay, type StorageDriverName } from '../../host/overlay-driver';
import { hostRoot, type IdMap } from '../userns/id-map';

export interface RootfsPaths {
  upper: string;
  work: string;
  merged: string;
}

export function rootfsPaths(containerDir: string): RootfsPaths {
  return { upper: join(containerDir, 'upper'), work: join(containerDir, 'work'), merged: join(containerDir, 'merged') };
}

/**
 * Mounts the overlay at `merged`; `lowerDirs` are top-most first. Idempotent. With `idMap`
 * (userns-remap) the layers are seen through that mapping and the upper dir holds host ids.
 * `driver` fuse-overlayfs: a rootless daemon's fallback (host/overlay-driver.ts); never remapped.
 */
export async function mountRootfs(paths: RootfsPaths, lowerDirs: string[], idMap?: IdMap, driver: StorageDriverName = 'overlay2'): Promise<void> {
  await Promise.all([mkdir(paths.upper, { recursive: true }), mkdir(paths.work, { recursive: true }), mkdir(paths.merged, { recursive: true })]);
  if (await isMountPoint(paths.merged)) return;
  if (!idMap) {
    await mountOverlay(paths.merged, { lowerDirs, upperDir: paths.upper, workDir: paths.work }, driver);
    return;
  }
  // The merged root takes its owner from the upper's root: the container's root must own it.
  const root = hostRoot(idMap);
  await chown(paths.upper, root.uid, root.gid);
  const scratchDir = join(dirname(paths.work), `${basename(paths.merged)}-layers`);
  await mountIdmappedOverlay(paths.merged, { lowerDirs, upperDir: paths.upper, workDir: paths.work, scratchDir }, idMap);
}

/** Unmounts if mounted (lazy, so a straggling process cannot keep it busy). */
export async function unmountRootfs(paths: RootfsPaths): Promise<void> {
  if (!(await isMountPoint(paths.merged))) return;
  await unmount(paths.merged, { lazy: true });
}
