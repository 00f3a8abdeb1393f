/**
 * How a program Berth ran failed: the program, its argv, exit code and output, so adapters can
 * turn known stderr patterns into typed errors and log the rest. Thrown by the command runner
 * (command.ts) and by the adapters that drive a program's pipes themselves (monitor launches).
 */
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
