/**
 * Living containers, Berth and (when installed) Debian's dockerd side by side, alternating:
 *
 *  a. `docker exec <c> true` in a running container, N runs (default 20);
 *  b. `docker logs <c>` of a container that wrote 200,000 lines (`seq` through `sed`), read in
 *     full to /dev/null, M runs (default 5); reported as time and lines per second.
 *
 *   node dist/bench/run-living.js [N] [--only berth|dockerd]
 *
 * Times are the stock CLI's wall clock from spawn to exit. Needs root; everything is removed at
 * the end, also after a failure or Ctrl-C.
 */
import { parseBenchArgs, runBench } from './cli';
import { printComparison } from './report';
import { inSession, Session } from './session';
import { median } from './stats';

const WARMUP_RUNS = 2;
export const LOG_LINES = 200_000;

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/run-living.js [N] [--only berth|dockerd]', 20);
  return inSession(opts.only, async (session) => {
    await startLiving(session);
    await execTimes(session, opts.runs);
    await logsTimes(session, logRunsFor(opts.runs));
  });
}

/**
 * In every daemon: `exec-target` (busybox sleeping) and `log-source`, which wrote LOG_LINES lines
 * and exited; checks the last line. Both stay until the caller removes them.
 */
export async function startLiving(session: Session): Promise<void> {
  for (const d of session.daemons) {
    session.check();
    await d.dockerOk(['run', '-d', '--name', 'exec-target', '--network', 'none', 'busybox', 'sleep', '100000']);
    await d.dockerOk(['run', '--name', 'log-source', '--network', 'none', 'busybox', 'sh', '-c', `seq 1 ${LOG_LINES} | sed 's/^/log line number /'`], 300_000);
    const check = await d.dockerOk(['logs', '--tail', '1', 'log-source']);
    if (check.stdout.trim() !== `log line number ${LOG_LINES}`) throw new Error(`${d.name}: unexpected last log line ${JSON.stringify(check.stdout)}`);
  }
}

/** Part b's run count for part a's N: a quarter, at least 3. */
export const logRunsFor = (runs: number) => Math.max(3, Math.round(runs / 4));

/** Part a: `docker exec exec-target true`, `runs` per daemon after the warm-up, alternating; prints the comparison. */
export async function execTimes(session: Session, runs: number): Promise<Map<string, number[]>> {
  const exec = await session.alternate(runs, WARMUP_RUNS, 'exec', async (d) => (await d.dockerOk(['exec', 'exec-target', 'true'])).ms);
  printComparison(`docker exec <running container> true: ${runs} runs per daemon after ${WARMUP_RUNS} warm-up runs, alternating`, session.daemons, exec, session.about);
  return exec;
}

/**
 * Part b: `docker logs log-source`, read in full (every run checks the line count), `runs` per
 * daemon after one warm-up run, alternating; prints the comparison and the lines per second.
 */
export async function logsTimes(session: Session, runs: number): Promise<Map<string, number[]>> {
  const logs = await session.alternate(runs, 1, 'logs', async (d) => {
    const r = await d.dockerOk(['logs', 'log-source'], 300_000);
    const lines = r.stdout.split('\n').length - 1;
    if (lines !== LOG_LINES) throw new Error(`${d.name}: docker logs gave ${lines} lines, not ${LOG_LINES}`);
    return r.ms;
  });
  printComparison(`docker logs <container with ${LOG_LINES} lines>: ${runs} runs per daemon, alternating`, session.daemons, logs, session.about);
  for (const [name, ms] of logs) console.log(`${name}: ${Math.round(LOG_LINES / (median(ms) / 1000)).toLocaleString('en-US')} lines/s (median)`);
  return logs;
}

if (require.main === module) runBench(main);
