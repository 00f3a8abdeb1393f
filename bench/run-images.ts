/**
 * Getting a small image into a daemon, Berth and (when installed) Debian's dockerd side by side,
 * alternating, with the busybox fixture (test/fixtures/busybox-image.ts, one layer):
 *
 *  a. `docker load -i <busybox tarball>`, the OCI-layout tarball every benchmark loads at the
 *     start; before each load (untimed) `docker rmi busybox` removes the image and its layer.
 *  b. `docker pull` of the same image from a local registry (Debian's docker-registry on
 *     127.0.0.1): tagged and pushed once (gzipped on the push); before each pull (untimed)
 *     `docker rmi` removes the image in full, after it the image is tagged busybox again.
 *     Skipped when docker-registry is not installed.
 *
 * N runs each per daemon (default 10) after one warm-up run. Times are the CLI's wall clock from
 * spawn to exit.
 *
 *   node dist/bench/run-images.js [N] [--only berth|dockerd]
 *
 * Needs root; everything is removed at the end, also after a failure or Ctrl-C.
 */
import { parseBenchArgs, runBench } from './cli';
import type { BenchDaemon } from './daemons';
import { pullTimes, registryMissing, startBenchRegistry } from './registry';
import { printComparison } from './report';
import { inSession, Session } from './session';

/** `docker rmi <refs>`, checking that the image itself went, not only a tag. */
async function removeImage(d: BenchDaemon, refs: string[]): Promise<void> {
  const r = await d.dockerOk(['rmi', ...refs], 60_000);
  if (!/^Deleted: /m.test(r.stdout)) throw new Error(`${d.name}: docker rmi ${refs.join(' ')} deleted nothing:\n${r.stdout}`);
}

/**
 * Part a: `docker load -i` of the session's busybox tarball, `runs` per daemon after one warm-up
 * run, alternating, each after an untimed `docker rmi busybox` (no container may use it). Leaves
 * busybox loaded; prints the comparison and returns the samples.
 */
export async function loadTimes(session: Session, runs: number): Promise<Map<string, number[]>> {
  const samples = await session.alternate(runs, 1, 'load', async (d) => {
    await removeImage(d, ['busybox:latest']);
    return (await d.dockerOk(['load', '-i', session.tarball], 120_000)).ms;
  });
  printComparison(`docker load -i <busybox tarball>, after docker rmi busybox: ${runs} runs per daemon, alternating`, session.daemons, samples, session.about);
  return samples;
}

/**
 * Part b: pushes busybox to a registry the session starts (from the first daemon), then
 * `docker pull`s it, `runs` per daemon after one warm-up pull, alternating, each after an
 * untimed `docker rmi` of the image (no container may use it). Leaves busybox as it was; prints
 * the comparison and returns the samples.
 */
export async function smallPullTimes(session: Session, runs: number): Promise<Map<string, number[]>> {
  const registry = await startBenchRegistry(session);
  const ref = `${registry.domain}/bench/busybox:1`;
  await session.daemons[0].dockerOk(['tag', 'busybox:latest', ref]);
  await session.daemons[0].dockerOk(['push', ref], 120_000);
  for (const d of session.daemons) await d.dockerOk(['tag', 'busybox:latest', ref]);
  const samples = await pullTimes(session, ref, runs, 'the busybox image, one layer', {
    before: (d) => removeImage(d, ['busybox:latest', ref]),
    after: async (d) => {
      await d.dockerOk(['tag', ref, 'busybox:latest']);
    },
  });
  for (const d of session.daemons) await d.dockerOk(['rmi', ref]);
  await registry.stop();
  return samples;
}

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/run-images.js [N] [--only berth|dockerd]', 10);
  return inSession(opts.only, async (session) => {
    await loadTimes(session, opts.runs);
    const missing = registryMissing();
    if (missing) console.log(`\ndocker pull skipped: ${missing}`);
    else await smallPullTimes(session, opts.runs);
  });
}

if (require.main === module) runBench(main);
