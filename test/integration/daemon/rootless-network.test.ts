/**
 * The rootless daemon's networking, through the stock CLI: an ordinary user the test creates runs
 * `berthd` (which enters rootlesskit itself); user networks with the embedded DNS inside the
 * daemon's namespace, ports published on the host's loopback, pull and push with a registry on
 * the host's 127.0.0.1, and a rootful daemon beside it whose bridge and chains stay untouched.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildBusyboxTarball } from '../../fixtures/busybox-image';
import { DOCKER, freePort, startBerth, type Berth, type CommandResult } from '../harness';
import { REGISTRY_BIN, startRegistry, type TestRegistry } from '../registry-fixture';
import { httpGet, waitFor, waitForHttp, waitForProcessGone } from '../wait';

const REPO = resolve(__dirname, '..', '..', '..', '..');
const BERTHD = join(REPO, 'bin', 'berthd');
const FIXTURES = join(tmpdir(), 'berth-test-fixtures');

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root to create the test user';
  for (const bin of ['rootlesskit', 'slirp4netns', 'newuidmap', 'newgidmap', 'useradd', 'runuser']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} is not installed`;
  }
  const userns = spawnSync('unshare', ['--user', '--map-root-user', 'true']);
  if (userns.status !== 0) return `the host forbids user namespaces: ${userns.stderr.toString().trim()}`;
  return false;
}

/** The first subordinate id after every range in /etc/subuid and /etc/subgid. */
function freeSubIdStart(): number {
  let next = 100_000;
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    for (const line of (existsSync(f) ? readFileSync(f, 'utf8') : '').split('\n')) {
      const [, start, count] = line.split(':');
      if (start && count) next = Math.max(next, Number(start) + Number(count));
    }
  }
  return next;
}

function removeLines(file: string, prefix: string): void {
  if (!existsSync(file)) return;
  writeFileSync(file, readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith(prefix)).join('\n'));
}

/** A rootless berthd of a fresh user, with dockerd's rootless layout under a temporary home. */
class RootlessDaemon {
  readonly user = `brl${randomBytes(3).toString('hex')}`;
  readonly dir = mkdtempSync(join(tmpdir(), 'berth-rl-'));
  readonly home = join(this.dir, 'home');
  readonly runtimeDir = join(this.dir, 'run');
  readonly logFile = join(this.dir, 'berthd.log');
  private proc?: ChildProcess;

  get socket(): string {
    return join(this.runtimeDir, 'berth.sock');
  }

  get env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: join(this.dir, 'docker-config') };
    delete env.DOCKER_CONTEXT;
    return env;
  }

  async start(): Promise<void> {
    const made = spawnSync('useradd', ['-M', '-d', this.home, '-s', '/bin/sh', this.user], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`useradd: ${made.stderr}`);
    const start = freeSubIdStart();
    for (const f of ['/etc/subuid', '/etc/subgid']) writeFileSync(f, `${this.user}:${start}:65536\n`, { flag: 'a' });
    const uid = Number(spawnSync('id', ['-u', this.user], { encoding: 'utf8' }).stdout);
    const gid = Number(spawnSync('id', ['-g', this.user], { encoding: 'utf8' }).stdout);
    for (const d of [this.home, this.runtimeDir]) {
      mkdirSync(d, { mode: 0o700 });
      chownSync(d, uid, gid);
    }
    // The daemon's user must reach the repository to run it.
    spawnSync('chmod', ['o+x', this.dir]);
    const fd = openSync(this.logFile, 'a');
    this.proc = spawn(
      'runuser',
      ['-u', this.user, '--', 'env', '-i', `PATH=${process.env.PATH}`, `HOME=${this.home}`, `XDG_RUNTIME_DIR=${this.runtimeDir}`, BERTHD, '--log-level', 'debug'],
      { stdio: ['ignore', fd, fd] },
    );
    await waitFor(() => this.proc?.exitCode !== null || this.docker(['version']).code === 0, { what: 'the rootless berthd to answer', timeout: 60_000 });
    if (this.proc.exitCode !== null) throw new Error(`rootless berthd exited: ${readFileSync(this.logFile, 'utf8').slice(-2000)}`);
    this.ok(['load', '-i', await buildBusyboxTarball({ dir: FIXTURES, layout: 'oci' })]);
  }

  docker(args: string[], opts: { timeoutMs?: number } = {}): CommandResult {
    const r = spawnSync(DOCKER, args, { env: this.env, timeout: opts.timeoutMs ?? 120_000, encoding: 'utf8' });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  ok(args: string[]): string {
    const r = this.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout.trim();
  }

  async cleanup(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) {
      const ids = this.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) this.docker(['rm', '-f', ...ids]);
      const pid = this.proc.pid!;
      this.proc.kill('SIGTERM');
      await waitForProcessGone(pid, { what: 'the rootless berthd to stop', timeout: 60_000 }).catch(() => this.proc?.kill('SIGKILL'));
    }
    // Whatever the user still runs (rootlesskit, slirp4netns, monitors) goes with the user.
    spawnSync('pkill', ['-KILL', '-u', this.user]);
    spawnSync('userdel', [this.user]);
    for (const f of ['/etc/subuid', '/etc/subgid']) removeLines(f, `${this.user}:`);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Whether a TCP connection to 127.0.0.1:port is refused (nothing listens on the host any more). */
