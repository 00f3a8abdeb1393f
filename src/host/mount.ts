/**
 * The one adapter for mount(8) and umount(8). Callers describe a mount with a typed spec (an
 * overlay of layer directories, a bind, or a filesystem with its options); the argv is built
 * here. A failure is an ExternalCommandError whose message is the command's own, without its
 * `mount: ` / `umount: ` prefix; its stderr is kept for callers that recognise a case.
 */
import { ExternalCommandError, runCommand } from './command';
import { isMountPoint } from './mountinfo';
import { runningInUserNs } from './userns';

export { isMountPoint };

export type MountSpec =
  /** overlayfs: read-only `lowerDirs` (top-most first) under a writable upper dir. */
  | { type: 'overlay'; lowerDirs: readonly string[]; upperDir: string; workDir: string }
  /** The tree at `source` seen again at the target (`mount --bind`). */
  | { type: 'bind'; source: string }
  /** `mount -t fsType [-o options] source target` (tmpfs, nfs, a block device's filesystem...). */
  | { type: 'filesystem'; fsType: string; source: string; options: readonly string[] };

const TIMEOUT_MS = 60_000;

/** Mounts `spec` at `target` (which must exist). */
export async function mount(target: string, spec: MountSpec): Promise<void> {
  await run('mount', [...mountArgs(spec), target]);
}

export function mountArgs(spec: MountSpec): string[] {
  switch (spec.type) {
    case 'overlay':
      // In a user namespace (rootless) overlayfs keeps its metadata in user.overlay.* xattrs.
      return ['-t', 'overlay', '-o', `lowerdir=${spec.lowerDirs.join(':')},upperdir=${spec.upperDir},workdir=${spec.workDir}${runningInUserNs() ? ',userxattr' : ''}`, 'overlay'];
    case 'bind':
      return ['--bind', spec.source];
    case 'filesystem':
      return ['-t', spec.fsType, ...(spec.options.length ? ['-o', spec.options.join(',')] : []), spec.source];
  }
}

/** Makes an existing mount private: mounts made below it later never propagate to its peers. */
export async function makePrivate(target: string): Promise<void> {
  await run('mount', ['--make-private', target]);
}

/**
 * Binds `source` at `target`, then makes the new mount private so that mounts made below it
 * later (volumes of a private archive view) never propagate back to the source.
 */
export async function bindMountPrivate(source: string, target: string): Promise<void> {
  await mount(target, { type: 'bind', source });
  await makePrivate(target);
}

/**
 * `lazy`: detach now and let a straggling process finish with it; mounts below go with it.
 * Otherwise the unmount fails while the filesystem is busy (volumes check that).
 */
export async function unmount(target: string, opts: { lazy: boolean }): Promise<void> {
  await run('umount', [...(opts.lazy ? ['-l'] : []), target]);
}

async function run(program: 'mount' | 'umount', argv: string[]): Promise<void> {
  await runCommand(program, argv, { timeoutMs: TIMEOUT_MS }).catch((err: unknown) => {
    const text = err instanceof ExternalCommandError ? err.stderr.trim() || err.message : (err as Error).message;
    const message = text.replace(/^u?mount: /, '');
    if (!(err instanceof ExternalCommandError)) throw new Error(message, { cause: err });
    throw new ExternalCommandError({ program, argv, exitCode: err.exitCode, signal: err.signal, stderr: err.stderr, stdout: err.stdout, message }, { cause: err });
  });
}
