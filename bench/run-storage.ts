/**
 * Container storage, Berth and (when installed) Debian's dockerd side by side, alternating:
 *
 *  a. `docker cp <tree> c:/in` of a 100 MB directory tree into a created container, then
 *  b. `docker cp c:/in <dir>` of the same tree back out (the host copy is removed untimed);
 *  c. `docker run --rm --network none -v v1:/v1 -v v2:/v2 -v v3:/v3 busybox true` with three named
 *     volumes that already exist (created once, untimed).
 *
 *   node dist/bench/run-storage.js [N] [--only berth|dockerd]
 *
 * The tree: 10 directories × 10 files of 1 MB (random bytes, written once per session).
 * Times are the stock CLI's wall clock from spawn to exit. Needs root; everything is removed at
 * the end, also after a failure or Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchDaemon } from './daemons';
import { parseBenchArgs, runBench } from './cli';
import { printComparison } from './report';
import { Session } from './session';

const WARMUP_RUNS = 1;
const TREE_DIRS = 10;
const FILES_PER_DIR = 10;
const FILE_BYTES = 1024 * 1024;

/** 100 MB of incompressible files in a two-level tree. */
function writeTree(dir: string): void {
  for (let d = 0; d < TREE_DIRS; d++) {
    mkdirSync(join(dir, `d${d}`), { recursive: true });
    for (let f = 0; f < FILES_PER_DIR; f++) writeFileSync(join(dir, `d${d}`, `f${f}.bin`), randomBytes(FILE_BYTES));
  }
}

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/run-storage.js [N] [--only berth|dockerd]', 10);
  const session = new Session(opts.only);
  try {
    await session.startDaemons();
    const tree = join(session.dir, 'tree');
    writeTree(tree);
    const outDir = (d: BenchDaemon) => join(session.dir, `out-${d.name}`);
    for (const d of session.daemons) {
      await d.dockerOk(['create', '--name', 'cp-target', '--network', 'none', 'busybox', 'true']);
      for (const v of ['v1', 'v2', 'v3']) await d.dockerOk(['volume', 'create', v]);
    }

    const cpIn = await session.alternate(opts.runs, WARMUP_RUNS, 'cp in', async (d) => (await d.dockerOk(['cp', tree, 'cp-target:/in'], 300_000)).ms);
    const cpOut = await session.alternate(opts.runs, WARMUP_RUNS, 'cp out', async (d) => {
      rmSync(outDir(d), { recursive: true, force: true });
      const ms = (await d.dockerOk(['cp', 'cp-target:/in', outDir(d)], 300_000)).ms;
      rmSync(outDir(d), { recursive: true, force: true });
      return ms;
    });
    const runArgs = ['run', '--rm', '--network', 'none', '-v', 'v1:/v1', '-v', 'v2:/v2', '-v', 'v3:/v3', 'busybox', 'true'];
    const vols = await session.alternate(opts.runs * 2, WARMUP_RUNS, 'run with volumes', async (d) => (await d.dockerOk(runArgs, 120_000)).ms);

    const mb = (TREE_DIRS * FILES_PER_DIR * FILE_BYTES) / 1e6;
    printComparison(`docker cp <${mb} MB tree, ${TREE_DIRS * FILES_PER_DIR} files> c:/in: ${opts.runs} runs per daemon, alternating`, session.daemons, cpIn, session.about);
    printComparison(`docker cp c:/in <dir> (${mb} MB): ${opts.runs} runs per daemon, alternating`, session.daemons, cpOut, session.about);
    printComparison(`docker ${runArgs.join(' ')}: ${opts.runs * 2} runs per daemon, alternating`, session.daemons, vols, session.about);
    return 0;
  } finally {
    await session.cleanup();
  }
}

runBench(main);
