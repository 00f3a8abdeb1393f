import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tar from 'tar-stream';
import { api, startBerth, type Berth } from '../harness';
import { waitFor } from '../wait';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; linkname?: string; body?: string; mode?: number };

/** A tar built entry by entry, crafted names and links included. */
async function buildTar(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = { name: e.name, type, linkname: e.linkname, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), mtime: new Date() };
    if (type === 'file') pack.entry(header, e.body ?? '');
    else pack.entry(header);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const decodeStat = (h: string | string[] | undefined) => JSON.parse(Buffer.from(String(h), 'base64').toString('utf8'));

describe('docker cp, export, diff and commit', () => {
  let berth: Berth;
  let host: string;
  before(async () => {
    berth = await startBerth();
    host = mkdtempSync(join(tmpdir(), 'berth-cp-'));
    berth.ok(['run', '-d', '--name', 'live', 'busybox', 'sleep', '1000']);
  });
  after(async () => {
    await berth?.cleanup();
    if (host) rmSync(host, { recursive: true, force: true });
  });

  it('copies files and directories host → container, running or not', () => {
    const src = join(host, 'src');
    mkdirSync(join(src, 'tree', 'a'), { recursive: true });
    writeFileSync(join(src, 'hello.txt'), 'hello\n');
    writeFileSync(join(src, 'tree', 'a', 'b.txt'), 'bee\n');
    chmodSync(join(src, 'tree', 'a', 'b.txt'), 0o640);
    symlinkSync('a/b.txt', join(src, 'tree', 'link'));

    berth.ok(['create', '--name', 'idle', 'busybox', 'sh', '-c', 'cat /hello.txt /tmp/tree/a/b.txt /tmp/tree/link; stat -c %a /tmp/tree/a/b.txt']);
    berth.ok(['cp', join(src, 'hello.txt'), 'idle:/']);
    berth.ok(['cp', join(src, 'tree'), 'idle:/tmp/tree']);
    assert.equal(berth.ok(['start', '-a', 'idle']), 'hello\nbee\nbee\n640\n');
    // Still there after the run, and copying into a stopped container works too.
    berth.ok(['cp', join(src, 'hello.txt'), 'idle:/tmp/again.txt']);
    const back = join(host, 'back-idle');
    berth.ok(['cp', 'idle:/tmp', back]);
    assert.equal(readFileSync(join(back, 'again.txt'), 'utf8'), 'hello\n');
    assert.equal(readFileSync(join(back, 'tree', 'a', 'b.txt'), 'utf8'), 'bee\n');

    berth.ok(['cp', join(src, 'hello.txt'), 'live:/tmp/']);
    berth.ok(['cp', join(src, 'tree'), 'live:/tmp/tree']);
    const out = join(host, 'out');
    mkdirSync(out);
    berth.ok(['cp', 'live:/tmp/hello.txt', out]);
    assert.equal(readFileSync(join(out, 'hello.txt'), 'utf8'), 'hello\n');
  });

  it('copies container → host: a file, a directory, its contents and with -a', () => {
    const out = join(host, 'out2');
    mkdirSync(out);
    berth.ok(['cp', 'live:/etc', join(out, 'etc')]);
    assert.match(readFileSync(join(out, 'etc', 'passwd'), 'utf8'), /^root:/);
    berth.ok(['cp', '-a', 'live:/tmp/tree', join(out, 'tree')]);
    assert.equal(readlinkSync(join(out, 'tree', 'link')), 'a/b.txt');
    assert.equal(statSync(join(out, 'tree', 'a', 'b.txt')).mode & 0o777, 0o640);
    berth.ok(['cp', 'live:/tmp/tree/.', join(out, 'contents')]);
    assert.equal(readFileSync(join(out, 'contents', 'a', 'b.txt'), 'utf8'), 'bee\n');
    const missing = berth.docker(['cp', 'live:/nope', out]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Could not find the file \/nope in container live/);
  });

  it('copies /etc/resolv.conf, /etc/hostname and /etc/hosts out of a container, started or not, as dockerd does', async () => {
    const out = join(host, 'etc-files');
    mkdirSync(out);
    const id = berth.ok(['create', '--name', 'never', '--hostname', 'nevers-host', 'busybox', 'true']).trim();
    // Never started: the empty 0755 files of dockerd's init layer.
    for (const f of ['resolv.conf', 'hostname', 'hosts']) {
      berth.ok(['cp', `never:/etc/${f}`, join(out, f)]);
      const st = statSync(join(out, f));
      assert.ok(st.isFile() && st.size === 0, f);
      assert.equal(st.mode & 0o777, 0o755, f);
    }
    const missing = berth.docker(['cp', 'never:/nope', out]);
    assert.notEqual(missing.code, 0);
    assert.equal(missing.stderr.trim(), 'Error response from daemon: Could not find the file /nope in container never');
    const res = await api(berth.socket, 'GET', `/v1.41/containers/${id}/archive?path=/nope/deeper`);
    assert.equal(res.status, 404);
    assert.deepEqual(JSON.parse(res.body), { message: 'Could not find the file /nope/deeper in container never' });
    // Started (and stopped again): the container's own files.
    berth.ok(['start', '-a', 'never']);
    const started = join(host, 'etc-files-started');
    mkdirSync(started);
    berth.ok(['cp', 'never:/etc/hostname', started]);
    assert.equal(readFileSync(join(started, 'hostname'), 'utf8'), 'nevers-host\n');
    berth.ok(['cp', 'never:/etc/hosts', started]);
    assert.match(readFileSync(join(started, 'hosts'), 'utf8'), /nevers-host/);
    // Running: the same files the process sees.
    const hostsInside = berth.ok(['exec', 'live', 'cat', '/etc/hosts']);
    berth.ok(['cp', 'live:/etc/hosts', join(host, 'live-hosts')]);
    assert.equal(readFileSync(join(host, 'live-hosts'), 'utf8'), hostsInside);
    berth.ok(['cp', 'live:/etc/resolv.conf', join(host, 'live-resolv')]);
    assert.equal(readFileSync(join(host, 'live-resolv'), 'utf8'), berth.ok(['exec', 'live', 'cat', '/etc/resolv.conf']));
    // The stubs are no container change.
    assert.equal(berth.ok(['diff', 'never']).split('\n').filter((l) => /\/etc\/(hosts|hostname|resolv\.conf)$/.test(l)).length, 0);
  });

  it('reports the path stat header, Go FileMode included', async () => {
    const res = await api(berth.socket, 'HEAD', '/containers/live/archive?path=/etc');
    assert.equal(res.status, 200);
    const stat = decodeStat(res.headers['x-docker-container-path-stat']);
    assert.equal(stat.name, 'etc');
    assert.equal(stat.mode, 2 ** 31 + 0o755);
    assert.match(stat.mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const missing = await api(berth.socket, 'HEAD', '/containers/live/archive?path=/nope');
    assert.equal(missing.status, 404);
    const notDir = await api(berth.socket, 'PUT', '/containers/live/archive?path=/etc/passwd', await buildTar([{ name: 'x', body: 'x' }]), { 'Content-Type': 'application/x-tar' });
    assert.equal(notDir.status, 400);
    assert.match(notDir.body, /extraction point is not a directory/);
  });

  it('exports the root filesystem', () => {
    const file = join(host, 'export.tar');
    berth.ok(['export', '-o', file, 'live']);
    const list = spawnSync('tar', ['-tf', file], { encoding: 'utf8' }).stdout.split('\n');
    assert.ok(list.includes('bin/busybox'), 'bin/busybox in export');
    assert.ok(list.includes('tmp/hello.txt'), 'copied file in export');
  });

  it('shows container changes with docker diff', () => {
    berth.ok(['run', '--name', 'changer', 'busybox', 'sh', '-c', 'touch /newfile; rm /etc/group']);
    const lines = berth.ok(['diff', 'changer']).trim().split('\n');
    assert.ok(lines.includes('A /newfile'), lines.join('\n'));
    assert.ok(lines.includes('C /etc'), lines.join('\n'));
    assert.ok(lines.includes('D /etc/group'), lines.join('\n'));
  });

  it('confines crafted archives to the container root', async () => {
    const tag = randomBytes(4).toString('hex');
    const secret = join(host, `secret-${tag}`);
    writeFileSync(secret, 'secret');
    const put = async (dir: string, entries: Entry[]) =>
      api(berth.socket, 'PUT', `/containers/live/archive?path=${encodeURIComponent(dir)}`, await buildTar(entries), { 'Content-Type': 'application/x-tar' });
    const inContainer = async (path: string) => (await api(berth.socket, 'HEAD', `/containers/live/archive?path=${encodeURIComponent(path)}`)).status === 200;

    // ../ climbing out of the extraction directory is refused.
    const climb = await put('/tmp', [{ name: `../../../../../escape-${tag}`, body: 'x' }]);
    assert.equal(climb.status, 400);
    assert.ok(!existsSync(`/escape-${tag}`) && !existsSync(join(tmpdir(), `escape-${tag}`)));

    // Absolute names land below the extraction directory.
    assert.equal((await put('/', [{ name: `/abs-${tag}/path`, body: 'x' }])).status, 200);
    assert.ok(!existsSync(`/abs-${tag}`));
    assert.ok(await inContainer(`/abs-${tag}/path`));

    // A symlink to / and then a write through it: resolved inside the container.
    assert.equal((await put('/tmp', [{ name: 'evil', type: 'symlink', linkname: '/' }, { name: `evil/tmp/pwned-${tag}`, body: 'x' }])).status, 200);
    assert.ok(!existsSync(join('/tmp', `pwned-${tag}`)));
    assert.ok(await inContainer(`/tmp/pwned-${tag}`));
    // ... and a relative one climbing above the root.
    assert.equal((await put('/tmp', [{ name: 'up', type: 'symlink', linkname: '../../../../../..' }, { name: `up${host}/up-${tag}`, body: 'x' }])).status, 200);
    assert.ok(!existsSync(join(host, `up-${tag}`)));
    assert.ok(await inContainer(`${host}/up-${tag}`));
    // A destination that is itself a symlink to / is the container's root.
    assert.equal((await put('/tmp/evil', [{ name: `via-dest-${tag}`, body: 'x' }])).status, 200);
    assert.ok(!existsSync(`/via-dest-${tag}`));
    assert.ok(await inContainer(`/via-dest-${tag}`));

    // Hard links to host paths: the target is looked up inside the container, never on the host.
    const hard = await put('/tmp', [{ name: `hl-${tag}`, type: 'link', linkname: secret }]);
    assert.equal(hard.status, 400);
    assert.equal(lstatSync(secret).nlink, 1);
    const hardUp = await put('/tmp', [{ name: `hl2-${tag}`, type: 'link', linkname: '../../../../etc/shadow' }]);
    assert.equal(hardUp.status, 400);
    const passwdLinks = lstatSync('/etc/passwd').nlink;
    // Link names are relative to the extraction directory, like dockerd's Join(dest, linkname).
    assert.equal((await put('/', [{ name: `tmp/hl3-${tag}`, type: 'link', linkname: '/etc/passwd' }])).status, 200);
    assert.equal(lstatSync('/etc/passwd').nlink, passwdLinks);
    assert.ok(await inContainer(`/tmp/hl3-${tag}`));
    const linked = await api(berth.socket, 'GET', `/containers/live/archive?path=${encodeURIComponent(`/tmp/hl3-${tag}`)}`);
    assert.match(linked.body, /root:x:0:0/);
    assert.equal(readFileSync(secret, 'utf8'), 'secret');
  });
  it('refuses a truncated, garbage or corrupt gzip archive with a 400 and leaves nothing behind', async () => {
    berth.ok(['run', '-d', '--name', 'clean', 'busybox', 'sleep', '1000']);
    const put = (body: Buffer) =>
      api(berth.socket, 'PUT', '/containers/clean/archive?path=/tmp', body, { 'Content-Type': 'application/x-tar' });
    const listing = () => berth.ok(['exec', 'clean', 'ls', '-A', '/tmp']);
    assert.equal(listing(), '');

    const good = await buildTar([
      { name: 'one.txt', body: 'one\n' },
      { name: 'sub', type: 'directory' },
      { name: 'sub/two.txt', body: 'two\n', mode: 0o600 },
      { name: 'big.bin', body: randomBytes(300 * 1024).toString('base64') },
    ]);
    const gzipped = gzipSync(good);
    const cases: Array<[string, Buffer, RegExp]> = [
      ['truncated tar', good.subarray(0, 200 * 1024), /unexpected EOF/],
      ['garbage bytes', randomBytes(3000), /invalid tar header/],
      ['truncated gzip', gzipped.subarray(0, Math.floor(gzipped.length / 2)), /unexpected EOF/],
      ['corrupt gzip', Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), randomBytes(2000)]), /Error processing tar file/],
    ];
    for (const [what, body, words] of cases) {
      const r = await put(body);
      assert.equal(r.status, 400, `${what}: ${r.body}`);
      assert.match(JSON.parse(r.body).message, words, what);
      assert.equal(listing(), '', `${what} left something in /tmp`);
    }

    // A whole archive, plain or gzipped, still lands in full.
    assert.equal((await put(good)).status, 200);
    assert.equal(berth.ok(['exec', 'clean', 'sh', '-c', 'cat /tmp/one.txt /tmp/sub/two.txt; stat -c %a /tmp/sub/two.txt; wc -c < /tmp/big.bin']).trim(), `one\ntwo\n600\n${Math.ceil((300 * 1024) / 3) * 4}`);
    berth.ok(['exec', 'clean', 'rm', '-rf', '/tmp/one.txt', '/tmp/sub', '/tmp/big.bin']);
    assert.equal((await put(gzipped)).status, 200);
    assert.equal(listing(), 'big.bin\none.txt\nsub\n');
    berth.ok(['rm', '-f', 'clean']);
  });

  it('sees volumes and binds at their destinations, running or not, and leaves no mount behind', async () => {
    const tag = randomBytes(4).toString('hex');
    const bind = join(host, `bind-${tag}`);
    mkdirSync(bind);
    writeFileSync(join(bind, 'from-host.txt'), 'host side\n');
    const file = join(host, `in-${tag}.txt`);
    writeFileSync(file, 'into the volume\n');
    berth.ok(['run', '-d', '--name', `vol-live-${tag}`, '-v', `cpvol-${tag}:/data`, '-v', `${bind}:/bound`, 'busybox', 'sleep', '1000']);
    berth.ok(['cp', file, `vol-live-${tag}:/data/live.txt`]);
    berth.ok(['create', '--name', `vol-idle-${tag}`, '-v', `cpvol-${tag}:/data`, 'busybox', 'true']);
    berth.ok(['cp', file, `vol-idle-${tag}:/data/idle.txt`]);
    // Both writes are in the volume itself, not in either container's own layer.
    assert.equal(berth.ok(['run', '--rm', '-v', `cpvol-${tag}:/v`, 'busybox', 'cat', '/v/live.txt', '/v/idle.txt']), 'into the volume\ninto the volume\n');
    assert.equal(berth.ok(['diff', `vol-idle-${tag}`]).includes('/data/idle.txt'), false);
    // Reading back through the container, from the bind and from the volume.
    const back = join(host, `back-${tag}`);
    berth.ok(['cp', `vol-idle-${tag}:/data`, back]);
    assert.deepEqual(['idle.txt', 'live.txt'].map((f) => existsSync(join(back, f))), [true, true]);
    berth.ok(['cp', `vol-live-${tag}:/bound/from-host.txt`, join(host, `bound-${tag}.txt`)]);
    assert.equal(readFileSync(join(host, `bound-${tag}.txt`), 'utf8'), 'host side\n');
    // The view of a GET is released once its stream has ended, just after the client is done.
    // Only this daemon's views count (another daemon on the host may be copying too).
    const viewMounted = () =>
      readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[4] ?? '')
        .some((m) => m.startsWith(`${berth.dataRoot}/`) && /\/archive-[0-9a-f]{12}(\/|$)/.test(m));
    await waitFor(() => !viewMounted(), { what: 'the archive view to be unmounted' });
  });

  it('refuses writes into read-only volumes and a read-only root filesystem, like dockerd', () => {
    const tag = randomBytes(4).toString('hex');
    const file = join(host, `ro-${tag}.txt`);
    writeFileSync(file, 'x');
    berth.ok(['create', '--name', `ro-vol-${tag}`, '-v', `rovol-${tag}:/data:ro`, 'busybox', 'true']);
    const vol = berth.docker(['cp', file, `ro-vol-${tag}:/data/`]);
    assert.notEqual(vol.code, 0);
    assert.match(vol.stderr, /mounted volume is marked read-only/);
    berth.ok(['create', '--name', `ro-root-${tag}`, '--read-only', '-v', `rwvol-${tag}:/data`, 'busybox', 'true']);
    const root = berth.docker(['cp', file, `ro-root-${tag}:/tmp/`]);
    assert.notEqual(root.code, 0);
    assert.match(root.stderr, /container rootfs is marked read-only/);
    // A writable volume inside a read-only root still takes files.
    berth.ok(['cp', file, `ro-root-${tag}:/data/`]);
  });

  it('resolves a symlink to a host path inside the container, never on the host', async () => {
    const tag = randomBytes(4).toString('hex');
    const secretDir = join(host, `hostdir-${tag}`);
    mkdirSync(secretDir);
    writeFileSync(join(secretDir, 'secret'), 'host secret');
    berth.ok(['run', '--name', `linker-${tag}`, 'busybox', 'ln', '-s', secretDir, `/tmp/hostlink-${tag}`]);
    const got = await api(berth.socket, 'GET', `/containers/linker-${tag}/archive?path=${encodeURIComponent(`/tmp/hostlink-${tag}/secret`)}`);
    assert.equal(got.status, 404);
    assert.doesNotMatch(got.body, /host secret/);
    const out = berth.docker(['cp', `linker-${tag}:/tmp/hostlink-${tag}/`, join(host, `leak-${tag}`)]);
    assert.notEqual(out.code, 0);
    assert.equal(existsSync(join(host, `leak-${tag}`)), false);
  });
  it('commits a container as a new image layer that runs: additions, changes, deletions', () => {
    const tag = randomBytes(4).toString('hex');
    berth.ok(['run', '--name', `commit-src-${tag}`, '-e', 'FROM_RUN=1', 'busybox', 'sh', '-c',
      'mkdir -p /app/sub && echo v1 > /app/sub/file && echo changed > /etc/motd && rm /etc/group && rm -r /root && rm -r /home && mkdir /home && echo n > /home/new']);
    const id = berth.ok(['commit', '-a', 'Ada <ada@example.com>', '-m', 'first commit', '-c', 'ENV GREETING=hello', '-c', 'CMD ["cat", "/app/sub/file"]',
      '-c', 'LABEL stage=one', '-c', 'WORKDIR /app', `commit-src-${tag}`, `committed-${tag}:v1`]).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    // The new image runs with its CMD and shows the committed files, and the deletions hold.
    assert.equal(berth.ok(['run', '--rm', `committed-${tag}:v1`]), 'v1\n');
    assert.equal(berth.ok(['run', '--rm', `committed-${tag}:v1`, 'sh', '-c',
      'cat /etc/motd; test -e /etc/group || echo no-group; test -e /root || echo no-root; ls -A /home; test -e /etc/passwd && echo passwd; pwd; echo $GREETING $FROM_RUN']),
      'changed\nno-group\nno-root\nnew\npasswd\n/app\nhello 1\n');
    const inspect = JSON.parse(berth.ok(['image', 'inspect', `committed-${tag}:v1`]))[0];
    const base = JSON.parse(berth.ok(['image', 'inspect', 'busybox']))[0];
    assert.equal(inspect.Id, id);
    assert.equal(inspect.Author, 'Ada <ada@example.com>');
    assert.equal(inspect.Comment, 'first commit');
    assert.equal(inspect.Parent, base.Id);
    assert.equal(inspect.Config.Labels.stage, 'one');
    assert.deepEqual(inspect.Config.Cmd, ['cat', '/app/sub/file']);
    assert.equal(inspect.RootFS.Layers.length, base.RootFS.Layers.length + 1);
    // A second commit on top keeps stacking, and an unchanged container still adds a layer.
    berth.ok(['run', '--name', `commit-2-${tag}`, `committed-${tag}:v1`, 'rm', '/app/sub/file']);
    berth.ok(['commit', `commit-2-${tag}`, `committed-${tag}:v2`]);
    assert.equal(berth.ok(['run', '--rm', `committed-${tag}:v2`, 'sh', '-c', 'ls -A /app/sub; echo end']), 'end\n');
    // Bad input: an invalid change and an invalid reference store nothing.
    const before = berth.ok(['images', '-q', '--no-trunc']).trim().split('\n').length;
    const badChange = berth.docker(['commit', '-c', 'RUN echo hi', `commit-2-${tag}`]);
    assert.notEqual(badChange.code, 0);
    assert.match(badChange.stderr, /run is not a valid change command/);
    const badRef = berth.docker(['commit', `commit-2-${tag}`, 'NotLower']);
    assert.notEqual(badRef.code, 0);
    assert.equal(berth.ok(['images', '-q', '--no-trunc']).trim().split('\n').length, before);
  });
  it('cp -a gives copied files the container user, a name looked up in its passwd', () => {
    const tag = randomBytes(4).toString('hex');
    const file = join(host, `owned-${tag}.txt`);
    writeFileSync(file, 'x');
    berth.ok(['create', '--name', `owner-${tag}`, '-u', 'berthtest', 'busybox', 'stat', '-c', '%u:%g', '/tmp/owned.txt']);
    berth.ok(['cp', '-a', file, `owner-${tag}:/tmp/owned.txt`]);
    assert.equal(berth.ok(['start', '-a', `owner-${tag}`]), '1000:1000\n');
  });
  it('commit pauses a running container while reading its layer, and --pause=false does not', () => {
    const tag = randomBytes(4).toString('hex');
    berth.ok(['run', '-d', '--name', `busy-${tag}`, 'busybox', 'sh', '-c', 'echo live > /live; sleep 1000']);
    const since = String(Math.floor(Date.now() / 1000) - 1);
    berth.ok(['commit', `busy-${tag}`, `live-${tag}:1`]);
    berth.ok(['commit', '--pause=false', `busy-${tag}`, `live-${tag}:2`]);
    const until = (Date.now() / 1000 + 0.5).toFixed(3);
    const actions = berth.ok(['events', '--since', since, '--until', until, '--filter', `container=busy-${tag}`, '--filter', 'event=pause', '--filter', 'event=unpause', '--filter', 'event=commit', '--format', '{{.Action}}']).trim().split('\n');
    // Paused around the first commit only.
    assert.deepEqual(actions, ['pause', 'commit', 'unpause', 'commit']);
    assert.equal(JSON.parse(berth.ok(['inspect', `busy-${tag}`]))[0].State.Status, 'running');
    assert.equal(berth.ok(['run', '--rm', `live-${tag}:1`, 'cat', '/live']), 'live\n');
  });
});
