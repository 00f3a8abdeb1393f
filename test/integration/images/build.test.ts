import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { tarOf } from '../../fixtures/save-tarball';
import { api, DOCKER, freePort, startBerth, type Berth } from '../harness';
import { waitFor, waitForHttp } from '../wait';

/** `docker build` with the stock CLI's classic builder (no BuildKit here) against Berth. */
describe('docker build (classic builder)', () => {
  let berth: Berth;
  let dir: string;
  before(async () => {
    berth = await startBerth();
    dir = mkdtempSync(join(tmpdir(), 'berth-build-'));
  });
  after(async () => {
    await berth?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A context directory with these files (paths relative to it). */
  const context = (name: string, files: Record<string, string>) => {
    const root = join(dir, name);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), content, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
    }
    return root;
  };
  const inspect = (ref: string) => JSON.parse(berth.ok(['image', 'inspect', ref]))[0];
  const build = (args: string[]) => berth.docker(['build', ...args], { timeoutMs: 120_000 });
  /** The CLI without blocking this process (for servers the test itself runs). */
  const buildAsync = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(DOCKER, ['build', ...args], { env: berth.env });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d));
      p.stderr.on('data', (d: Buffer) => (stderr += d));
      p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });

  it('builds FROM/ARG/ENV/WORKDIR/COPY/RUN/LABEL/EXPOSE/USER/CMD with .dockerignore, and a rebuild comes from the cache', () => {
    const root = context('basic', {
      Dockerfile: [
        'FROM busybox',
        'ARG GREETING=hello',
        'ENV WHO=world \\',
        '    PLACE="the box"',
        'WORKDIR /app',
        'COPY greet.sh ./',
        'COPY data/ /data/',
        'RUN echo "$GREETING $WHO from $PLACE" > /app/out.txt',
        'LABEL version="1.0" team=berth',
        'EXPOSE 8080/tcp',
        'USER nobody',
        'CMD ["./greet.sh"]',
      ].join('\n'),
      'greet.sh': '#!/bin/sh\ncat /app/out.txt\n',
      'data/a.txt': 'a\n',
      'data/sub/b.txt': 'b\n',
      'data/skip.log': 'ignored\n',
      '.dockerignore': '# logs stay out\n**/*.log\n',
    });
    const r = build(['-t', 'built:1', '--build-arg', 'GREETING=hi', root]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Step 1\/11 : FROM busybox\n ---> [0-9a-f]{12}\n/);
    assert.match(r.stdout, /Step 7\/11 : RUN echo "\$GREETING \$WHO from \$PLACE" > \/app\/out.txt\n ---> Running in [0-9a-f]{12}\n/);
    assert.match(r.stdout, /Successfully built ([0-9a-f]{12})\nSuccessfully tagged built:1\n/);
    assert.equal(berth.ok(['run', '--rm', 'built:1']), 'hi world from the box\n');
    const img = inspect('built:1');
    assert.equal(img.Config.WorkingDir, '/app');
    assert.equal(img.Config.User, 'nobody');
    assert.deepEqual(img.Config.Cmd, ['./greet.sh']);
    assert.ok(img.Config.Env.includes('WHO=world') && img.Config.Env.includes('PLACE=the box'), img.Config.Env.join());
    assert.ok(!img.Config.Env.some((e: string) => e.startsWith('GREETING=')), 'build args are not kept');
    assert.deepEqual(img.Config.Labels, { version: '1.0', team: 'berth' });
    assert.deepEqual(img.Config.ExposedPorts, { '8080/tcp': {} });
    assert.equal(berth.ok(['run', '--rm', '--user', 'root', 'built:1', 'sh', '-c', 'find /data | sort; stat -c %u:%g /data/sub/b.txt']), '/data\n/data/a.txt\n/data/sub\n/data/sub/b.txt\n0:0\n');
    // History: one entry per step after FROM, config-only steps as empty layers.
    const history = berth.ok(['history', '--format', '{{.CreatedBy}}', 'built:1']).split('\n');
    assert.match(history[0], /CMD \["\.\/greet\.sh"\]/);
    assert.ok(history.some((h) => /\|1 GREETING=hi \/bin\/sh -c echo/.test(h)), history.join('\n'));
    assert.equal(berth.ok(['ps', '-aq']), '', 'intermediate containers removed');

    const again = build(['-t', 'built:2', '--build-arg', 'GREETING=hi', root]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((again.stdout.match(/Using cache/g) ?? []).length, 10, again.stdout);
    assert.equal(inspect('built:2').Id, img.Id);
    const changedArg = build(['--build-arg', 'GREETING=hey', '-q', root]);
    assert.equal(changedArg.code, 0, changedArg.stderr);
    assert.match(changedArg.stdout.trim(), /^sha256:[0-9a-f]{64}$/, '-q prints only the ID');
    assert.notEqual(changedArg.stdout.trim(), img.Id, 'another build arg value runs the RUN again');
    const noCache = build(['--no-cache', '--build-arg', 'GREETING=hi', root]);
    assert.equal(noCache.code, 0, noCache.stderr);
    assert.doesNotMatch(noCache.stdout, /Using cache/);
  });

  it('multi-stage: COPY --from a named stage, --target stops early; scratch images', () => {
    const root = context('stages', {
      Dockerfile: [
        'FROM busybox AS compile',
        'RUN mkdir /out && echo artifact > /out/result.txt',
        'FROM scratch AS bare',
        'COPY --from=compile /out/result.txt /result.txt',
        'COPY --from=compile /bin/busybox /bin/sh',
        'FROM busybox',
        'COPY --from=bare /result.txt /copied/',
        'CMD ["cat", "/copied/result.txt"]',
      ].join('\n'),
    });
    const r = build(['-t', 'multi:1', root]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(berth.ok(['run', '--rm', 'multi:1']), 'artifact\n');
    const bare = build(['--target', 'bare', '-t', 'multi:bare', root]);
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal(inspect('multi:bare').RootFS.Layers.length, 2, 'scratch plus two COPY layers');
    assert.equal(berth.ok(['run', '--rm', '--entrypoint', '/bin/sh', 'multi:bare', '-c', 'echo from scratch']), 'from scratch\n');
    const missing = build(['--target', 'nope', root]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /failed to reach build target nope in Dockerfile/);
  });

  it('fails clearly: a failing RUN (exit code), unknown instructions, missing files; nothing escapes the context', () => {
    // The Dockerfile from outside the context (the CLI appends it to the context tar).
    writeFileSync(join(dir, 'outside.Dockerfile'), 'FROM busybox\nRUN echo before; exit 3\nRUN echo never\n');
    const failing = build(['-f', join(dir, 'outside.Dockerfile'), context('failing', { 'file.txt': 'x\n' })]);
    assert.equal(failing.code, 3, 'the CLI exits with the RUN exit code');
    assert.match(failing.stdout, /before\n/);
    assert.match(failing.stderr, /The command '\/bin\/sh -c echo before; exit 3' returned a non-zero code: 3/);
    assert.doesNotMatch(failing.stdout, /never/);

    const unknown = build([context('unknown', { Dockerfile: 'FROM busybox\nFROBNICATE now\n' })]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /unknown instruction: FROBNICATE/i);

    const root = context('escape', { Dockerfile: 'FROM busybox\nCOPY link/passwd /stolen\n' });
    symlinkSync('/etc', join(root, 'link'));
    const escape = build([root]);
    assert.notEqual(escape.code, 0);
    assert.match(escape.stderr, /COPY failed: file not found in build context or excluded by \.dockerignore: stat link\/passwd: file does not exist/);

    const buildkit = build([context('buildkit', { Dockerfile: 'FROM busybox\nRUN --mount=type=cache,target=/c true\n' })]);
    assert.notEqual(buildkit.code, 0);
    assert.match(buildkit.stderr, /the --mount option requires BuildKit/);

    const noFile = build(['-f', 'nope.Dockerfile', context('nofile', { Dockerfile: 'FROM busybox\n' })]);
    assert.notEqual(noFile.code, 0);
  });

  it('ADD unpacks local tar archives (gzip too); FROM scratch with ADD of a whole rootfs', () => {
    const root = context('add', { Dockerfile: 'FROM busybox\nADD bundle.tar.gz /opt/bundle/\nADD plain.txt /opt/\n', 'plain.txt': 'plain\n', 'src/x/one.txt': 'one\n' });
    assert.equal(spawnSync('tar', ['-czf', join(root, 'bundle.tar.gz'), '-C', join(root, 'src'), '.']).status, 0);
    const r = build(['-t', 'added:1', root]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(berth.ok(['run', '--rm', 'added:1', 'sh', '-c', 'cat /opt/bundle/x/one.txt /opt/plain.txt; ls /opt']), 'one\nplain\nbundle\nplain.txt\n');

    berth.ok(['create', '--name', 'rootfs-src', 'busybox']);
    const scratch = context('scratch', { Dockerfile: 'FROM scratch\nADD rootfs.tar /\nCMD ["sh", "-c", "echo from a scratch rootfs"]\n' });
    berth.ok(['export', '-o', join(scratch, 'rootfs.tar'), 'rootfs-src']);
    berth.ok(['rm', 'rootfs-src']);
    const s = build(['-t', 'scratchfs:1', scratch]);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(berth.ok(['run', '--rm', 'scratchfs:1']), 'from a scratch rootfs\n');
  });

  it('ADD <URL> downloads the file (a loopback HTTP server), mode 0600; a missing one fails clearly', async () => {
    const served = join(dir, 'served');
    mkdirSync(served, { recursive: true });
    writeFileSync(join(served, 'remote.txt'), 'fetched over http\n');
    const port = await freePort();
    const server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', served], { stdio: 'ignore' });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/`);
      const root = context('add-url', { Dockerfile: `FROM busybox\nADD http://127.0.0.1:${port}/remote.txt /downloaded/\n` });
      const r = await buildAsync(['-t', 'urladd:1', root]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(berth.ok(['run', '--rm', 'urladd:1', 'sh', '-c', 'cat /downloaded/remote.txt; stat -c %a /downloaded/remote.txt']), 'fetched over http\n600\n');
      const missing = await buildAsync([context('add-url-missing', { Dockerfile: `FROM busybox\nADD http://127.0.0.1:${port}/nope.txt /x\n` })]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, new RegExp(`failed to GET http://127.0.0.1:${port}/nope.txt with status 404`));
    } finally {
      server.kill();
    }
  });

  it('a client that goes away cancels the build: the running step is stopped', async () => {
    const root = context('cancel', { Dockerfile: 'FROM busybox\nRUN echo started; sleep 60\n' });
    const earlier = berth.ok(['ps', '-aq']);
    const cli = spawn(DOCKER, ['build', root], { env: berth.env });
    let out = '';
    cli.stdout.on('data', (d: Buffer) => (out += d));
    // The step's own output (the Step line also says "started").
    await waitFor(() => /\nstarted\n/.test(out), { what: "the step's output" });
    assert.notEqual(berth.ok(['ps', '-q']), '', 'the step runs');
    cli.kill('SIGKILL');
    await waitFor(() => berth.ok(['ps', '-aq']) === earlier, { what: 'the step container to be gone' });
  });

  it('ONBUILD triggers run in the child build; SHELL, HEALTHCHECK, STOPSIGNAL, VOLUME land in the config', () => {
    const base = context('onbuild-base', {
      Dockerfile: [
        'FROM busybox',
        'SHELL ["/bin/sh", "-ec"]',
        'ONBUILD COPY app.txt /app/',
        'ONBUILD RUN cat /app/app.txt > /app/seen',
        'HEALTHCHECK --interval=5s --retries=2 CMD true',
        'STOPSIGNAL SIGUSR1',
        'VOLUME /data',
      ].join('\n'),
    });
    const b = build(['-t', 'onbase:1', base]);
    assert.equal(b.code, 0, b.stderr);
    const cfg = inspect('onbase:1').Config;
    assert.deepEqual(cfg.Shell, ['/bin/sh', '-ec']);
    assert.deepEqual(cfg.OnBuild, ['COPY app.txt /app/', 'RUN cat /app/app.txt > /app/seen']);
    assert.deepEqual(cfg.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Retries: 2 });
    assert.equal(cfg.StopSignal, 'SIGUSR1');
    assert.deepEqual(cfg.Volumes, { '/data': {} });
    const child = build(['-t', 'onchild:1', context('onbuild-child', { Dockerfile: 'FROM onbase:1\n', 'app.txt': 'from the child context\n' })]);
    assert.equal(child.code, 0, child.stderr);
    assert.match(child.stdout, /# Executing 2 build triggers/);
    assert.equal(berth.ok(['run', '--rm', 'onchild:1', 'cat', '/app/seen']), 'from the child context\n');
    assert.ok(!inspect('onchild:1').Config.OnBuild?.length, 'triggers are not inherited further');
  });

  it('-f, --label, COPY --chown and wildcards, ENTRYPOINT with CMD', () => {
    const root = context('options', {
      'build/app.Dockerfile': [
        'FROM busybox',
        'COPY --chown=nobody:nobody *.txt /files/',
        'ENTRYPOINT ["sh", "-c"]',
        'CMD ["stat -c %U:%G /files/one.txt; ls /files"]',
      ].join('\n'),
      'one.txt': '1\n',
      'two.txt': '2\n',
      'three.md': '3\n',
    });
    const r = build(['-f', join(root, 'build/app.Dockerfile'), '--label', 'built.by=berth', '-t', 'opts:1', root]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(berth.ok(['run', '--rm', 'opts:1']), 'nobody:nobody\none.txt\ntwo.txt\n');
    assert.equal(inspect('opts:1').Config.Labels['built.by'], 'berth');
  });

  it('COPY and ADD make what dockerd makes: source modes kept, new dirs 0755, --chown on the content and a file\'s new parents; a later USER reads copied dirs', () => {
    const root = context('modes', {
      Dockerfile: [
        'FROM busybox',
        'RUN mkdir -m 700 /exist',
        'COPY secret /sec',
        'COPY dir /deep/a/b/',
        'COPY private exe /files/',
        'COPY --chown=1000:1000 secret /owned/x/y',
        'COPY --chown=1000:1000 private /owned2/x/file',
        'COPY --chown=1000:1000 secret /exist',
        'ADD --chown=1000:1000 dir /added/a/',
        'USER nobody',
        'RUN cat /sec/t /deep/a/b/pub',
      ].join('\n'),
      'dir/a': 'a\n',
      'dir/pub': 'pub\n',
      'dir/sub/s': 's\n',
      private: 'p\n',
      exe: 'x\n',
      'secret/t': 't\n',
    });
    for (const [path, mode] of [['dir/a', 0o600], ['dir/sub', 0o700], ['dir', 0o700], ['private', 0o600], ['exe', 0o700], ['secret', 0o700]] as const) chmodSync(join(root, path), mode);
    const r = build(['-t', 'modes:1', root]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /t\npub\n/, 'USER nobody reads the copied directories');
    const paths = ['/sec', '/sec/t', '/deep', '/deep/a', '/deep/a/b', '/deep/a/b/a', '/deep/a/b/sub', '/files/private', '/files/exe', '/owned', '/owned/x', '/owned/x/y', '/owned/x/y/t', '/owned2', '/owned2/x', '/owned2/x/file', '/exist', '/exist/t', '/added', '/added/a', '/added/a/a', '/added/a/sub'];
    // As dockerd 20.10's classic builder makes them for the same Dockerfile and context.
    assert.equal(berth.ok(['run', '--rm', '-u', '0', 'modes:1', 'stat', '-c', '%A %u:%g %n', ...paths]), [
      'drwxr-xr-x 0:0 /sec',
      '-rw-r--r-- 0:0 /sec/t',
      'drwxr-xr-x 0:0 /deep',
      'drwxr-xr-x 0:0 /deep/a',
      'drwxr-xr-x 0:0 /deep/a/b',
      '-rw------- 0:0 /deep/a/b/a',
      'drwx------ 0:0 /deep/a/b/sub',
      '-rw------- 0:0 /files/private',
      '-rwx------ 0:0 /files/exe',
      'drwxr-xr-x 0:0 /owned',
      'drwxr-xr-x 0:0 /owned/x',
      'drwxr-xr-x 1000:1000 /owned/x/y',
      '-rw-r--r-- 1000:1000 /owned/x/y/t',
      'drwxr-xr-x 1000:1000 /owned2',
      'drwxr-xr-x 1000:1000 /owned2/x',
      '-rw------- 1000:1000 /owned2/x/file',
      'drwx------ 0:0 /exist',
      '-rw-r--r-- 1000:1000 /exist/t',
      'drwxr-xr-x 0:0 /added',
      'drwxr-xr-x 1000:1000 /added/a',
      '-rw------- 1000:1000 /added/a/a',
      'drwx------ 1000:1000 /added/a/sub',
      '',
    ].join('\n'));
  });

  it("RUN's stderr is in the build stream, in dockerd's red", async () => {
    const body = await tarOf([{ name: 'Dockerfile', data: 'FROM busybox\nRUN echo out && sh -c ">&2 echo \'to stderr\'"\n' }]);
    const res = await api(berth.socket, 'POST', '/build?nocache=1', body, { 'Content-Type': 'application/x-tar' });
    assert.equal(res.status, 200);
    const streams = res.body.trim().split('\n').map((l) => (JSON.parse(l) as { stream?: string }).stream);
    assert.ok(streams.includes('out\n'), res.body);
    assert.ok(streams.includes('\x1b[91mto stderr\n\x1b[0m'), res.body);
  });

  it('--add-host lands in the /etc/hosts of RUN containers', () => {
    const r = berth.docker(['build', '--add-host', 'extrahost.test:127.0.0.1', '--add-host', 'other.test:10.1.2.3', '-t', 'hosts:1', '-'], {
      input: 'FROM busybox\nRUN ping -c1 -W1 extrahost.test\nRUN cp /etc/hosts /hosts-file\n',
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const hosts = berth.ok(['run', '--rm', 'hosts:1', 'cat', '/hosts-file']);
    assert.match(hosts, /^127\.0\.0\.1\textrahost\.test$/m);
    assert.match(hosts, /^10\.1\.2\.3\tother\.test$/m);
  });

  it('--cache-from: only the named images serve as cache, as with the classic builder', () => {
    const dockerfile = 'FROM busybox\nENV FOO=bar\nRUN touch /baz\nRUN touch /bax\n';
    const run = (args: string[]) => {
      const r = berth.docker(['build', ...args, '-'], { input: dockerfile, timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      return { cached: r.stdout.split('\n').filter((l) => l.includes('Using cache')).length, id: /Successfully built ([0-9a-f]{12})/.exec(r.stdout)![1] };
    };
    const first = run(['-t', 'cache1']);
    const second = run(['--cache-from', 'cache1', '-t', 'cache2']);
    assert.equal(second.cached, 3);
    assert.equal(second.id, first.id);
    // An image that does not exist is skipped, leaving no cache at all (not the local one).
    const third = run(['--cache-from', 'nosuchtag', '-t', 'cache3']);
    assert.equal(third.cached, 0);
    assert.notEqual(third.id, first.id);
    // Without --cache-from the local cache serves.
    assert.equal(run(['-t', 'cache4']).cached, 3);
    // An image with no local build history (saved, removed, loaded back: as if pulled) serves
    // through its history: every step cached, the same image at the end (dockerd does the same).
    const saved = join(dir, 'cache1.tar');
    berth.ok(['save', '-o', saved, 'cache1']);
    berth.ok(['rmi', 'cache1', 'cache2', 'cache4']);
    berth.ok(['load', '-i', saved]);
    const ids = () => berth.ok(['history', '-q', 'cache1']).trim().split('\n');
    assert.deepEqual(ids().slice(1, 3), ['<missing>', '<missing>'], 'no local build history left');
    const fromHistory = run(['--cache-from', 'cache1', '-t', 'cache5']);
    assert.equal(fromHistory.cached, 3);
    assert.equal(fromHistory.id, first.id);
    assert.equal(berth.ok(['run', '--rm', 'cache5', 'ls', '/bax', '/baz']), '/bax\n/baz\n');
    assert.ok(!ids().slice(1, 3).includes('<missing>'), 'the steps are images again');
    // A Dockerfile that stops earlier ends on a step rebuilt from the source's history.
    const r = berth.docker(['build', '--cache-from', 'cache1', '-t', 'cache6', '-'], { input: 'FROM busybox\nENV FOO=bar\nRUN touch /baz\n', timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').filter((l) => l.includes('Using cache')).length, 2);
    assert.deepEqual(inspect('cache6').RootFS.Layers, inspect('cache1').RootFS.Layers.slice(0, -1));
    assert.equal(berth.ok(['run', '--rm', 'cache6', 'sh', '-c', 'echo $FOO; ls /baz']), 'bar\n/baz\n');
  });

  it('dockerode builds from a context directory and reads the aux ID and errors from the stream', async () => {
    const docker = new Docker({ socketPath: berth.socket });
    const root = context('dockerode', { Dockerfile: 'FROM busybox\nARG WHAT\nRUN echo "$WHAT" > /what\n' });
    const follow = (stream: NodeJS.ReadableStream) =>
      new Promise<Array<Record<string, unknown>>>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, out: Array<Record<string, unknown>>) => (err ? reject(err) : resolve(out))));
    const out = await follow(await docker.buildImage({ context: root, src: ['Dockerfile'] }, { t: 'dockerode-built:1', buildargs: { WHAT: 'via dockerode' } }));
    const id = (out.find((m) => m.aux) as { aux: { ID: string } }).aux.ID;
    assert.equal((await docker.getImage('dockerode-built:1').inspect()).Id, id);
    assert.equal(berth.ok(['run', '--rm', 'dockerode-built:1', 'cat', '/what']), 'via dockerode\n');
    const bad = context('dockerode-bad', { Dockerfile: 'FROM busybox\nRUN exit 7\n' });
    const failed = await follow(await docker.buildImage({ context: bad, src: ['Dockerfile'] }, {}));
    assert.deepEqual(failed.at(-1), { errorDetail: { code: 7, message: "The command '/bin/sh -c exit 7' returned a non-zero code: 7" }, error: "The command '/bin/sh -c exit 7' returned a non-zero code: 7" });
  });
});
