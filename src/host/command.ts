/**
 * The one place Berth runs external programs (runc, crun, conmon, ip, iptables, mount, ...).
 * Programs are spawned without a shell from an argv array, by the typed adapters of host/,
 * network/ and runtime/; a non-zero exit becomes an `ExternalCommandError` carrying the program,
 * its argv, exit code and stderr, so adapters can turn known stderr patterns into typed errors and
 * log the rest.
 */
import { ExternalCommandError } from './command-error';
import { commandThread } from './command-thread';
import type { JobOutcome } from './command-thread-protocol';

export { ExternalCommandError };

/** The environment external programs get unless the caller passes one (never the daemon's own). */
export const DEFAULT_COMMAND_ENV: Readonly<Record<string, string>> = Object.freeze({
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
});

export interface RunCommandOptions {
  /** Written to the program's stdin, which is then closed. Without it stdin is /dev/null. */
  input?: string | Buffer;
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** Kill the program (SIGKILL) after this many milliseconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Stop collecting stdout/stderr beyond this many bytes each (default 4 MiB). */
  maxOutputBytes?: number;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/**
 * Run `program argv...` to completion. Resolves with its output on exit 0, rejects otherwise.
 * The program is spawned from the command thread, so the fork costs the API nothing.
 */
export async function runCommand(
  program: string,
  argv: readonly string[],
  opts: RunCommandOptions = {},
): Promise<CommandResult> {
  const outcome = await commandThread.submit(
    {
      kind: 'run',
      program,
      argv: [...argv],
      env: { ...(opts.env ?? DEFAULT_COMMAND_ENV) },
      cwd: opts.cwd,
      input: opts.input,
      timeoutMs: opts.timeoutMs,
      maxOutputBytes: opts.maxOutputBytes ?? 4 * 1024 * 1024,
    },
    opts.signal,
  );
  if (outcome.kind === 'not-started') {
    // The spawn error, rebuilt on this side of the thread: callers read its errno code.
    const cause = Object.assign(new Error(outcome.message), { code: outcome.code });
    throw new ExternalCommandError({ program, argv, exitCode: null, stderr: '', message: `${program}: ${outcome.message}` }, { cause });
  }
  if (outcome.kind !== 'exited') throw new Error(`unexpected outcome ${outcome.kind} for ${program}`);
  const { code, signal, stdout, stderr, error } = outcome;
  if (code === 0 && !error) return { stdout, stderr };
  throw new ExternalCommandError({
    program,
    argv,
    exitCode: code,
    signal,
    stderr,
    stdout,
    message: error && !stderr ? `${program}: ${error}` : undefined,
  });
}

/** How a detached launch ended (`synced`, `closed` or `not-started`): see `launchDetached`. */
export type LaunchOutcome = JobOutcome;

/**
 * Start a monitor (conmon) detached, at the containers' priority, and wait for the first line it
 * writes on fd 3 (`synced`), or for it to close its pipes without one (`closed`). Aborting stops
 * the wait; the program is left to its caller's cleanup.
 */
export async function launchDetached(
  program: string,
  argv: readonly string[],
  opts: { cwd?: string; env: Readonly<Record<string, string>>; signal?: AbortSignal },
): Promise<LaunchOutcome> {
  return commandThread.submit({ kind: 'launch', program, argv: [...argv], cwd: opts.cwd, env: { ...opts.env } }, opts.signal);
}
