/**
 * Rootful against remapped against rootless: `docker run --rm [--network none] busybox true`
 * through three Berth daemons from this checkout, alternating: a plain one, one started with
 * `--userns-remap <user>` (containers in a user namespace, layers idmapped), and a rootless one
 * run by an ordinary user (berthd inside rootlesskit, slirp4netns). Prints medians and the ratios
 * to the rootful daemon.
 *
 *   node dist/bench/userns.js [N] [--bridge 1]
 *
 * Needs root: it creates the users (each with its own subordinate id range) and removes them at
 * the end, with everything else the daemons left.
 */
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BerthDaemon, berthdLaunch, BERTHD } from './daemons';
import { parseBenchArgs, runBench } from './cli';
import type { HostNetwork } from './host-network';
import { printComparison } from './report';
import { Session } from './session';
import { median } from './stats';
import { createSubidUser, removeSubidUser, type SubidUser } from '../test/fixtures/subid-user';

const WARMUP_RUNS = 2;

/**
 * Berth as an ordinary user, laid out as a rootless daemon lays itself out: the socket in its
 * runtime dir (the bench's daemon dir, owned by the user), data under its home.
 */
class RootlessBerthDaemon extends BerthDaemon {
  constructor(dir: string, net: HostNetwork, private readonly user: SubidUser) {
    super(dir, net, 'rootless', [], 'berth.sock');
    chownSync(dir, user.uid, user.gid);
    mkdirSync(join(dir, 'home'), { recursive: true });
    chownSync(join(dir, 'home'), user.uid, user.gid);
  }

  protected command(): [string, string[], NodeJS.ProcessEnv] {
    const launch = berthdLaunch();
    const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: join(this.dir, 'home'), XDG_RUNTIME_DIR: this.dir, ...launch.env };
    return ['setpriv', [`--reuid=${this.user.uid}`, `--regid=${this.user.gid}`, '--init-groups', process.execPath, ...launch.nodeArgs, BERTHD], env];
  }
}

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/userns.js [N] [--bridge 1]', 20, { bridge: 0 });
  const session = new Session('berth');
  try {
    // The rootless daemon's user must reach its dir below the session's.
    chmodSync(session.dir, 0o711);
    const remapUser = createSubidUser('berth-bench-remap');
    session.atCleanup(async () => removeSubidUser(remapUser));
    const rootlessUser = createSubidUser('berth-bench-rl');
    session.atCleanup(async () => removeSubidUser(rootlessUser));
    session.daemons.push(new BerthDaemon(join(session.dir, 'remapped'), session.net, 'remapped', ['--userns-remap', remapUser.name]));
    session.daemons.push(new RootlessBerthDaemon(join(session.dir, 'rootless'), session.net, rootlessUser));
    await session.startDaemons();
    const runArgs = ['run', '--rm', ...(opts.counts.bridge ? [] : ['--network', 'none']), 'busybox', 'true'];
    const samples = await session.alternate(opts.runs, WARMUP_RUNS, runArgs.slice(0, -2).join(' '), async (d) => (await d.dockerOk(runArgs, 120_000)).ms);
    printComparison(`docker ${runArgs.join(' ')}: ${opts.runs} runs per daemon after ${WARMUP_RUNS} warm-up runs, alternating`, session.daemons, samples, session.about);
    const base = median(samples.get('berth') ?? []);
    for (const name of ['remapped', 'rootless']) console.log(`ratio ${name}/rootful: median ${(median(samples.get(name) ?? []) / base).toFixed(2)}`);
    return 0;
  } finally {
    await session.cleanup();
  }
}

if (require.main === module) runBench(main);
