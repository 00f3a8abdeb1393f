/**
 * `docker run --rm --network none busybox true`, N times per daemon, Berth and (when installed)
 * Debian's dockerd side by side in one run, alternating. Prints medians, p90 and berth/dockerd.
 *
 *   node dist/bench/run-busybox.js [N] [--only berth|dockerd] [--bridge 1]
 *
 * `--bridge 1` runs on the default bridge instead (`docker run --rm busybox true`).
 *
 * Needs root. Every daemon runs on a temporary socket, data root and exec root with a throwaway
 * default bridge, and everything is removed at the end, also after a failure or Ctrl-C.
 */
import { parseBenchArgs, runBench } from './cli';
import { printComparison } from './report';
import { inSession, Session } from './session';

const WARMUP_RUNS = 2;

/**
 * `docker run --rm [--network <network>] busybox true` (no `network`: the default bridge), the
 * CLI's wall clock from spawn to exit; `runs` per daemon after the warm-up, alternating. Prints
 * the comparison and returns the samples.
 */
export async function runRmTimes(session: Session, runs: number, network?: string): Promise<Map<string, number[]>> {
  const runArgs = ['run', '--rm', ...(network === undefined ? [] : ['--network', network]), 'busybox', 'true'];
  const samples = await session.alternate(runs, WARMUP_RUNS, runArgs.slice(0, -2).join(' '), async (d) => (await d.dockerOk(runArgs, 120_000)).ms);
  printComparison(`docker ${runArgs.join(' ')}: ${runs} runs per daemon after ${WARMUP_RUNS} warm-up runs, alternating`, session.daemons, samples, session.about);
  return samples;
}

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/run-busybox.js [N] [--only berth|dockerd] [--bridge 1]', 20, { bridge: 0 });
  return inSession(opts.only, async (session) => void (await runRmTimes(session, opts.runs, opts.counts.bridge ? undefined : 'none')));
}

if (require.main === module) runBench(main);
