/**
 * The daemons a benchmark compares, each started on its own temporary socket, data root and exec
 * root and with its own throwaway default bridge, and the cleanup that leaves nothing behind
 * (processes, mounts, files; bridges and iptables rules are host-network.ts's part) whatever
 * happened.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import type { HostNetwork } from './host-network';
import type { EventLoopDelay } from '../src/event-loop-delay';

export const DOCKER_CLI = '/usr/local/bin/docker';
/** Debian's docker.io installs dockerd in /usr/sbin; other packagings use /usr/bin. */
const DOCKERD_CANDIDATES = ['/usr/bin/dockerd', '/usr/sbin/dockerd'];
const CONTAINERD = '/usr/bin/containerd';
/** Compiled to dist/bench/, so the repository root is two levels up. */
const REPO = resolve(__dirname, '..', '..');
export const BERTHD = join(REPO, 'bin', 'berthd');

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock time from spawn to exit. */
  ms: number;
}

/** A background process with its output in a log file. */
class Background {
  private proc?: ChildProcess;

  constructor(
    private readonly cmd: string,
    private readonly args: string[],
    readonly logFile: string,
    private readonly env?: NodeJS.ProcessEnv,
  ) {}

  start(): void {
    const fd = openSync(this.logFile, 'a');
    // Own process group: a Ctrl-C at the terminal reaches us, and we stop daemons in order.
    this.proc = spawn(this.cmd, this.args, { stdio: ['ignore', fd, fd], detached: true, env: this.env });
    closeSync(fd);
  }

  get pid(): number | undefined {
    return this.running ? this.proc?.pid : undefined;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves with a message when the process exits; used to fail fast during start-up. */
  exited(): Promise<string> {
    const p = this.proc!;
    if (!this.running) return Promise.resolve(`exited with ${p.exitCode ?? p.signalCode}`);
    return new Promise((resolve) => p.once('exit', (code, signal) => resolve(`exited with ${code ?? signal}`)));
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    const p = this.proc;
    if (!p || !this.running) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  logTail(lines = 40): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n') : '';
  }
}

/**
 * One daemon under test, driven by the stock docker CLI through DOCKER_HOST. Its default bridge
 * is a throwaway device (`bridge`) on a free 10.199.X.0/24 (`bip`, the gateway address).
 */
export abstract class BenchDaemon {
  readonly socket: string;
  readonly env: NodeJS.ProcessEnv;
  readonly bridge: string;
  readonly bip: string;
  private main?: Background;
  /** User-defined networks createNetwork made and removeNetwork has not removed yet. */
  private readonly networks = new Set<string>();

  constructor(
    readonly name: string,
    protected readonly dir: string,
    socketName: string,
    protected readonly net: HostNetwork,
  ) {
    this.bridge = net.bridgeName();
    this.bip = `${net.subnet('10.199')}.1/24`;
    mkdirSync(dir, { recursive: true });
    this.socket = join(dir, socketName);
    this.env = { ...process.env, DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: join(dir, 'docker-config'), DOCKER_CLI_HINTS: 'false' };
    for (const k of ['DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_API_VERSION']) delete this.env[k];
  }

  /** The daemon's program, its arguments and (optionally) its environment. */
  protected abstract command(): [string, string[], NodeJS.ProcessEnv?];

  async start(): Promise<void> {
    const [cmd, args, env] = this.command();
    const main = (this.main = new Background(cmd, args, join(this.dir, `${this.name}.log`), env));
    main.start();
    const failed = main.exited().then((why) => {
      throw new Error(`${this.name} ${why}:\n${main.logTail()}`);
    });
    failed.catch(() => undefined); // only the race below reports it; a later exit is stop()'s business
    await Promise.race([waitForPing(this.socket, 60_000, this.name), failed]);
  }

  /** Removes leftover containers and networks, then stops the daemon. */
  async stop(): Promise<void> {
    if (!this.main?.running) return;
    const ids = (await this.docker(['ps', '-aq'], 20_000)).stdout.split('\n').filter(Boolean);
    if (ids.length) await this.docker(['rm', '-f', ...ids], 60_000);
    for (const name of this.networks) {
      const r = await this.docker(['network', 'rm', name], 60_000);
      if (r.code !== 0) console.error(`docker network rm ${name} against ${this.name} exited ${r.code}: ${r.stderr.trim()}`);
    }
    await this.main.stop(20_000);
  }

