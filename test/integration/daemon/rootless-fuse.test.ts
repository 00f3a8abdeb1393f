/**
 * The rootless daemon with `--storage-driver fuse-overlayfs` (docs/rootless.md "Storage"): an
 * ordinary user the test creates (scripts/setup-rootless.sh) runs bin/berthd, which re-executes
 * itself in rootlesskit and mounts container rootfs with fuse-overlayfs; driven as root with the
 * stock CLI. Checks that fuse-overlayfs's own whiteout and opaque marks survive commit and diff.
 * Skipped with the reason where the host forbids user namespaces or lacks a tool.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildBusyboxTarball } from '../../fixtures/busybox-image';
import { DOCKER, installedRuntime, ping, type CommandResult } from '../harness';
import { waitFor } from '../wait';

const REPO = resolve(__dirname, '..', '..', '..', '..');
const BERTHD = join(REPO, 'bin', 'berthd');
const SETUP = join(REPO, 'scripts', 'setup-rootless.sh');
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const FIXTURES = join(tmpdir(), 'berth-test-fixtures');

/** Why this host cannot run a rootless daemon on fuse-overlayfs, or undefined. */
function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'the test creates a user: run it as root';
  for (const tool of ['useradd', 'userdel', 'setpriv', 'rootlesskit', 'slirp4netns', 'newuidmap', 'newgidmap', 'fuse-overlayfs']) {
    if (!installedRuntime(tool)) return `${tool} is not installed (Debian: uidmap, rootlesskit, slirp4netns, fuse-overlayfs, util-linux, passwd)`;
  }
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8').trim() : undefined);
  if (read('/proc/sys/user/max_user_namespaces') === '0') return 'user namespaces are disabled (user.max_user_namespaces=0)';
  if (read('/proc/sys/kernel/unprivileged_userns_clone') === '0') return 'unprivileged user namespaces are forbidden (kernel.unprivileged_userns_clone=0)';
  const probe = spawnSync('unshare', ['--user', '--map-root-user', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) return `this host forbids user namespaces: ${probe.stderr.trim()}`;
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun (slirp4netns needs it)';
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse (fuse-overlayfs needs it)';
  return undefined;
}

const SKIP = skipReason();

