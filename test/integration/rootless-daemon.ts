/**
 * A rootless berthd for integration tests: an ordinary user the fixture creates, given what root
 * sets up once by the README's command (scripts/setup-rootless.sh), runs bin/berthd with nothing
 * but HOME and XDG_RUNTIME_DIR (it re-executes itself in rootlesskit); the test drives it as root
 * with the stock CLI on $XDG_RUNTIME_DIR/berth.sock. stop() takes the daemon, whatever the user
 * still runs, the user (with its subordinate range) and the files away.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildBusyboxTarball } from '../fixtures/busybox-image';
import { DOCKER, installedRuntime, ping, type CommandResult } from './harness';
import { waitFor } from './wait';

const REPO = resolve(__dirname, '..', '..', '..');
const BERTHD = join(REPO, 'bin', 'berthd');
export const SETUP_ROOTLESS = join(REPO, 'scripts', 'setup-rootless.sh');
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const FIXTURES = join(tmpdir(), 'berth-test-fixtures');

/** Why this host cannot run a rootless daemon (plus `tools`), or undefined. */
export function rootlessSkipReason(tools: string[] = []): string | undefined {
  if (process.getuid?.() !== 0) return 'the test creates a user: run it as root';
  for (const tool of ['useradd', 'userdel', 'setpriv', 'rootlesskit', 'slirp4netns', 'newuidmap', 'newgidmap', ...tools]) {
    if (!installedRuntime(tool)) return `${tool} is not installed (Debian: uidmap, rootlesskit, slirp4netns, fuse-overlayfs, util-linux, passwd)`;
  }
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8').trim() : undefined);
  if (read('/proc/sys/user/max_user_namespaces') === '0') return 'user namespaces are disabled (user.max_user_namespaces=0)';
  if (read('/proc/sys/kernel/unprivileged_userns_clone') === '0') return 'unprivileged user namespaces are forbidden (kernel.unprivileged_userns_clone=0)';
  const probe = spawnSync('unshare', ['--user', '--map-root-user', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) return `this host forbids user namespaces: ${probe.stderr.trim()}`;
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun (slirp4netns needs it)';
  return undefined;
}

export interface DockerOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export class RootlessBerth {
  readonly user: string;
  uid = 0;
  base = '';
  home = '';
  xdg = '';
  socket = '';
  private logFile = '';
  private daemon?: ChildProcess;

  /** `prefix` names the user (plus random hex); `args` are berthd's extra flags. */
  constructor(prefix: string, private readonly args: string[] = []) {
    this.user = `${prefix}${randomBytes(3).toString('hex')}`;
  }

  env(): NodeJS.ProcessEnv {
    const e: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: join(this.base, 'docker-config') };
    delete e.DOCKER_CONTEXT;
    delete e.DOCKER_BUILDKIT;
    return e;
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').split('\n').slice(-60).join('\n') : '';
  }

  docker(args: string[], opts: DockerOptions = {}): CommandResult {
    const r = spawnSync(DOCKER, args, { env: { ...this.env(), ...opts.env }, input: opts.input, timeout: opts.timeoutMs ?? 120_000, encoding: 'utf8' });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** docker(), throwing with the CLI's stderr and the daemon's log unless it exits 0. */
  ok(args: string[], opts: DockerOptions = {}): string {
    const r = this.docker(args, opts);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr}\n--- berthd log ---\n${this.log()}`);
    return r.stdout;
  }

  /** berthd run as the user with `vars` as its only environment besides PATH and HOME (exit status, output). */
  berthdAsUser(vars: string[]): { status: number | null; stdout: string; stderr: string } {
    return spawnSync('setpriv', ['--reuid', this.user, '--regid', this.user, '--init-groups', 'env', '-i', `PATH=${PATH}`, `HOME=${this.home}`, ...vars, BERTHD], { encoding: 'utf8', timeout: 60_000 });
  }

  /** Creates the user (no range of its own: the set-up script gives it one), starts berthd, loads busybox. */
  async start(): Promise<void> {
    const made = spawnSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', this.user], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    this.uid = Number(spawnSync('id', ['-u', this.user], { encoding: 'utf8' }).stdout.trim());
    const setup = spawnSync('bash', [SETUP_ROOTLESS, this.user], { encoding: 'utf8', timeout: 600_000 });
    assert.equal(setup.status, 0, `${setup.stdout}${setup.stderr}`);

    this.base = mkdtempSync(join(tmpdir(), 'berth-rootless-'));
    chmodSync(this.base, 0o755);
    this.home = join(this.base, 'home');
    this.xdg = join(this.base, 'xdg');
    for (const d of [this.home, this.xdg]) {
      mkdirSync(d, { mode: 0o700 });
      chownSync(d, this.uid, this.uid);
    }
    this.socket = join(this.xdg, 'berth.sock');
    this.logFile = join(this.base, 'berthd.log');
    const fd = openSync(this.logFile, 'a');
    const daemon = (this.daemon = spawn(
      'setpriv',
      ['--reuid', this.user, '--regid', this.user, '--init-groups', 'env', '-i', `PATH=${PATH}`, `HOME=${this.home}`, `XDG_RUNTIME_DIR=${this.xdg}`, BERTHD, '--log-level', 'debug', ...this.args],
      { stdio: ['ignore', fd, fd] },
    ));
    closeSync(fd);
    const exited = new Promise<never>((_, reject) => daemon.once('exit', (code) => reject(new Error(`rootless berthd exited with ${code}:\n${this.log()}`))));
    await Promise.race([waitFor(() => ping(this.socket), { what: 'the rootless berthd to answer /_ping', timeout: 120_000, interval: 100 }), exited]);
    daemon.removeAllListeners('exit');
    this.ok(['load', '-i', await buildBusyboxTarball({ dir: FIXTURES, layout: 'oci' })]);
  }

  async stop(): Promise<void> {
    const daemon = this.daemon;
    if (daemon && daemon.exitCode === null) {
      const ids = this.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) this.docker(['rm', '-f', ...ids]);
      const exited = new Promise((r) => daemon.once('exit', r));
      daemon.kill('SIGTERM');
      await exited;
    }
    // Whatever the user's daemon left running (monitors, fuse-overlayfs of a failed test).
    if (this.uid) spawnSync('pkill', ['-KILL', '-U', String(this.uid)]);
    spawnSync('userdel', [this.user]);
    if (this.base) await rm(this.base, { recursive: true, force: true });
  }
}