  /**
   * `docker network create --subnet 10.198.X.0/24 <name>` on a free X, with the bridge device
   * named by the benchmark (`-o com.docker.network.bridge.name=bb<hex>`) so that cleanup knows
   * it even if the daemon fails half-way.
   */
  async createNetwork(name: string): Promise<{ subnet: string; bridge: string }> {
    const subnet = `${this.net.subnet('10.198')}.0/24`;
    const bridge = this.net.bridgeName();
    await this.dockerOk(['network', 'create', '--subnet', subnet, '-o', `com.docker.network.bridge.name=${bridge}`, name], 60_000);
    this.networks.add(name);
    return { subnet, bridge };
  }

  async removeNetwork(name: string): Promise<void> {
    await this.dockerOk(['network', 'rm', name], 60_000);
    this.networks.delete(name);
  }

  logTail(): string {
    return this.main?.logTail() ?? '';
  }

  /** The daemon's log file (memory-soak reads the inspector's address from it). */
  get logFile(): string | undefined {
    return this.main?.logFile;
  }

  /** The processes whose memory is the daemon's: berthd alone; dockerd and its containerd. */
  memoryPids(): Array<{ name: string; pid: number }> {
    const pid = this.main?.pid;
    return pid === undefined ? [] : [{ name: this.name, pid }];
  }

  docker(args: string[], timeoutMs = 120_000): Promise<CommandResult> {
    return runCommand(DOCKER_CLI, args, this.env, timeoutMs);
  }

  /** Like docker(), throwing with the CLI's stderr and the daemon's log on failure. */
  async dockerOk(args: string[], timeoutMs?: number): Promise<CommandResult> {
    const r = await this.docker(args, timeoutMs);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} against ${this.name} exited ${r.code}: ${r.stderr.trim()}\n--- ${this.name} log ---\n${this.logTail()}`);
    return r;
  }
}

/**
 * Berth, from this checkout (needs `npm run build`), with iptables and the userland proxy on (its
 * defaults). Berth creates its default bridge itself from `--bridge` and `--bip`.
 */
export class BerthDaemon extends BenchDaemon {
  /** `name` and `extraArgs` let a benchmark run variants side by side (bench/userns.ts). */
  constructor(dir: string, net: HostNetwork, name = 'berth', private readonly extraArgs: string[] = [], socketName = `${name}.sock`) {
    super(name, dir, socketName, net);
  }

  private get delayFile(): string {
    return join(this.dir, 'event-loop-delay.json');
  }

  /**
   * berthd reports its event-loop delay (src/event-loop-delay.ts); BERTH_BENCH_NODE_ARGS adds
   * node options, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where a slow run went, and
   * BERTH_BENCH_DAEMON_ARGS berthd options (`--log-level debug`).
   */
  protected command(): [string, string[], NodeJS.ProcessEnv] {
    // The settings of bin/berthd's #! line, as installed, plus the bench's own node options
    // (--cpu-prof is not allowed in NODE_OPTIONS, so node is started here, not through env).
    const launch = berthdLaunch();
    const nodeArgs = (process.env.BERTH_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    return [
      process.execPath,
      [...launch.nodeArgs, ...nodeArgs, BERTHD, '-H', `unix://${this.socket}`, '--data-root', join(this.dir, 'data'), '--exec-root', join(this.dir, 'exec'), '--pidfile', join(this.dir, 'berthd.pid'),
        '--bridge', this.bridge, '--bip', this.bip, ...this.extraArgs, ...(process.env.BERTH_BENCH_DAEMON_ARGS ?? '').split(' ').filter(Boolean)],
      { ...process.env, ...launch.env, BERTH_EVENT_LOOP_DELAY_FILE: this.delayFile },
    ];
  }

  /** The event-loop delay since the last call (the first call starts the count). */
  async eventLoopDelay(): Promise<EventLoopDelay | undefined> {
    const pid = this.memoryPids()[0]?.pid;
    if (pid === undefined) return undefined;
    rmSync(this.delayFile, { force: true });
    process.kill(pid, 'SIGUSR2');
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline) {
      try {
        return JSON.parse(readFileSync(this.delayFile, 'utf8')) as EventLoopDelay;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    return undefined;
  }
}

/**
 * Debian's dockerd, with iptables and the userland proxy on (its defaults) and IPv6 rules off.
 * dockerd refuses `-b` together with `--bip` and, given only `--bip`, would create (or take over)
 * the host's docker0; so the benchmark creates the bridge itself with the gateway address on it
 * and passes `-b`, from which dockerd takes the subnet. It gets a containerd of its own on the
 * temporary directory: left alone, dockerd would use the host's containerd whenever
 * /run/containerd/containerd.sock exists.
 */
