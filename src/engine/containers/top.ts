/**
 * `docker top`: the host's `ps` (host/ps.ts) with the client's arguments (default `-ef`),
 * keeping the rows of the container's processes, parsed as dockerd does
 * (`[moby] daemon/top_unix.go`): titles from the header, the last column taking the rest of the line.
 */
import { ExternalCommandError } from '../../host/command-error';
import { psTable } from '../../host/ps';

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

export async function containerTop(pids: readonly number[], psArgs = '-ef'): Promise<TopResult> {
  const args = psArgs.trim().split(/\s+/).filter(Boolean);
  let out: string;
  try {
    out = await psTable(args);
  } catch (err) {
    const text = err instanceof ExternalCommandError ? `${err.message}: ${err.stderr.trim()}` : (err as Error).message;
    throw new Error(`Error running ps: ${text}`, { cause: err });
  }
  return parsePs(out, new Set(pids));
}

export function parsePs(out: string, pids: ReadonlySet<number>): TopResult {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const Titles = (lines.shift() ?? '').trim().split(/\s+/);
  const pidIndex = Titles.indexOf('PID');
  if (pidIndex < 0) throw new Error("Couldn't find PID field in ps output");
  const Processes: string[][] = [];
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    if (!pids.has(Number(fields[pidIndex]))) continue;
    const row = fields.slice(0, Titles.length - 1);
    row.push(fields.slice(Titles.length - 1).join(' '));
    Processes.push(row);
  }
  return { Titles, Processes };
}
