/**
 * The two ways a container's rootfs overlay is mounted: kernel overlayfs (`overlay2`, through
 * mount(8), see mount.ts) or fuse-overlayfs, the FUSE implementation a rootless daemon falls
 * back to where overlayfs cannot be mounted in its user namespace (dockerd rootless's
 * `--storage-driver fuse-overlayfs`). Both unmount with umount(8); fuse-overlayfs then exits.
 *
 * fuse-overlayfs reads kernel overlayfs's marks in lower dirs (`trusted.overlay.opaque`,
 * `user.overlay.opaque`, char device 0:0 whiteouts), so layers are extracted the same way for
 * both. In the upper dir it writes its own: see FUSE_OVERLAYFS_OPAQUE_XATTR and fuseWhiteoutTarget.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExternalCommandError, runCommand } from './command';
import { mount, unmount, type MountSpec } from './mount';

export const STORAGE_DRIVERS = ['overlay2', 'fuse-overlayfs'] as const;
export type StorageDriverName = (typeof STORAGE_DRIVERS)[number];

export type OverlaySpec = Omit<Extract<MountSpec, { type: 'overlay' }>, 'type'>;

const FUSE_OVERLAYFS = '/usr/bin/fuse-overlayfs';
const TIMEOUT_MS = 60_000;

/** fuse-overlayfs's own opaque mark, written on a directory made over a deleted lower one. */
export const FUSE_OVERLAYFS_OPAQUE_XATTR = 'user.fuseoverlayfs.opaque';

/** Mounts the overlay `spec` at `target` (which must exist) with `driver`. */
export async function mountOverlay(target: string, spec: OverlaySpec, driver: StorageDriverName): Promise<void> {
  if (driver === 'overlay2') return mount(target, { type: 'overlay', ...spec });
  const options = `lowerdir=${spec.lowerDirs.join(':')},upperdir=${spec.upperDir},workdir=${spec.workDir}`;
  // It forks into the background once the mount is made and exits when it is unmounted.
  await runCommand(fuseOverlayfsPath(), ['-o', options, target], { timeoutMs: TIMEOUT_MS }).catch((err: unknown) => {
    const text = err instanceof ExternalCommandError ? fuseErrors(err.stderr) || err.message : (err as Error).message;
    throw new Error(`fuse-overlayfs: ${text}`, { cause: err });
  });
}

/** stderr without fuse-overlayfs's notice about mount options it ignores. */
function fuseErrors(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('unknown argument ignored'))
    .join('; ');
}

/** The fuse-overlayfs binary, or undefined when it is not installed. */
export function fuseOverlayfsInstalled(): string | undefined {
  for (const p of [FUSE_OVERLAYFS, '/usr/local/bin/fuse-overlayfs']) if (existsSync(p)) return p;
  return undefined;
}

function fuseOverlayfsPath(): string {
  return fuseOverlayfsInstalled() ?? 'fuse-overlayfs';
}

/**
 * Mounts a one-file overlay under `dir` with `driver` and unmounts it: the error message when
 * that driver cannot work here, undefined when it can. `dir` is removed afterwards.
 */
export async function probeOverlay(dir: string, driver: StorageDriverName): Promise<string | undefined> {
  await rm(dir, { recursive: true, force: true });
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => join(dir, d));
  try {
    await Promise.all([lower, upper, work, merged].map((d) => mkdir(d, { recursive: true })));
    await writeFile(join(lower, 'probe'), 'probe\n');
    try {
      await mountOverlay(merged, { lowerDirs: [lower], upperDir: upper, workDir: work }, driver);
    } catch (err) {
      return (err as Error).message;
    }
    await unmount(merged, { lazy: true });
    return undefined;
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * A fuse-overlayfs upper dir's whiteout where it cannot make a char device 0:0: an empty
 * regular file `.wh.<name>`. Returns `<name>` for such an entry, undefined for any other.
 * `.wh..wh..opq` (its opaque marker file) is no whiteout: see isFuseOverlayfsMarker.
 */
export function fuseWhiteoutTarget(name: string, isFile: boolean): string | undefined {
  if (!isFile || !name.startsWith('.wh.') || name.startsWith('.wh..wh.')) return undefined;
  return name.slice('.wh.'.length);
}

/**
 * Entries fuse-overlayfs keeps in an upper dir for itself, never container files: the opaque
 * marker `.wh..wh..opq` (beside the xattr) and a whiteout hiding it from lower layers
 * (`.wh..opq`, seen in 1.10). A container cannot make a `.wh.` name (layers forbid it).
 */
export function isFuseOverlayfsMarker(name: string): boolean {
  return name === '.wh..wh..opq' || name === '.wh..opq';
}
