import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DOCKER, startBerth, type Berth } from '../harness';

describe('docker save', () => {
  let a: Berth;
  let b: Berth;
  let dir: string;
  before(async () => {
    a = await startBerth();
    b = await startBerth({ busybox: false });
    dir = mkdtempSync(join(tmpdir(), 'berth-save-'));
  });
  after(async () => {
    await a?.cleanup();
    await b?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('saves images and tags that load elsewhere with the same IDs and run', () => {
    a.ok(['run', '--name', 'src', 'busybox', 'sh', '-c', 'echo saved > /saved; rm /etc/group']);
    a.ok(['commit', '-c', 'CMD ["cat", "/saved"]', 'src', 'saved/app:1']);
    a.ok(['tag', 'busybox', 'saved/base:x']);
    const file = join(dir, 'out.tar');
    a.ok(['save', '-o', file, 'saved/app:1', 'saved/base:x', 'busybox']);
    const list = spawnSync('tar', ['-tf', file], { encoding: 'utf8' }).stdout.split('\n');
    for (const f of ['oci-layout', 'index.json', 'manifest.json']) assert.ok(list.includes(f), f);
    const manifest = JSON.parse(spawnSync('tar', ['-xOf', file, 'manifest.json'], { encoding: 'utf8' }).stdout);
    assert.equal(manifest.length, 2, 'one entry per image');
    const out = b.ok(['load', '-i', file]);
    assert.match(out, /Loaded image: saved\/app:1/);
    assert.match(out, /Loaded image: saved\/base:x/);
    assert.match(out, /Loaded image: busybox:latest/);
    const id = (x: Berth, ref: string) => JSON.parse(x.ok(['image', 'inspect', ref]))[0].Id;
    assert.equal(id(b, 'saved/app:1'), id(a, 'saved/app:1'));
    assert.equal(id(b, 'busybox'), id(a, 'busybox'));
    assert.equal(b.ok(['run', '--rm', 'saved/app:1']), 'saved\n');
    assert.equal(b.docker(['run', '--rm', 'saved/app:1', 'test', '-e', '/etc/group']).code, 1, 'the whiteout survived');
    // Saving by ID keeps no tag; stdout works like -o.
    const raw = spawnSync(DOCKER, ['-H', `unix://${a.socket}`, 'save', id(a, 'saved/app:1')], { maxBuffer: 64 * 1024 * 1024 }).stdout;
    const idx = JSON.parse(spawnSync('tar', ['-xO', 'index.json'], { input: raw, encoding: 'utf8' }).stdout);
    assert.equal(idx.manifests.length, 1);
    assert.equal(idx.manifests[0].annotations, undefined);
    assert.ok(readFileSync(file).length > 0);
    assert.match(a.docker(['save', 'no-such-image']).stderr, /No such image/);
    // A client that goes away mid-stream does not hurt the daemon.
    spawnSync('sh', ['-c', `docker -H unix://${a.socket} save busybox | head -c 1000 > /dev/null`]);
    assert.equal(a.ok(['version', '--format', '{{.Server.Version}}']).trim().length > 0, true);
  });
});
