/**
 * The adapter for procps' `ps` (`docker top`). As in dockerd, the client's ps options are passed
 * to ps as they are, but as separate argv words of the one program, never through a shell.
 */
import { runCommand } from './command';

/** ps's whole table for `options` (e.g. `['-ef']`); a failure is an ExternalCommandError. */
export async function psTable(options: readonly string[]): Promise<string> {
  return (await runCommand('ps', options, { timeoutMs: 30_000 })).stdout;
}
