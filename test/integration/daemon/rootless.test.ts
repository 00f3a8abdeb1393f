/**
 * The rootless daemon end to end: the test creates an ordinary user, gives it what root sets up
 * once (scripts/setup-rootless.sh: subordinate ids, uidmap, rootlesskit, slirp4netns), starts
 * bin/berthd as that user with nothing but HOME and XDG_RUNTIME_DIR (the daemon re-executes
 * itself in rootlesskit), and drives it as root with the stock CLI on $XDG_RUNTIME_DIR/berth.sock.
 * Skipped with the reason where the host forbids user namespaces or lacks a tool.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, installedRuntime, startBerth, type Berth, type CommandResult } from '../harness';
import { ownerTag } from '../../../src/network/bridge';
import { REGISTRY_BIN, startRegistry, type TestRegistry } from '../registry-fixture';
import { RootlessBerth, rootlessSkipReason, type DockerOptions } from '../rootless-daemon';
import { httpGet, waitFor, waitForHttp } from '../wait';

const SKIP = rootlessSkipReason();

/** Whether a TCP connection to 127.0.0.1:port is refused (nothing listens on the host). */
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

describe('rootless berthd (an ordinary user, rootlesskit + slirp4netns)', { skip: SKIP }, () => {
  const rl = new RootlessBerth('berthrl');
  let user = '';
  let uid = 0;
  let base = '';
  let home = '';
  let xdg = '';
  let socket = '';
  const docker = (args: string[], opts?: DockerOptions): CommandResult => rl.docker(args, opts);
  const ok = (args: string[], opts?: DockerOptions): string => rl.ok(args, opts);
  const log = () => rl.log();

  before(async () => {
    await rl.start();
    ({ user, uid, base, home, xdg, socket } = rl);
    // The set-up script gave the user its range (useradd made none).
    assert.match(readFileSync('/etc/subuid', 'utf8'), new RegExp(`^${user}:\\d+:65536$`, 'm'));
  });
  after(() => rl.stop());

  it('lays out its files as dockerd rootless does and reports rootless in docker info', () => {
    const st = spawnSync('stat', ['-c', '%u %a', socket], { encoding: 'utf8' }).stdout.trim();
    assert.equal(st, `${uid} 660`);
    assert.ok(existsSync(join(xdg, 'berth')), 'exec root in $XDG_RUNTIME_DIR/berth');
    assert.ok(existsSync(join(xdg, 'berth-rootlesskit', 'api.sock')), "rootlesskit's api.sock in its state dir");
    assert.ok(existsSync(join(xdg, 'berth.pid')));
    const info = JSON.parse(ok(['info', '--format', '{{json .}}']));
    assert.equal(info.DockerRootDir, join(home, '.local/share/berth'));
    assert.ok(info.SecurityOptions.includes('name=rootless'), JSON.stringify(info.SecurityOptions));
    if (info.CgroupVersion === '1') {
      assert.equal(info.CgroupDriver, 'none');
      assert.ok(
        info.Warnings.includes('WARNING: Running in rootless-mode without cgroups. To enable cgroups in rootless-mode, you need to boot the system in cgroup v2 mode.'),
        JSON.stringify(info.Warnings),
      );
    }
  });

  it('refuses a second daemon for the same user, and names what is missing before rootlesskit runs', () => {
    const asUser = (vars: string[]) => rl.berthdAsUser(vars);
    const second = asUser([`XDG_RUNTIME_DIR=${xdg}`]);
    assert.equal(second.status, 1, second.stderr);
    assert.match(second.stderr, new RegExp(`another daemon is already listening on ${socket}`));
    const noRuntimeDir = asUser([]);
    assert.equal(noRuntimeDir.status, 1);
    assert.match(noRuntimeDir.stderr, /XDG_RUNTIME_DIR needs to be set/);
  });

  it('runs a container as the user: output, exit code, the user namespace mapping', () => {
    const r = docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo hello from rootless; cat /proc/self/uid_map; id -u; exit 7']);
    assert.equal(r.code, 7, r.stderr + log());
    assert.match(r.stdout, /^hello from rootless$/m);
    // Container root is the user itself; the rest of the ids are its subordinate range.
    assert.match(r.stdout, new RegExp(`^\\s*0\\s+${uid}\\s+1$`, 'm'));
    assert.match(r.stdout, /^0$/m);
  });

  it('execs into a running container and serves its logs', async () => {
    const id = ok(['run', '-d', 'busybox', 'sh', '-c', 'echo started; sleep 300']).trim();
    await waitFor(() => docker(['logs', id]).stdout.includes('started'), { what: 'the container to log "started"' });
    assert.equal(ok(['exec', id, 'sh', '-c', 'echo in exec; id -u']), 'in exec\n0\n');
    const top = ok(['top', id]);
    assert.match(top, /sleep 300/);
    ok(['rm', '-f', id]);
  });

  it('stops a container whose init ignores SIGTERM (SIGKILL without a cgroup to enumerate)', async () => {
    const id = ok(['run', '-d', 'busybox', 'sleep', '300']).trim();
    const r = docker(['stop', '-t', '1', id]);
    assert.equal(r.code, 0, r.stderr + log());
    assert.equal(ok(['inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}', id]), 'false 137\n');
    ok(['rm', id]);
  });

  it('builds an image from the fixture, opaque directories included (user.overlay.opaque)', () => {
    const ctx = join(base, 'build');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), ['FROM busybox', 'RUN mkdir -p /d && touch /d/a /d/b', 'RUN rm -rf /d && mkdir /d && touch /d/c', 'CMD ls /d'].join('\n') + '\n');
    ok(['build', '-q', '-t', 'rootless-built', ctx], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 300_000 });
    assert.equal(ok(['run', '--rm', 'rootless-built']), 'c\n');
  });

  it('keeps data in a volume across containers, owned by an id of the mapping', () => {
    ok(['volume', 'create', 'rlvol']);
    ok(['run', '--rm', '-v', 'rlvol:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f && chown 1000:1000 /data/f']);
    assert.equal(ok(['run', '--rm', '-v', 'rlvol:/data', 'busybox', 'sh', '-c', 'cat /data/f; stat -c %u /data/f']), 'kept\n1000\n');
    ok(['volume', 'rm', 'rlvol']);
  });

  for (const runtime of ['runc', 'crun']) {
    it(`runs containers with --runtime ${runtime}`, { skip: installedRuntime(runtime) ? false : `${runtime} is not installed` }, () => {
      const r = docker(['run', '--rm', '--runtime', runtime, 'busybox', 'sh', '-c', `echo via ${runtime}; exit 3`]);
      assert.equal(r.code, 3, r.stderr + log());
      assert.equal(r.stdout, `via ${runtime}\n`);
    });
  }

  it("discards cgroup limits with dockerd's warnings where nothing is delegated", (t) => {
    const info = JSON.parse(ok(['info', '--format', '{{json .}}']));
    if (info.CgroupDriver !== 'none') return t.skip('this host delegates cgroups to the user');
    const r = docker(['run', '--rm', '-m', '64m', '--pids-limit', '10', 'busybox', 'echo', 'limited']);
    assert.equal(r.code, 0, r.stderr + log());
    assert.equal(r.stdout, 'limited\n');
    assert.match(r.stderr, /Your kernel does not support memory limit capabilities or the cgroup is not mounted\. Limitation discarded\./);
    assert.match(r.stderr, /Your kernel does not support PIDs limit capabilities or the cgroup is not mounted\. PIDs limit discarded\./);
    const id = ok(['run', '-d', 'busybox', 'sleep', '300']).trim();
    const update = docker(['update', '--memory', '64m', '--memory-swap', '128m', id]);
    assert.equal(update.code, 0, update.stderr + log());
    assert.match(update.stdout + update.stderr, /Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded./);
    assert.equal(ok(['inspect', '-f', '{{.HostConfig.Memory}}', id]), '0\n');
    ok(['rm', '-f', id]);
    const cpus = docker(['run', '--rm', '--cpus', '1', 'busybox', 'true']);
    assert.notEqual(cpus.code, 0);
    assert.match(cpus.stderr, /NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted/);
  });

  // Networking (rlnet2): user networks and the embedded DNS inside the daemon's namespace, ports
  // published on the host's loopback through rootlesskit's API, a registry on the host's 127.0.0.1.
  /** A busybox web server answering `text` on port 80. */
  const serving = (text: string) => ['sh', '-c', `echo ${text} > /tmp/index.html; exec httpd -f -p 80 -h /tmp`];

  it('resolves container names on a user network through the embedded DNS', () => {
    ok(['network', 'create', 'rlnet']);
    ok(['run', '-d', '--name', 'web', '--network', 'rlnet', 'busybox', ...serving('hello-by-name')]);
    // Polls inside the container until httpd answers (busybox's `wget -T` crashes: no timeout flag).
    const out = ok(['run', '--rm', '--network', 'rlnet', 'busybox', 'sh', '-c', 'for i in $(seq 100); do wget -qO- http://web/ && exit 0; sleep 0.1; done; exit 1']);
    assert.equal(out, 'hello-by-name\n');
    // 127.0.0.11 answers for the network (other names go on to slirp4netns' 10.0.2.3).
    assert.match(ok(['run', '--rm', '--network', 'rlnet', 'busybox', 'cat', '/etc/resolv.conf']), /nameserver 127\.0\.0\.11/);
    ok(['rm', '-f', 'web']);
    ok(['network', 'rm', 'rlnet']);
  });

  it('publishes ports on the host loopback, frees them when the container stops, and reports a host port in use', async () => {
    const [local, any] = [await freePort(), await freePort()];
    ok(['run', '-d', '--name', 'pub', '-p', `127.0.0.1:${local}:80`, '-p', `${any}:80`, 'busybox', ...serving('hello-from-rootless')]);
    assert.equal((await waitForHttp(`http://127.0.0.1:${local}/`)).trim(), 'hello-from-rootless');
    assert.equal((await httpGet(`http://127.0.0.1:${any}/`)).trim(), 'hello-from-rootless');
    assert.match(ok(['port', 'pub']), new RegExp(`80/tcp -> 127\\.0\\.0\\.1:${local}`));
    ok(['stop', '-t', '1', 'pub']);
    // The exit's network release runs just after `stop` answers (as for a rootful daemon).
    await waitFor(async () => (await refused(local)) && (await refused(any)), { what: `127.0.0.1:${local} and :${any} to close after the stop` });
    ok(['rm', 'pub']);

    // A port another program holds on the host.
    const holder = await new Promise<Server>((res) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => res(s));
    });
    try {
      const port = (holder.address() as AddressInfo).port;
      const r = docker(['run', '-d', '--name', 'taken', '-p', `127.0.0.1:${port}:80`, 'busybox', 'true']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`driver failed programming external connectivity on endpoint taken .*listen tcp4 127\\.0\\.0\\.1:${port}: bind: address already in use`));
    } finally {
      holder.close();
      docker(['rm', '-f', 'taken']);
    }
  });

  it('pushes to and pulls from a registry on the host loopback', { skip: existsSync(REGISTRY_BIN) ? false : `${REGISTRY_BIN} is not installed` }, async () => {
    let registry: TestRegistry | undefined;
    try {
      registry = await startRegistry();
      const port = registry.domain.split(':')[1];
      for (const ref of [`${registry.domain}/rl/busybox:1`, `localhost:${port}/rl/busybox:2`]) {
        ok(['tag', 'busybox', ref]);
        ok(['push', ref]);
        ok(['rmi', ref]);
        ok(['pull', ref]);
        // The image keeps the name the user typed.
        assert.ok(ok(['image', 'inspect', '-f', '{{json .RepoTags}}', ref]).includes(`"${ref}"`));
        ok(['rmi', ref]);
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
      // Other daemons (other test files) may come and go on this host meanwhile: only the rootful
      // daemon's own chains, and anything of the rootless daemon, are compared.
      const chainOf = (dataRoot: string) => `BERTH-${ownerTag(dataRoot).slice(0, 6).toUpperCase()}-`;
      const hostRules = (needle: string) => spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(needle)).sort();
      const hostLinks = () => spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(': ')[1]?.split('@')[0]);
      const rootfulRules = hostRules(chainOf(rootful.dataRoot));
      assert.ok(rootfulRules.some((l) => l.includes(bridge)), 'the rootful daemon has chains for its bridge');

      ok(['network', 'create', 'rlside']);
      ok(['run', '-d', '--name', 'rootless-c', '--network', 'rlside', 'busybox', 'sleep', '300']);
      const rlBridge = `br-${ok(['network', 'inspect', '-f', '{{.Id}}', 'rlside']).slice(0, 12)}`;
      // The rootless daemon's bridges and rules live in its own namespace only.
      assert.deepEqual(hostRules(chainOf(rootful.dataRoot)), rootfulRules);
      assert.deepEqual(hostRules(chainOf(join(home, '.local/share/berth'))), []);
      assert.deepEqual(hostRules(rlBridge), []);
      assert.ok(!hostLinks().includes(rlBridge), `${rlBridge} appeared on the host`);
      assert.ok(hostLinks().includes(bridge), `the rootful bridge ${bridge} is gone`);
      assert.equal(rootful.ok(['inspect', '-f', '{{.State.Running}}', 'rootful-c']).trim(), 'true');
      assert.equal(ok(['inspect', '-f', '{{.State.Running}}', 'rootless-c']), 'true\n');

      ok(['rm', '-f', 'rootless-c']);
      ok(['network', 'rm', 'rlside']);
      assert.deepEqual(hostRules(chainOf(rootful.dataRoot)), rootfulRules);
      assert.equal(rootful.ok(['inspect', '-f', '{{.State.Running}}', 'rootful-c']).trim(), 'true');
    } finally {
      await rootful?.cleanup();
    }
  });
});
