/**
 * Starting a program whose extra pipes (fd 3 and up) the caller drives itself, as conmon's exec
 * mode needs (sync, start and attach pipes). Unlike command.ts's jobs it is spawned from the
 * calling thread, because the pipes are read and written there; it runs detached (its own
 * session, not waited for) at the containers' priority, not the API thread's.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { CONTAINER_NICE, withPriority } from './thread-priority';

/** What fd 3, 4, ... are for the caller: `read` the program's output, `write` its input, or `none`. */
export type ExtraPipe = 'read' | 'write' | 'none';

export interface DetachedProcess {
  /** The caller's end of each extra pipe, in the order asked for (fd 3 first); null for `none`. */
  readonly pipes: ReadonlyArray<Readable | Writable | null>;
  /** What the program wrote on stderr so far. */
  stderr(): string;
  exitCode(): number | null;
  /** SIGKILL. */
  kill(): void;
  /** Stops reading stderr (the caller closes the pipes it was given). */
  release(): void;
}

export function spawnDetached(
  program: string,
  argv: readonly string[],
  opts: { cwd?: string; env: Readonly<Record<string, string>>; extraPipes: readonly ExtraPipe[] },
): DetachedProcess {
  const child = withPriority(CONTAINER_NICE, () =>
    spawn(program, argv, {
      cwd: opts.cwd,
      detached: true,
      env: { ...opts.env },
      stdio: ['ignore', 'ignore', 'pipe', ...opts.extraPipes.map((p) => (p === 'none' ? 'ignore' : 'pipe'))],
    }),
  );
  child.unref();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const stdio = child.stdio as unknown as Array<Readable | Writable | null | undefined>;
  return {
    pipes: opts.extraPipes.map((_, i) => stdio[3 + i] ?? null),
    stderr: () => stderr,
    exitCode: () => child.exitCode,
    kill: () => child.kill('SIGKILL'),
    release: () => child.stderr?.destroy(),
  };
}
