/**
 * A private, mount-aware view of a container's filesystem for docker cp: the container's root
 * (its running overlay bound at a private path, or, when it is not running, its overlay mounted
 * there) with its volumes and bind mounts bound at their destinations, like dockerd's
 * `container.MountVolumes` over BaseFS. tmpfs mounts are not shown (dockerd does not either).
 * Mounts made here are private: nothing propagates to the container or to the host.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { resolveInRoot } from '../../images/safe-path';
import type { MountPoint } from '../types';
import { bindMountPrivate, makePrivate, unmount } from '../../../host/mount';
import { mountRootfs } from '../rootfs';
import type { IdMap } from '../../userns/id-map';
import type { StorageDriverName } from '../../../host/overlay-driver';

export interface ArchiveRootDeps {
  /** The host directory behind a volume, or undefined when it has none (a tmpfs volume). */
  volumeDir(name: string): Promise<string | undefined>;
}

export interface RootSource {
  /** The container's own dir, where the private mount point is made. */
  containerDir: string;
  /** Mounted root of a running container; when absent, the overlay is mounted from these. */
  runningRoot?: string;
  overlay?: { upper: string; work: string; lowerDirs: string[] };
  /** userns-remap: the container's mapping, for mounting its overlay as its start does. */
  idMap?: IdMap;
  /** How the daemon mounts overlays (default overlay2). */
  driver?: StorageDriverName;
}

/** Runs `fn` with the view mounted at a private path; `withMounts` false: the root alone. */
export async function withArchiveRoot<T>(
  src: RootSource,
  mounts: readonly MountPoint[],
  deps: ArchiveRootDeps,
  fn: (root: string) => Promise<T>,
): Promise<T> {
  const root = join(src.containerDir, `archive-${randomBytes(6).toString('hex')}`);
  await mkdir(root);
  try {
    if (src.runningRoot) {
      await bindMountPrivate(src.runningRoot, root);
    } else {
      const o = src.overlay!;
      await mountRootfs({ upper: o.upper, work: o.work, merged: root }, o.lowerDirs, src.idMap, src.driver);
      await makePrivate(root);
    }
    try {
      for (const m of sortedParentsFirst(mounts)) {
        const source = m.Type === 'volume' ? await deps.volumeDir(m.Name!) : m.Type === 'bind' ? m.Source : undefined;
        if (source) await bindAt(root, m.Destination, source);
      }
      return await fn(root);
    } finally {
      await unmount(root, { lazy: true }); // detaches the volume binds below it as well
    }
  } finally {
    await rmdir(root).catch(() => undefined);
  }
}

/** The mount whose destination holds `containerPath` (the deepest one), if any. */
export function mountAt(mounts: readonly MountPoint[], containerPath: string): MountPoint | undefined {
  let best: MountPoint | undefined;
  for (const m of mounts) {
    const dest = posix.normalize(m.Destination);
    const inside = dest === '/' || containerPath === dest || containerPath.startsWith(`${dest}/`);
    if (inside && (!best || dest.length > best.Destination.length)) best = m;
  }
  return best;
}

const sortedParentsFirst = (mounts: readonly MountPoint[]) =>
  [...mounts].sort((a, b) => a.Destination.split('/').length - b.Destination.split('/').length);

/** Binds `source` over `dest` inside `root` (symlinks resolved inside the root), creating the stub. */
async function bindAt(root: string, dest: string, source: string): Promise<void> {
  const target = await resolveInRoot(root, dest, { followLast: true, scoped: true });
  const isDir = (await stat(source)).isDirectory();
  const existing = await stat(target).catch(() => undefined);
  if (!existing) {
    await mkdir(isDir ? target : dirname(target), { recursive: true });
    if (!isDir) await writeFile(target, '', { flag: 'a' });
  }
  await bindMountPrivate(source, target);
}
