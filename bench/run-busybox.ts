/**
 * `docker run --rm --network none busybox true`, N times per daemon, Berth and (when installed)
 * Debian's dockerd side by side in one run, alternating. Prints medians, p90 and berth/dockerd.
 *
 *   node dist/bench/run-busybox.js [N] [--only berth|dockerd]
 *
 * Needs root. Every daemon runs on a temporary socket, data root and exec root with a throwaway
 * default bridge, and everything is removed at the end, also after a failure or Ctrl-C.
 */
import { parseBenchArgs, runBench } from './cli';
import { printComparison } from './report';
import { Session } from './session';

const WARMUP_RUNS = 2;
const RUN_ARGS = ['run', '--rm', '--network', 'none', 'busybox', 'true'];

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/run-busybox.js [N] [--only berth|dockerd]', 20);
  const session = new Session(opts.only);
  try {
    await session.startDaemons();
    const samples = await session.alternate(opts.runs, WARMUP_RUNS, 'run --rm', async (d) => (await d.dockerOk(RUN_ARGS, 120_000)).ms);
    printComparison(`docker ${RUN_ARGS.join(' ')}: ${opts.runs} runs per daemon after ${WARMUP_RUNS} warm-up runs, alternating`, session.daemons, samples, session.about);
    return 0;
  } finally {
    await session.cleanup();
  }
}

runBench(main);