export class DockerDaemon extends BenchDaemon {
  private readonly containerd: Background;
  private readonly containerdSocket: string;

  constructor(dir: string, net: HostNetwork) {
    super('dockerd', dir, 'docker.sock', net);
    const root = join(dir, 'containerd');
    mkdirSync(root, { recursive: true });
    this.containerdSocket = join(root, 'containerd.sock');
    const config = join(root, 'config.toml');
    writeFileSync(
      config,
      [
        'version = 2',
        `root = ${JSON.stringify(join(root, 'root'))}`,
        `state = ${JSON.stringify(join(root, 'state'))}`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        '[grpc]',
        `  address = ${JSON.stringify(this.containerdSocket)}`,
        '[plugins."io.containerd.internal.v1.opt"]',
        `  path = ${JSON.stringify(join(root, 'opt'))}`,
        '',
      ].join('\n'),
    );
    this.containerd = new Background(CONTAINERD, ['--config', config], join(root, 'containerd.log'));
  }

  static binary(): string | undefined {
    return DOCKERD_CANDIDATES.find((p) => existsSync(p));
  }

  protected command(): [string, string[]] {
    const d = this.dir;
    return [
      DockerDaemon.binary() ?? 'dockerd',
      ['-H', `unix://${this.socket}`, '--data-root', join(d, 'docker-data'), '--exec-root', join(d, 'docker-exec'), '--pidfile', join(d, 'docker.pid'),
        '--bridge', this.bridge, '--ip6tables=false', '--containerd', this.containerdSocket],
    ];
  }

  async start(): Promise<void> {
    this.net.createBridge(this.bridge, this.bip);
    this.containerd.start();
    const failed = this.containerd.exited().then((why) => {
      throw new Error(`containerd ${why}:\n${this.containerd.logTail()}`);
    });
    failed.catch(() => undefined);
    await Promise.race([waitForSocket(this.containerdSocket, 30_000, 'containerd'), failed]);
    await super.start();
  }

  async stop(): Promise<void> {
    await super.stop();
    await this.containerd.stop(10_000);
  }

  memoryPids(): Array<{ name: string; pid: number }> {
    const pid = this.containerd.pid;
    return [...super.memoryPids(), ...(pid === undefined ? [] : [{ name: 'containerd', pid }])];
  }
}

export function runCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const done = (code: number, extra = '') => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') + extra, ms });
    };
    child.once('error', (e) => done(-1, e.message));
    child.once('close', (code, signal) => done(code ?? -1, signal ? `killed by ${signal} (timeout ${timeoutMs} ms)` : ''));
  });
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
    req.once('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

async function waitForPing(socketPath: string, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ping(socketPath)) return;
    await sleep(50);
  }
  throw new Error(`${what} did not answer /_ping on ${socketPath} within ${timeoutMs} ms`);
}

async function waitForSocket(path: string, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(path)) return;
    await sleep(50);
  }
  throw new Error(`${what} did not create ${path} within ${timeoutMs} ms`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Last resort after the daemons were stopped: kills, by pid, any process whose command line
 * names `dir` (monitors, shims, runtimes the daemons left) or that `alsoKill` claims (dockerd's
 * docker-proxy processes name no path), unmounts everything below `dir`, deepest first, and
 * deletes it.
 */
export async function sweep(dir: string, alsoKill: (argv: string[]) => boolean = () => false): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const pids = processesNaming(dir, alsoKill);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(200);
  }
  for (let round = 0; round < 3; round++) {
    const mounts = mountsUnder(dir);
    if (mounts.length === 0) break;
    for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 200 });
}

function processesNaming(dir: string, alsoKill: (argv: string[]) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.some((arg) => arg.includes(dir)) || alsoKill(argv)) pids.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Mount points at or below `dir`, deepest first (mountinfo escapes spaces as \040). */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** The environment and node options bin/berthd's `#!/usr/bin/env -S ... node ...` line sets. */
export function berthdLaunch(): { env: Record<string, string>; nodeArgs: string[] } {
  const line = readFileSync(BERTHD, 'utf8').split('\n', 1)[0];
  const words = line.replace(/^#!\s*\S*env\s+(-S\s+)?/, '').split(/\s+/).filter(Boolean);
  const node = words.findIndex((w) => w === 'node' || w.endsWith('/node'));
  const env = Object.fromEntries(words.slice(0, Math.max(node, 0)).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
  return { env, nodeArgs: node < 0 ? [] : words.slice(node + 1) };
}
