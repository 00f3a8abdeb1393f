/**
 * `docker run --rm --network none busybox true`, N times per daemon, Berth and (when installed)
 * Debian's dockerd side by side in one run, alternating. Prints medians, p90 and berth/dockerd.
 *
 *   node dist/bench/run-busybox.js [N] [--only berth|dockerd]
 *
 * Needs root. Every daemon runs on a temporary socket, data root and exec root with a throwaway
 * default bridge, and everything is removed at the end, also after a failure or Ctrl-C.
 */
import { printComparison } from './report';
import { Session } from './session';

const WARMUP_RUNS = 2;
const RUN_ARGS = ['run', '--rm', '--network', 'none', 'busybox', 'true'];

interface Options {
  runs: number;
  only?: string;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { runs: 20 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') opts.only = argv[++i];
    else if (/^\d+$/.test(a) && Number(a) > 0) opts.runs = Number(a);
    else throw new Error(`usage: node dist/bench/run-busybox.js [N] [--only berth|dockerd] (got ${JSON.stringify(a)})`);
  }
  return opts;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
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

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`benchmark failed: ${err.message}`);
    process.exit(1);
  },
);
