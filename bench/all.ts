/**
 * Every figure of issue 13 in one run, Berth and (when installed) Debian's dockerd side by side,
 * each daemon started once, ending with one table: metric | berth | dockerd | berth/dockerd |
 * better when. Each figure comes from the function of the benchmark that measures it alone
 * (run-busybox, run-engine, run-exit, run-living, run-images), with N runs where a figure is a
 * median (default 10; logs: a quarter of N, at least 3).
 *
 *   node dist/bench/all.js [N] [--runs N] [--only berth|dockerd]
 *
 * Needs root (`npm run bench` builds and runs it). A metric that fails is reported and left out
 * of the table (`-`), and the exit code is 1; everything is removed at the end, also after a
 * failure or Ctrl-C.
 */
import { parseBenchArgs, runBench } from './cli';
import { removeAll, rssFigure } from './engine-api';
import { printFigures, type FigureRow } from './report';
import { registryMissing } from './registry';
import { runRmTimes } from './run-busybox';
import { lifecycleTimes, parallelRate, pingRate, psTimes, RUNNING } from './run-engine';
import { exitNoticeTimes } from './run-exit';
import { loadTimes, smallPullTimes } from './run-images';
import { execTimes, LOG_LINES, logRunsFor, logsTimes, startLiving } from './run-living';
import { inSession, type Session } from './session';
import { median } from './stats';

/** The table's rows in the order; `better` is the direction in which a figure is better. */
const METRICS = {
  runBridge: { metric: 'docker run --rm busybox true, default bridge (ms)', better: 'lower' },
  runNone: { metric: 'docker run --rm --network none busybox true (ms)', better: 'lower' },
  lifecycle: { metric: 'create/start/wait/stop/rm over the API (ms)', better: 'lower' },
  exitNoticed: { metric: 'exit noticed: process end to wait answer (ms)', better: 'lower' },
  exec: { metric: 'docker exec c true (ms)', better: 'lower' },
  ping: { metric: 'GET /_ping, 8 connections (requests/s)', better: 'higher' },
  ps: { metric: `docker ps, ${RUNNING} running (ms)`, better: 'lower' },
  logs: { metric: `docker logs, ${LOG_LINES / 1000}k lines (ms)`, better: 'lower' },
  load: { metric: 'docker load, busybox (ms)', better: 'lower' },
  pull: { metric: 'docker pull, busybox, local registry (ms)', better: 'lower' },
  parallel: { metric: 'parallel runs, 4 clients (runs/s)', better: 'higher' },
  rssFresh: { metric: 'daemon RSS idle, fresh start (MB)', better: 'lower' },
  rssRunning: { metric: `daemon RSS, ${RUNNING} running (MB)`, better: 'lower' },
} as const satisfies Record<string, Omit<FigureRow, 'values'>>;

type Key = keyof typeof METRICS;

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/all.js [N] [--runs N] [--only berth|dockerd]', 10);
  const runs = opts.runs;
  const started = performance.now();
  return inSession(opts.only, async (session) => {
    const values = new Map<Key, Map<string, number>>();
    const failed: string[] = [];
    /** Runs one step; a failure is reported and the run goes on (a signal still ends it). */
    const step = async (what: string, work: () => Promise<void>) => {
      session.check();
      try {
        await work();
      } catch (err) {
        session.check();
        failed.push(what);
        console.error(`\n${what} failed: ${(err as Error).message}`);
      }
    };
    /** One figure per daemon for the table's row `key`. */
    const measure = (key: Key, work: () => Promise<Map<string, number>>) =>
      step(METRICS[key].metric, async () => {
        values.set(key, await work());
      });
    const medians = (samples: Map<string, number[]>) => new Map([...samples].map(([name, s]) => [name, median(s)]));

    await measure('rssFresh', () => session.inTurn(rssFigure));
    await measure('runBridge', async () => medians(await runRmTimes(session, runs)));
    await measure('runNone', async () => medians(await runRmTimes(session, runs, 'none')));
    await measure('lifecycle', async () => medians(await lifecycleTimes(session, runs)));
    await measure('exitNoticed', async () => medians(await exitNoticeTimes(session, runs)));
    await measure('ping', () => session.inTurn(pingRate));
    await measure('parallel', () => session.inTurn(parallelRate));
    // No container may use busybox while load and pull remove it.
    await measure('load', async () => medians(await loadTimes(session, runs)));
    const missing = registryMissing();
    if (missing) console.log(`\ndocker pull skipped: ${missing}`);
    else await measure('pull', async () => medians(await smallPullTimes(session, runs)));
    await step('exec and logs', async () => {
      await startLiving(session);
      values.set('exec', medians(await execTimes(session, runs)));
      values.set('logs', medians(await logsTimes(session, logRunsFor(runs))));
    });
    await step('removing the containers', () => removeEach(session));
    await step(`docker ps and memory with ${RUNNING} running`, async () => {
      values.set('ps', medians(await psTimes(session, runs)));
      values.set('rssRunning', await session.inTurn(rssFigure));
    });
    await step('removing the containers', () => removeEach(session));

    console.log(`\nall figures, ${runs} runs per median (logs: ${logRunsFor(runs)}), in ${Math.round((performance.now() - started) / 1000)} s:`);
    for (const d of session.daemons) console.log(`  ${d.name}: ${session.about.get(d.name) ?? ''}`);
    const rows = (Object.keys(METRICS) as Key[]).map((k) => ({ ...METRICS[k], values: values.get(k) ?? new Map<string, number>() }));
    printFigures(session.daemons, rows);
    if (failed.length) console.log(`failed: ${failed.join('; ')}`);
    return failed.length ? 1 : 0;
  });
}

async function removeEach(session: Session): Promise<void> {
  for (const d of session.daemons) await removeAll(d);
}

runBench(main);
