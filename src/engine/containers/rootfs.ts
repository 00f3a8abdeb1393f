/**
 * A container's root filesystem: an overlayfs mount of the image's layers (read-only lower
 * dirs) under a per-container upper dir, mounted through host/mount.ts.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isMountPoint, mount, unmount } from '../../host/mount';
import type { IdMap } from '../userns/id-map';

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
 */
export async function mountRootfs(paths: RootfsPaths, lowerDirs: string[], _idMap?: IdMap): Promise<void> {
  await Promise.all([mkdir(paths.upper, { recursive: true }), mkdir(paths.work, { recursive: true }), mkdir(paths.merged, { recursive: true })]);
  if (await isMountPoint(paths.merged)) return;
  await mount(paths.merged, { type: 'overlay', lowerDirs, upperDir: paths.upper, workDir: paths.work });
}

/** Unmounts if mounted (lazy, so a straggling process cannot keep it busy). */
export async function unmountRootfs(paths: RootfsPaths): Promise<void> {
  if (!(await isMountPoint(paths.merged))) return;
  await unmount(paths.merged, { lazy: true });
}
