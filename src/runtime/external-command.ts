/**
 * The one place Berth runs external programs (runc, crun, conmon, ...). Programs are spawned
 * without a shell from an argv array; a non-zero exit becomes an `ExternalCommandError` carrying
 * the program, its argv, exit code and stderr, so adapters can turn known stderr patterns into
 * engine errors and log the rest.
 */
import { commandThread } from './command-thread';

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

export class ExternalCommandError extends Error {
  readonly program: string;
  readonly argv: readonly string[];
  /** Exit status, or null when the program was killed by a signal or never ran. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** Some programs (CNI plugins) report errors on stdout. */
  readonly stdout: string;

  constructor(
    details: {
      program: string;
      argv: readonly string[];
      exitCode: number | null;
      signal?: NodeJS.Signals | null;
      stderr: string;
      stdout?: string;
      /** The meaningful message (e.g. the runtime's own error); defaults to a summary of stderr. */
      message?: string;
    },
    options?: { cause?: unknown },
  ) {
    super(details.message ?? summarize(details), options);
    this.name = 'ExternalCommandError';
    this.program = details.program;
    this.argv = details.argv;
    this.exitCode = details.exitCode;
    this.signal = details.signal ?? null;
    this.stderr = details.stderr;
    this.stdout = details.stdout ?? '';
  }
}

function summarize(d: { program: string; exitCode: number | null; signal?: NodeJS.Signals | null; stderr: string }): string {
  const text = d.stderr.trim();
  if (text) return text;
  if (d.signal) return `${d.program} was killed by ${d.signal}`;
  return `${d.program} exited with status ${d.exitCode}`;
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