function refused(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      res(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => res(err.code === 'ECONNREFUSED'));
  });
}

/**
 * A container command that runs `setup`, then lives until /tmp/stop appears: the tests end their
 * containers with `finish`, by the container's own exit.
 */
const untilStopped = (setup: string) => ['sh', '-c', `${setup}; until [ -e /tmp/stop ]; do sleep 0.1; done`];
const serving = (text: string) => untilStopped(`echo ${text} > /tmp/index.html; httpd -p 80 -h /tmp`);

function finish(d: RootlessDaemon, name: string): void {
  d.ok(['exec', name, 'touch', '/tmp/stop']);
  assert.equal(d.ok(['wait', name]), '0');
  d.ok(['rm', name]);
}

const skip = skipReason();

describe('rootless daemon networking', { skip, timeout: 600_000 }, () => {
  const rl = new RootlessDaemon();

  before(async () => {
    await rl.start();
  });

  after(async () => {
    await rl.cleanup();
  });

  it('resolves container names on a user network through the embedded DNS', () => {
    rl.ok(['network', 'create', 'rlnet']);
    rl.ok(['run', '-d', '--name', 'web', '--network', 'rlnet', 'busybox', ...serving('hello-by-name')]);
    const out = rl.ok(['run', '--rm', '--network', 'rlnet', 'busybox', 'sh', '-c', 'for i in $(seq 50); do wget -qO- http://web/ && exit 0; sleep 0.2; done; exit 1']);
    assert.equal(out, 'hello-by-name');
    // 127.0.0.11 answers for the network (names it does not know go on to slirp4netns' 10.0.2.3).
    assert.match(rl.ok(['run', '--rm', '--network', 'rlnet', 'busybox', 'cat', '/etc/resolv.conf']), /nameserver 127\.0\.0\.11/);
    finish(rl, 'web');
    rl.ok(['network', 'rm', 'rlnet']);
  });

  it('publishes ports on the host loopback, frees them when the container stops, and reports a host port in use', async () => {
    const [local, any] = [await freePort(), await freePort()];
    rl.ok(['run', '-d', '--name', 'pub', '-p', `127.0.0.1:${local}:80`, '-p', `${any}:80`, 'busybox', ...serving('hello-from-rootless')]);
    assert.equal((await waitForHttp(`http://127.0.0.1:${local}/`)).trim(), 'hello-from-rootless');
    assert.equal((await httpGet(`http://127.0.0.1:${any}/`)).trim(), 'hello-from-rootless');
    assert.match(rl.ok(['port', 'pub']), new RegExp(`80/tcp -> 127\\.0\\.0\\.1:${local}`));
    // The container's end removes the ports from the host.
    rl.ok(['exec', 'pub', 'touch', '/tmp/stop']);
    assert.equal(rl.ok(['wait', 'pub']), '0');
    assert.ok(await refused(local), `127.0.0.1:${local} still listens after the stop`);
    assert.ok(await refused(any), `127.0.0.1:${any} still listens after the stop`);
    rl.ok(['rm', 'pub']);

    // A port another program holds on the host.
    const holder = await new Promise<Server>((res) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => res(s));
    });
    try {
      const port = (holder.address() as AddressInfo).port;
      const r = rl.docker(['run', '-d', '--name', 'taken', '-p', `127.0.0.1:${port}:80`, 'busybox', 'true']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`driver failed programming external connectivity on endpoint taken .*listen tcp4 127\\.0\\.0\\.1:${port}: bind: address already in use`));
    } finally {
      holder.close();
      rl.docker(['rm', '-f', 'taken']);
    }
  });

  it('pushes to and pulls from a registry on the host loopback', { skip: existsSync(REGISTRY_BIN) ? false : `${REGISTRY_BIN} is not installed` }, async () => {
    let registry: TestRegistry | undefined;
    try {
      registry = await startRegistry();
      const port = registry.domain.split(':')[1];
      for (const ref of [`${registry.domain}/rl/busybox:1`, `localhost:${port}/rl/busybox:2`]) {
        rl.ok(['tag', 'busybox', ref]);
        rl.ok(['push', ref]);
        rl.ok(['rmi', ref]);
        rl.ok(['pull', ref]);
        // The image keeps the name the user typed.
        assert.ok(rl.ok(['image', 'inspect', '-f', '{{json .RepoTags}}', ref]).includes(`"${ref}"`));
        rl.ok(['rmi', ref]);
      }
    } finally {
      await registry?.stop();
    }
  });

  it('runs beside a rootful daemon without touching its bridge or chains', async () => {
    let rootful: Berth | undefined;
    try {
      rootful = await startBerth();
      rootful.ok(['run', '-d', '--name', 'rootful-c', 'busybox', 'sleep', '300']);
      const bridge = rootful.ok(['network', 'inspect', '-f', '{{index .Options "com.docker.network.bridge.name"}}', 'bridge']).trim();
      const hostRules = () => spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes('BERTH')).sort();
      const links = () => spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(': ')[1]?.split('@')[0]).filter(Boolean).sort();
      const rulesBefore = hostRules();
      const linksBefore = links();

      rl.ok(['network', 'create', 'rlside']);
      rl.ok(['run', '-d', '--name', 'rootless-c', '--network', 'rlside', 'busybox', ...untilStopped('true')]);
      const rlBridge = rl.ok(['network', 'inspect', '-f', '{{index .Options "com.docker.network.bridge.name"}}', 'rlside']) || `br-${rl.ok(['network', 'inspect', '-f', '{{.Id}}', 'rlside']).slice(0, 12)}`;

      // The rootless daemon's bridges and rules live in its own namespace only.
      assert.deepEqual(hostRules(), rulesBefore);
      assert.ok(!links().includes(rlBridge), `${rlBridge} appeared on the host`);
      assert.deepEqual(links().filter((l) => !l.startsWith('veth')), linksBefore.filter((l) => !l.startsWith('veth')));
      assert.ok(links().includes(bridge), `the rootful bridge ${bridge} is gone`);
      assert.equal(rootful.ok(['inspect', '-f', '{{.State.Running}}', 'rootful-c']).trim(), 'true');
      assert.equal(rl.ok(['inspect', '-f', '{{.State.Running}}', 'rootless-c']), 'true');

      finish(rl, 'rootless-c');
      rl.ok(['network', 'rm', 'rlside']);
      assert.deepEqual(hostRules(), rulesBefore);
      assert.equal(rootful.ok(['inspect', '-f', '{{.State.Running}}', 'rootful-c']).trim(), 'true');
    } finally {
      await rootful?.cleanup();
    }
  });
});
