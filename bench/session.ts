/**
 * One benchmark run: the temporary directory, the host-network snapshot, the daemons, the
 * alternating measurement loop and the cleanup that runs at the end, after a failure and on
 * SIGINT/SIGTERM alike.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxTarball } from '../test/fixtures/busybox-image';
import { BerthDaemon, DockerDaemon, DOCKER_CLI, sweep, type BenchDaemon } from './daemons';
import { HostNetwork } from './host-network';

export class Session {
  readonly dir: string;
  readonly net: HostNetwork;
  readonly daemons: BenchDaemon[] = [];
  /** Per daemon: version, default runtime, storage driver and bridge, for the report. */
  readonly about = new Map<string, string>();
  /** The busybox fixture as a `docker save` tarball (OCI layout), once startDaemons built it. */
  tarball = '';
  private interrupted = false;
  /** What cleanup() stops after the daemons (a registry, say). */
  private readonly alsoStop: Array<() => Promise<void>> = [];
  private cleaning?: Promise<void>;

  /** `only`: measure just `berth` or `dockerd`; otherwise both (Berth alone without dockerd). */
  constructor(only?: string) {
    if (only !== undefined && !['berth', 'dockerd'].includes(only)) throw new Error(`--only takes berth or dockerd, not ${JSON.stringify(only)}`);
    if (process.getuid?.() !== 0) throw new Error('run the benchmark as root (the daemons need it)');
    if (!existsSync(DOCKER_CLI)) throw new Error(`the docker CLI is not at ${DOCKER_CLI}`);
    // Before any daemon exists: what the host's iptables and ip_forward look like untouched.
    this.net = new HostNetwork();
    this.dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
    try {
      if (only !== 'dockerd') this.daemons.push(new BerthDaemon(this.dir, this.net));
      if (only !== 'berth') {
        if (DockerDaemon.binary()) this.daemons.push(new DockerDaemon(this.dir, this.net));
        else console.log('dockerd is not installed (Debian: apt-get install docker.io); measuring Berth alone');
      }
      if (this.daemons.length === 0) throw new Error('dockerd is not installed, and --only dockerd asked for it alone');
    } catch (err) {
      rmSync(this.dir, { recursive: true, force: true });
      throw err;
    }

    const onSignal = (signal: NodeJS.Signals, code: number) => {
      if (this.interrupted) return;
      this.interrupted = true;
      console.error(`\n${signal}: stopping the daemons and cleaning up ${this.dir}`);
      void this.cleanup().finally(() => process.exit(code));
    };
    process.on('SIGINT', () => onSignal('SIGINT', 130));
    process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  }

  /** Throws once a signal arrived, so the main flow stops at its next step. */
  check(): void {
    if (this.interrupted) throw new Error('interrupted');
  }

  /** Builds the busybox fixture, starts every daemon and loads the image into it. */
  async startDaemons(): Promise<void> {
    console.log(`building the busybox image in ${this.dir}`);
    this.tarball = await buildBusyboxTarball({ dir: join(this.dir, 'fixture'), layout: 'oci' });
    for (const d of this.daemons) {
      this.check();
      console.log(`starting ${d.name} on ${d.socket} (default bridge ${d.bridge}, ${d.bip})`);
      await d.start();
      await d.dockerOk(['load', '-i', this.tarball]);
      const r = await d.docker(['info', '--format', '{{.ServerVersion}} runtime={{.DefaultRuntime}} storage={{.Driver}}'], 30_000);
      this.about.set(d.name, r.code === 0 ? r.stdout.trim() : '(docker info failed)');
    }
  }

  /**
   * `warmup` uncounted rounds, then `runs` counted ones; in each round every daemon measures
   * once, and the daemon that goes first switches every round.
   */
  async alternate(runs: number, warmup: number, label: string, measure: (d: BenchDaemon) => Promise<number>): Promise<Map<string, number[]>> {
    for (let i = 0; i < warmup; i++) {
      for (const d of this.daemons) {
        this.check();
        await measure(d);
      }
    }
    const samples = new Map<string, number[]>(this.daemons.map((d) => [d.name, []]));
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? this.daemons : [...this.daemons].reverse();
      for (const d of order) {
        this.check();
        samples.get(d.name)!.push(await measure(d));
      }
      process.stdout.write(`\r${label}: run ${i + 1}/${runs}`);
    }
    process.stdout.write('\n');
    return samples;
  }

  /** One figure per daemon, measured by each daemon in turn (not alternating). */
  async inTurn(measure: (d: BenchDaemon) => Promise<number>): Promise<Map<string, number>> {
    const figures = new Map<string, number>();
    for (const d of this.daemons) {
      this.check();
      figures.set(d.name, await measure(d));
    }
    return figures;
  }

  /** Has cleanup() (after a failure or a signal too) run `stop` after stopping the daemons. */
  atCleanup(stop: () => Promise<void>): void {
    this.alsoStop.push(stop);
  }

  /**
   * Stops the daemons (removing their containers and networks), kills and unmounts what they
   * left, deletes the directory, then the bridges and iptables rules. Safe to call twice,
   * concurrently too; never throws.
   */
  cleanup(): Promise<void> {
    return (this.cleaning ??= (async () => {
      for (const d of this.daemons) {
        await d.stop().catch((err: Error) => console.error(`stopping ${d.name}: ${err.message}`));
      }
      for (const stop of this.alsoStop) await stop().catch((err: Error) => console.error(`cleanup: ${err.message}`));
      await sweep(this.dir, (argv) => this.net.ownsProcess(argv)).catch((err: Error) => console.error(`cleaning ${this.dir}: ${err.message}`));
      for (const problem of this.net.cleanup()) console.error(`cleanup: ${problem}`);
    })());
  }
}

/**
 * A benchmark's whole run: a session measuring `only` (see the constructor), its daemons
 * started, `body`, then the cleanup, whatever happened. Resolves with body's exit code (0 when it
 * returns none).
 */
export async function inSession(only: string | undefined, body: (session: Session) => Promise<number | void>): Promise<number> {
  const session = new Session(only);
  try {
    await session.startDaemons();
    return (await body(session)) ?? 0;
  } finally {
    await session.cleanup();
  }
}