describe('rootless berthd with --storage-driver fuse-overlayfs', { skip: SKIP }, () => {
  const user = `berthfo${randomBytes(3).toString('hex')}`;
  let base = '';
  let socket = '';
  let logFile = '';
  let daemon: ChildProcess | undefined;
  let uid = 0;

  const env = (): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(base, 'docker-config'), DOCKER_BUILDKIT: '0' };
    delete e.DOCKER_CONTEXT;
    return e;
  };
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-60).join('\n') : '');
  const docker = (args: string[], timeoutMs = 120_000): CommandResult => {
    const r = spawnSync(DOCKER, args, { env: env(), timeout: timeoutMs, encoding: 'utf8' });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const ok = (args: string[], timeoutMs?: number): string => {
    const r = docker(args, timeoutMs);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr}\n--- berthd log ---\n${log()}`);
    return r.stdout;
  };

  before(async () => {
    const made = spawnSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', user], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
    // Also makes /dev/fuse usable by the user (Debian's 0666).
    const setup = spawnSync('bash', [SETUP, user], { encoding: 'utf8', timeout: 600_000 });
    assert.equal(setup.status, 0, `${setup.stdout}${setup.stderr}`);

    base = mkdtempSync(join(tmpdir(), 'berth-rootless-fuse-'));
    chmodSync(base, 0o755);
    const home = join(base, 'home');
    const xdg = join(base, 'xdg');
    for (const d of [home, xdg]) {
      mkdirSync(d, { mode: 0o700 });
      chownSync(d, uid, uid);
    }
    socket = join(xdg, 'berth.sock');
    logFile = join(base, 'berthd.log');
    const fd = openSync(logFile, 'a');
    daemon = spawn(
      'setpriv',
      ['--reuid', user, '--regid', user, '--init-groups', 'env', '-i', `PATH=${PATH}`, `HOME=${home}`, `XDG_RUNTIME_DIR=${xdg}`, BERTHD, '--log-level', 'debug', '--storage-driver', 'fuse-overlayfs'],
      { stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    const exited = new Promise<never>((_, reject) => daemon!.once('exit', (code) => reject(new Error(`rootless berthd exited with ${code}:\n${log()}`))));
    await Promise.race([waitFor(() => ping(socket), { what: 'the rootless berthd to answer /_ping', timeout: 120_000, interval: 100 }), exited]);
    daemon.removeAllListeners('exit');
    ok(['load', '-i', await buildBusyboxTarball({ dir: FIXTURES, layout: 'oci' })]);
  });

  after(async () => {
    if (daemon && daemon.exitCode === null) {
      const ids = docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) docker(['rm', '-f', ...ids]);
      const exited = new Promise((r) => daemon!.once('exit', r));
      daemon.kill('SIGTERM');
      await exited;
    }
    // Whatever the user's daemon left running (fuse-overlayfs of a failed test): every process of this uid.
    if (uid) spawnSync('pkill', ['-KILL', '-U', String(uid)]);
    spawnSync('userdel', [user]);
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('reports fuse-overlayfs in docker info and runs containers on a fuse-overlayfs root', () => {
    const info = JSON.parse(ok(['info', '--format', '{{json .}}']));
    assert.equal(info.Driver, 'fuse-overlayfs');
    assert.ok(info.SecurityOptions.includes('name=rootless'), JSON.stringify(info.SecurityOptions));
    assert.equal(ok(['run', '--rm', 'busybox', 'sh', '-c', 'echo hello; grep " / " /proc/self/mounts | cut -d" " -f3']), 'hello\nfuse.fuse-overlayfs\n');
    // A user other than the container's root reads and writes its root too (not only the mounter).
    assert.equal(ok(['run', '--rm', '--user', '1000:1000', 'busybox', 'sh', '-c', 'ls /bin/busybox && echo w > /tmp/f && cat /tmp/f']), '/bin/busybox\nw\n');
    const r = docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3, r.stderr);
  });

  it('builds with the classic builder, a replaced directory included', () => {
    const ctx = join(base, 'build');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), ['FROM busybox', 'RUN mkdir -p /d /keep && touch /d/a /d/b /keep/gone /keep/stays', 'RUN rm -rf /d && mkdir /d && touch /d/c', 'CMD ls /d'].join('\n') + '\n');
    ok(['build', '-q', '-t', 'fuse-built', ctx], 300_000);
    assert.equal(ok(['run', '--rm', 'fuse-built']), 'c\n');
  });

  it('commits a deletion and a replaced directory, and diffs them like overlay2', () => {
    const id = ok(['create', 'fuse-built', 'sh', '-c', 'rm /keep/gone && rm -rf /d && mkdir /d && echo new > /d/n']).trim();
    assert.equal(ok(['inspect', '-f', '{{.Driver}} {{.GraphDriver.Name}}', id]), 'fuse-overlayfs fuse-overlayfs\n');
    ok(['start', '-a', id]);
    const diff = ok(['diff', id]).split('\n').filter(Boolean);
    for (const line of ['C /keep', 'D /keep/gone', 'D /d', 'A /d/n']) assert.ok(diff.includes(line), `${line} in docker diff:\n${diff.join('\n')}`);
    assert.ok(!diff.some((l) => l.includes('.wh.')), `no fuse-overlayfs bookkeeping in docker diff:\n${diff.join('\n')}`);
    ok(['commit', id, 'fuse-committed']);
    assert.equal(ok(['run', '--rm', 'fuse-committed', 'sh', '-c', 'ls -A /keep; echo --; ls -A /d; cat /d/n']), 'stays\n--\nn\nnew\n');
    ok(['rm', id]);
  });
});
