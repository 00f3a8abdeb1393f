/** Messages between command-thread.ts and its worker (command-thread-worker.ts). */

export type CommandJob =
  | {
      kind: 'run';
      program: string;
      argv: readonly string[];
      env: Record<string, string>;
      cwd?: string;
      input?: string | Buffer;
      timeoutMs?: number;
      maxOutputBytes: number;
    }
  | { kind: 'launch'; program: string; argv: readonly string[]; env: Record<string, string>; cwd?: string };

export type JobOutcome =
  /** The program could not be started (ENOENT, EACCES, bad cwd). */
  | { kind: 'not-started'; message: string; code?: string }
  /** A `run` job's program ended; `error` is set when it was aborted or its spawn failed late. */
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; error?: string }
  /** A `launch` job's first line on fd 3. */
  | { kind: 'synced'; line: string; stderr: string }
  /** A `launch` job's program closed its pipes without a line on fd 3. */
  | { kind: 'closed'; code: number | null; stderr: string };

export type ToWorker = { type: 'job'; id: number; job: CommandJob } | { type: 'abort'; id: number };

export interface FromWorker {
  id: number;
  outcome: JobOutcome;
}
