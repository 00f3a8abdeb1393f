import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unescapeMountinfo } from '../../runtime/cgroups';
import { ExternalCommandError, runCommand } from '../../host/command';

/** mount(8)/umount(8); a failure carries the command's own message (without its `mount: `). */
async function run(cmd: 'mount' | 'umount', args: string[]): Promise<void> {
  await runCommand(cmd, args, { timeoutMs: 60_000 }).catch((err: unknown) => {
    const text = err instanceof ExternalCommandError ? err.stderr.trim() || err.message : (err as Error).message;
    throw new Error(text.replace(/^u?mount: /, ''), { cause: err });
  });
}

/**
 * A container's root filesystem: an overlayfs mount of the image's layers (read-only lower
 * dirs) under a per-container upper dir. This module is the engine's one adapter for
 * mount/umount (volumes use it too).
 */
export interface RootfsPaths {
  upper: string;
  work: string;
  merged: string;
}

export function rootfsPaths(containerDir: string): RootfsPaths {
  return { upper: join(containerDir, 'upper'), work: join(containerDir, 'work'), merged: join(containerDir, 'merged') };
}

export async function isMounted(target: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  return mounts.split('\n').some((line) => unescapeMountinfo(line.split(' ')[4] ?? '') === target);
}

/** Mounts the overlay at `merged`; `lowerDirs` are top-most first. Idempotent. */
export async function mountRootfs(paths: RootfsPaths, lowerDirs: string[]): Promise<void> {
  await Promise.all([mkdir(paths.upper, { recursive: true }), mkdir(paths.work, { recursive: true }), mkdir(paths.merged, { recursive: true })]);
  if (await isMounted(paths.merged)) return;
  const options = `lowerdir=${lowerDirs.join(':')},upperdir=${paths.upper},workdir=${paths.work}`;
  await run('mount', ['-t', 'overlay', 'overlay', '-o', options, paths.merged]);
}

/** Unmounts if mounted (lazy, so a straggling process cannot keep it busy). */
export async function unmountRootfs(paths: RootfsPaths): Promise<void> {
  if (!(await isMounted(paths.merged))) return;
  await unmount(paths.merged);
}

/** `mount -t type -o options source target` (volumes with a device option). */
export async function mountFilesystem(type: string, source: string, target: string, options: string[]): Promise<void> {
  await run('mount', ['-t', type, ...(options.length ? ['-o', options.join(',')] : []), source, target]);
}

/** Lazy unmount: a straggling process cannot keep it busy; mounts below go with it. */
export async function unmount(target: string): Promise<void> {
  await run('umount', ['-l', target]);
}

/** Plain unmount: fails while the filesystem is busy (volumes check that). */
export async function unmountNow(target: string): Promise<void> {
  await run('umount', [target]);
}

/**
 * Binds `source` at `target`, then makes the new mount private so that mounts made below it
 * later (volumes of a private archive view) never propagate back to the source.
 */
export async function bindMountPrivate(source: string, target: string): Promise<void> {
  await run('mount', ['--bind', source, target]);
  await run('mount', ['--make-private', target]);
}

/** Makes an existing mount private (see bindMountPrivate). */
export async function makePrivate(target: string): Promise<void> {
  await run('mount', ['--make-private', target]);
}
