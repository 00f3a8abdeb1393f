import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { freePort, startBerth, type Berth } from '../harness';
import { waitForHttp } from '../wait';

describe('docker import and docker history', () => {
  let berth: Berth;
  let dir: string;
  let rootTar: string;
  before(async () => {
    berth = await startBerth();
    dir = mkdtempSync(join(tmpdir(), 'berth-import-'));
    const root = join(dir, 'root');
    mkdirSync(join(root, 'bin'), { recursive: true });
    mkdirSync(join(root, 'etc'));
    copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
    symlinkSync('busybox', join(root, 'bin', 'sh'));
    symlinkSync('busybox', join(root, 'bin', 'cat'));
    writeFileSync(join(root, 'etc', 'greeting'), 'imported\n');
    rootTar = join(dir, 'root.tar');
    assert.equal(spawnSync('tar', ['-C', root, '-cf', rootTar, '.']).status, 0);
  });
  after(async () => {
    await berth?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('imports a filesystem tar from stdin (plain or gzip) with --change and --message', () => {
    const id = berth.ok(['import', '-c', 'CMD ["cat", "/etc/greeting"]', '-c', 'ENV FROM=import', '-m', 'my import', '-', 'imported:1'], { input: readFileSync(rootTar) }).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(berth.ok(['run', '--rm', 'imported:1']), 'imported\n');
    assert.equal(berth.ok(['run', '--rm', 'imported:1', 'sh', '-c', 'echo $FROM']), 'import\n');
    const inspect = JSON.parse(berth.ok(['image', 'inspect', 'imported:1']))[0];
    assert.equal(inspect.Comment, 'my import');
    assert.equal(inspect.RootFS.Layers.length, 1);
    const gz = berth.ok(['import', '-', 'imported:gz'], { input: gzipSync(readFileSync(rootTar)) }).trim();
    assert.equal(JSON.parse(berth.ok(['image', 'inspect', gz]))[0].RootFS.Layers[0], inspect.RootFS.Layers[0], 'same layer either way');
    assert.equal(JSON.parse(berth.ok(['image', 'inspect', gz]))[0].Comment, 'Imported from -');
    const bad = berth.docker(['import', '-c', 'RUN true', '-', 'imported:bad'], { input: readFileSync(rootTar) });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /run is not a valid change command/);
  });

  it('imports from a URL (a loopback HTTP server); a missing file is a clear error', async () => {
    const port = await freePort();
    const server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', dir], { stdio: 'ignore' });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/`);
      const url = `http://127.0.0.1:${port}/root.tar`;
      const id = berth.ok(['import', url, 'imported:url']).trim();
      assert.match(id, /^sha256:[0-9a-f]{64}$/);
      assert.equal(berth.ok(['run', '--rm', 'imported:url', 'cat', '/etc/greeting']), 'imported\n');
      assert.equal(JSON.parse(berth.ok(['image', 'inspect', 'imported:url']))[0].Comment, `Imported from ${url}`);
      const missing = berth.docker(['import', `http://127.0.0.1:${port}/nope.tar`]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, new RegExp(`failed to GET http://127.0.0.1:${port}/nope.tar with status 404`));
    } finally {
      server.kill();
    }
  });

  it('docker history lists the entries newest first with sizes, IDs of local images and <missing>', () => {
    berth.ok(['run', '--name', 'hist-src', 'busybox', 'sh', '-c', 'echo more > /more']);
    berth.ok(['commit', '-m', 'added more', 'hist-src', 'hist:1']);
    const rows = JSON.parse(`[${berth.ok(['history', '--no-trunc', '--format', '{{json .}}', 'hist:1']).trim().split('\n').join(',')}]`);
    const base = JSON.parse(berth.ok(['image', 'inspect', 'busybox']))[0];
    const mine = JSON.parse(berth.ok(['image', 'inspect', 'hist:1']))[0];
    assert.equal(rows.length, (base.RootFS.Layers.length as number) + 1);
    assert.equal(rows[0].ID, mine.Id);
    assert.equal(rows[0].Comment, 'added more');
    assert.match(rows[0].CreatedBy, /sh -c echo more > \/more/);
    assert.equal(rows[1].ID, base.Id, 'the parent image is known locally');
    const api = JSON.parse(berth.ok(['image', 'history', '--format', '{{json .}}', 'imported:1']).trim());
    assert.equal(api.Comment, 'my import');
    assert.match(berth.docker(['history', 'no-such-image']).stderr, /No such image/);
  });
});
