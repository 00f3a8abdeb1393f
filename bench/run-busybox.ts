/**
 * `docker run --rm --network none busybox true`, N times per daemon, Berth and (when installed)
 * Debian's dockerd side by side in one run, alternating. Prints medians, p90 and berth/dockerd.
 *
 *   node dist/bench/run-busybox.js [N] [--only berth|dockerd]
 *
 * Needs root. Every daemon runs on a temporary socket, data root and exec root, and everything is
 * removed at the end, also after a failure or Ctrl-C.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxTarball } from '../test/fixtures/busybox-image';
import { BerthDaemon, DockerDaemon, DOCKER_CLI, sweep, type BenchDaemon } from './daemons';
import { ms, ratio, summarize, type Summary } from './stats';

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
  if (opts.only !== undefined && !['berth', 'dockerd'].includes(opts.only)) throw new Error(`--only takes berth or dockerd, not ${JSON.stringify(opts.only)}`);
  return opts;
}

/** Stops the daemons, then sweeps the directory; safe to call twice, concurrently too. */
function makeCleanup(dir: string, daemons: BenchDaemon[]): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () =>
    (done ??= (async () => {
      for (const d of daemons) {
        await d.stop().catch((err: Error) => console.error(`stopping ${d.name}: ${err.message}`));
      }
      await sweep(dir).catch((err: Error) => console.error(`cleaning ${dir}: ${err.message}`));
    })());
}

async function describeDaemon(d: BenchDaemon): Promise<string> {
  const r = await d.docker(['info', '--format', '{{.ServerVersion}} runtime={{.DefaultRuntime}} storage={{.Driver}}'], 30_000);
  return r.code === 0 ? r.stdout.trim() : '(docker info failed)';
}

async function timedRun(d: BenchDaemon): Promise<number> {
  const r = await d.dockerOk(RUN_ARGS, 120_000);
  return r.ms;
}

function report(opts: Options, daemons: BenchDaemon[], samples: Map<string, number[]>, about: Map<string, string>): void {
  const rows = daemons.map((d) => ({ d, s: summarize(samples.get(d.name)!) }));
  console.log(`\ndocker ${RUN_ARGS.join(' ')}: ${opts.runs} runs per daemon after ${WARMUP_RUNS} warm-up runs, alternating`);
  console.log(`${'daemon'.padEnd(8)} ${'median ms'.padStart(10)} ${'p90 ms'.padStart(10)} ${'min ms'.padStart(10)} ${'max ms'.padStart(10)}  version`);
  for (const { d, s } of rows) {
    console.log(`${d.name.padEnd(8)} ${ms(s.median).padStart(10)} ${ms(s.p90).padStart(10)} ${ms(s.min).padStart(10)} ${ms(s.max).padStart(10)}  ${about.get(d.name)}`);
  }
  const berth = rows.find((r) => r.d.name === 'berth')?.s;
  const docker = rows.find((r) => r.d.name === 'dockerd')?.s;
  if (berth && docker) console.log(ratioLine(berth, docker));
}

function ratioLine(berth: Summary, docker: Summary): string {
  return `ratio berth/dockerd: median ${ratio(berth.median, docker.median)}, p90 ${ratio(berth.p90, docker.p90)} (below 1: Berth is faster)`;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('run the benchmark as root (the daemons need it)');
  if (!existsSync(DOCKER_CLI)) throw new Error(`the docker CLI is not at ${DOCKER_CLI}`);

  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  const daemons: BenchDaemon[] = [];
  if (opts.only !== 'dockerd') daemons.push(new BerthDaemon(dir));
  if (opts.only !== 'berth') {
    if (DockerDaemon.binary()) daemons.push(new DockerDaemon(dir));
    else console.log('dockerd is not installed (Debian: apt-get install docker.io); measuring Berth alone');
  }
  if (daemons.length === 0) throw new Error('dockerd is not installed, and --only dockerd asked for it alone');

  const cleanup = makeCleanup(dir, daemons);
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping the daemons and cleaning ${dir}`);
    void cleanup().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  const check = () => {
    if (interrupted) throw new Error('interrupted');
  };

  try {
    console.log(`building the busybox image in ${dir}`);
    const tarball = await buildBusyboxTarball({ dir: join(dir, 'fixture'), layout: 'oci' });
    const about = new Map<string, string>();
    for (const d of daemons) {
      check();
      console.log(`starting ${d.name} on ${d.socket}`);
      await d.start();
      await d.dockerOk(['load', '-i', tarball]);
      about.set(d.name, await describeDaemon(d));
    }

    for (let i = 0; i < WARMUP_RUNS; i++) {
      for (const d of daemons) {
        check();
        await timedRun(d);
      }
    }

    const samples = new Map<string, number[]>(daemons.map((d) => [d.name, []]));
    for (let i = 0; i < opts.runs; i++) {
      // Alternate which daemon goes first, so neither always runs right after the other.
      const order = i % 2 === 0 ? daemons : [...daemons].reverse();
      for (const d of order) {
        check();
        samples.get(d.name)!.push(await timedRun(d));
      }
      process.stdout.write(`\rrun ${i + 1}/${opts.runs}`);
    }
    process.stdout.write('\n');
    report(opts, daemons, samples, about);
    return 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`benchmark failed: ${err.message}`);
    process.exit(1);
  },
);
