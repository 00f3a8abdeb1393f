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
import { Session } from './session';

const WARMUP_RUNS = 2;
const LOG_LINES = 200_000;

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/run-living.js [N] [--only berth|dockerd]', 20);
  const session = new Session(opts.only);
  try {
    await session.startDaemons();
    for (const d of session.daemons) {
      await d.dockerOk(['run', '-d', '--name', 'exec-target', '--network', 'none', 'busybox', 'sleep', '100000']);
      await d.dockerOk(['run', '--name', 'log-source', '--network', 'none', 'busybox', 'sh', '-c', `seq 1 ${LOG_LINES} | sed 's/^/log line number /'`], 300_000);
      const check = await d.dockerOk(['logs', '--tail', '1', 'log-source']);
      if (check.stdout.trim() !== `log line number ${LOG_LINES}`) throw new Error(`${d.name}: unexpected last log line ${JSON.stringify(check.stdout)}`);
    }
    const exec = await session.alternate(opts.runs, WARMUP_RUNS, 'exec', async (d) => (await d.dockerOk(['exec', 'exec-target', 'true'])).ms);
    const logRuns = Math.max(3, Math.round(opts.runs / 4));
    const logs = await session.alternate(logRuns, 1, 'logs', async (d) => {
      const r = await d.dockerOk(['logs', 'log-source'], 300_000);
      const lines = r.stdout.split('\n').length - 1;
      if (lines !== LOG_LINES) throw new Error(`${d.name}: docker logs gave ${lines} lines, not ${LOG_LINES}`);
      return r.ms;
    });
    printComparison(`docker exec <running container> true: ${opts.runs} runs per daemon after ${WARMUP_RUNS} warm-up runs, alternating`, session.daemons, exec, session.about);
    printComparison(`docker logs <container with ${LOG_LINES} lines>: ${logRuns} runs per daemon, alternating`, session.daemons, logs, session.about);
    for (const [name, ms] of logs) {
      const sorted = [...ms].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)];
      console.log(`${name}: ${Math.round(LOG_LINES / (median / 1000)).toLocaleString('en-US')} lines/s (median)`);
    }
    return 0;
  } finally {
    await session.cleanup();
  }
}

runBench(main);
