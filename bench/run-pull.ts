/**
 * `docker pull` of a multi-layer image from a local registry, Berth and (when installed) Debian's
 * dockerd side by side, alternating. The image (busybox plus three layers of 20 MiB of random
 * bytes, ~63 MB to download) is built in Berth, pushed once to a docker-registry on 127.0.0.1,
 * and removed before every timed pull (both daemons keep busybox, so its layer already exists).
 *
 *   node dist/bench/run-pull.js [N] [--only berth|dockerd]
 *
 * Needs root and Debian's docker-registry; everything is removed at the end.
 */
import { parseBenchArgs, runBench } from './cli';
import { pullTimes, startBenchRegistry } from './registry';
import { inSession } from './session';

const LAYERS = 3;
const LAYER_MIB = 20;

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/run-pull.js [N] [--only berth|dockerd]', 5);
  return inSession(opts.only, async (session) => {
    const registry = await startBenchRegistry(session);
    const ref = `${registry.domain}/bench/big:1`;
    // Built in Berth when it is measured, else in dockerd: the same bytes either way.
    const builder = session.daemons[0];
    let base = 'busybox';
    for (let i = 1; i <= LAYERS; i++) {
      await builder.dockerOk(['run', '--name', `layer${i}`, '--network', 'none', base, 'sh', '-c', `head -c ${LAYER_MIB * 1024 * 1024} /dev/urandom > /data${i}`], 120_000);
      base = i === LAYERS ? ref : `bench-big:${i}`;
      await builder.dockerOk(['commit', `layer${i}`, base], 300_000);
      await builder.dockerOk(['rm', `layer${i}`]);
    }
    await builder.dockerOk(['push', ref], 300_000);
    for (const d of session.daemons) {
      const rmi = ['rmi', ref, ...(d === builder ? ['bench-big:1', 'bench-big:2'] : [])];
      await d.docker(rmi, 60_000);
    }
    await pullTimes(session, ref, opts.runs, `${LAYERS} new layers of ${LAYER_MIB} MiB, base layer present`, {
      after: async (d) => {
        await d.dockerOk(['rmi', ref], 60_000);
      },
    });
  });
}

runBench(main);
