import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, closeSync, existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ownerTag } from '../../src/network/bridge';
import { buildBusyboxTarball } from '../fixtures/busybox-image';
import { freeBip } from './network/free-subnet';
import { waitFor } from './wait';

const REPO = resolve(__dirname, '..', '..', '..');
const BERTHD = join(REPO, 'bin', 'berthd');
/** The docker CLI the tests drive: the stock one in /usr/local/bin, else whichever is on PATH. */
export const DOCKER = process.env.BERTH_TEST_DOCKER ?? (existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : 'docker');
const FIXTURES = join(tmpdir(), 'berth-test-fixtures');

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface BerthOptions {
  extraArgs?: string[];
  /** Load the busybox fixture as busybox:latest (default true). */
  busybox?: boolean;
}

/**
 * A real berthd on a temporary socket, data root and exec root, driven by the stock docker CLI.
 * `cleanup()` removes every container, monitor, mount and file it made, even after failures.
 */
export class Berth {
  readonly dir: string;
  readonly socket: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly logFile: string;
  private proc?: ChildProcess;
  private defaultBridge?: string;
  private defaultBip?: string;

  constructor(private readonly opts: BerthOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'berth-it-'));
    this.socket = join(this.dir, 'berth.sock');
    this.dataRoot = join(this.dir, 'data');
    this.execRoot = join(this.dir, 'exec');
    this.logFile = join(this.dir, 'berthd.log');
  }

  /** The CRI socket (`--cri-socket` default: in the exec root). */
  get criSocket(): string {
    return join(this.execRoot, 'cri.sock');
  }

  /** kubelet's CNI directory of this daemon: its own, never the host's /etc/cni/net.d. */
  get cniConfDir(): string {
    return join(this.dir, 'cni-conf');
  }

  private criArgs(): string[] {
    return (this.opts.extraArgs ?? []).includes('--cni-conf-dir') ? [] : ['--cni-conf-dir', this.cniConfDir];
  }

  get host(): string {
    return `unix://${this.socket}`;
  }

  get env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: this.host, DOCKER_CONFIG: join(this.dir, 'docker-config') };
    delete env.DOCKER_CONTEXT;
    delete env.DOCKER_BUILDKIT;
    return env;
  }

  /** Each daemon gets its own default bridge and subnet so tests never share or collide. */
  private networkArgs(): string[] {
    const extra = this.opts.extraArgs ?? [];
    if (extra.includes('--bridge') || extra.includes('-b')) return [];
    this.defaultBridge ??= `bt${randomBytes(3).toString('hex')}`;
    this.defaultBip ??= freeBip(199);
    return ['--bridge', this.defaultBridge, '--bip', this.defaultBip];
  }

  async start(): Promise<this> {
    const fd = openSync(this.logFile, 'a');
    this.proc = spawn(
      process.execPath,
      [BERTHD, '-H', this.host, '--data-root', this.dataRoot, '--exec-root', this.execRoot, '--pidfile', join(this.dir, 'berthd.pid'), '--log-level', 'debug', ...this.networkArgs(), ...this.criArgs(), ...suiteRuntimeArgs(this.opts.extraArgs ?? []), ...(this.opts.extraArgs ?? [])],
      { stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    const exited = new Promise<never>((_, reject) => this.proc!.once('exit', (code) => reject(new Error(`berthd exited with ${code}:\n${this.log()}`))));
    await Promise.race([this.waitReady(), exited]);
    this.proc.removeAllListeners('exit');
    return this;
  }

  private async waitReady(): Promise<void> {
    // Generous: with several test files at once on a loaded 2-core machine a start can take many seconds.
    await waitFor(() => ping(this.socket), { what: 'berthd to answer /_ping', timeout: 120_000, interval: 100 }).catch((err: Error) => {
      throw new Error(`${err.message}:\n${this.log()}`);
    });
  }

  /** SIGTERM and wait for exit. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
    this.proc = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').split('\n').slice(-60).join('\n') : '';
  }

  /** Runs the stock docker CLI against this daemon. */
  docker(args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): CommandResult {
    const r = spawnSync(DOCKER, args, { env: this.env, input: opts.input, timeout: opts.timeoutMs ?? 60_000, encoding: 'utf8' });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** Runs the docker CLI without blocking the test (for commands that end after something the test does next). */
  dockerAsync(args: string[], opts: { timeoutMs?: number } = {}): Promise<CommandResult> {
    return new Promise((resolve) => {
      const p = spawn(DOCKER, args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 60_000 });
      let stdout = '';
      let stderr = '';
      p.stdout!.on('data', (d) => (stdout += d));
      p.stderr!.on('data', (d) => (stderr += d));
      p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  /** Like docker(), failing the test with the CLI's stderr when it exits non-zero. */
  ok(args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): string {
    const r = this.docker(args, opts);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr}\n--- berthd log ---\n${this.log()}`);
    return r.stdout;
  }

  /** Runs the docker CLI under a pseudo-terminal (util-linux `script`), for `-t` cases. */
  dockerTty(args: string[], opts: { input?: string; timeoutMs?: number } = {}): CommandResult {
    const cmd = [DOCKER, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = spawnSync('script', ['-qefc', cmd, '/dev/null'], { env: this.env, input: opts.input ?? '', timeout: opts.timeoutMs ?? 60_000, encoding: 'utf8' });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  async loadBusybox(): Promise<void> {
    const tar = await buildBusyboxTarball({ dir: FIXTURES, layout: 'oci' });
    this.ok(['load', '-i', tar]);
  }

  /** Removes containers, stops the daemon, kills leftover monitors, unmounts and deletes files. */
  async cleanup(): Promise<void> {
    let bridges: string[] = [];
    if (this.proc && this.proc.exitCode === null) {
      const ids = this.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) this.docker(['rm', '-f', ...ids]);
      bridges = this.docker(['network', 'inspect', '-f', '{{index .Options "com.docker.network.bridge.name"}}', 'bridge']).stdout.split('\n').filter(Boolean);
      const custom = this.docker(['network', 'ls', '-q', '--filter', 'type=custom']).stdout.split('\n').filter(Boolean);
      if (custom.length) this.docker(['network', 'rm', ...custom]);
    }
    await this.stop().catch(() => undefined);
    for (const b of bridges) removeBridgeLeftovers(b);
    removeDaemonChains(`BERTH-${ownerTag(this.dataRoot).slice(0, 6).toUpperCase()}-`);
    // Anything a failed test left behind: monitors, runtime processes and mounts under our dir.
    spawnSync('pkill', ['-KILL', '-f', this.dir]);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m) => m && m.startsWith(this.dir))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The path of an OCI runtime installed on this host (where berthd looks), or undefined. */
export function installedRuntime(name: string): string | undefined {
  return ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].map((d) => join(d, name)).find((p) => existsSync(p));
}

/** A test's skip reason when `name` is not installed (node:test's `skip` option). */
export function needsRuntime(name: string): string | false {
  return installedRuntime(name) ? false : `${name} is not installed on this host`;
}

/** The default bridge outlives the daemon (as docker0 does): tests remove it and its rules. */
function removeBridgeLeftovers(bridge: string): void {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge) || bridge === 'docker0') return;
  spawnSync('ip', ['link', 'del', bridge]);
  let table = 'filter';
  const rules = spawnSync('iptables-save', { encoding: 'utf8' }).stdout ?? '';
  for (const line of rules.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    if (!line.startsWith('-A ') || !line.split(' ').includes(bridge)) continue;
    spawnSync('iptables', ['-w', '-t', table, '-D', ...line.slice(3).match(/(?:[^\s"]+|"[^"]*")+/g)!.map((a) => a.replace(/^"|"$/g, ''))]);
  }
}

/** The daemon's own iptables chains (and the jumps to them) outlive it too. */
export function removeDaemonChains(prefix: string): void {
  for (const table of ['filter', 'nat']) {
    const rules = spawnSync('iptables', ['-w', '-t', table, '-S'], { encoding: 'utf8' }).stdout ?? '';
    const chains = rules.split('\n').filter((l) => l.startsWith(`-N ${prefix}`)).map((l) => l.slice(3));
    if (!chains.length) continue;
    for (const line of rules.split('\n')) {
      const target = /-j (\S+)$/.exec(line)?.[1];
      if (line.startsWith('-A ') && target && chains.includes(target)) spawnSync('iptables', ['-w', '-t', table, '-D', ...line.slice(3).split(' ')]);
    }
    for (const chain of chains) spawnSync('iptables', ['-w', '-t', table, '-F', chain]);
    for (const chain of chains) spawnSync('iptables', ['-w', '-t', table, '-X', chain]);
  }
}

/**
 * The suite's runtime mode: BERTH_TEST_DEFAULT_RUNTIME=berth runs every daemon a test starts with
 * `--default-runtime berth` (unless the test picks a default itself), so the container tests
 * exercise the built-in runtime (test/run.sh runs containers/ once more that way).
 */
export const SUITE_DEFAULT_RUNTIME = process.env.BERTH_TEST_DEFAULT_RUNTIME || undefined;

function suiteRuntimeArgs(extraArgs: readonly string[]): string[] {
  if (!SUITE_DEFAULT_RUNTIME || extraArgs.includes('--default-runtime')) return [];
  return ['--default-runtime', SUITE_DEFAULT_RUNTIME];
}

export async function startBerth(opts: BerthOptions = {}): Promise<Berth> {
  const b = new Berth(opts);
  try {
    await b.start();
    if (opts.busybox !== false) await b.loadBusybox();
  } catch (err) {
    await b.cleanup();
    throw err;
  }
  return b;
}

/** GET /_ping over the unix socket; true on 200. */
export function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 1000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

/**
 * A raw HTTP request over the daemon's socket, for status codes and bodies the CLI hides.
 * A fresh connection each time (`agent: false`): node's default agent keeps sockets alive, and
 * reusing one the server is just closing fails with EPIPE.
 */
export function api(socketPath: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method, agent: false, headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A JSON request over the daemon's socket: status and parsed body (undefined when empty). */
export async function apiJson(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await api(socketPath, method, path, body === undefined ? undefined : JSON.stringify(body));
  return { status: r.status, body: r.body ? JSON.parse(r.body) : undefined };
}

/** A port nothing listens on right now on 127.0.0.1 (the kernel's pick for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}
