import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildBusyboxTarball, buildEvilTarball } from '../../fixtures/busybox-image';
import { startBerth, type Berth } from '../harness';

const FIXTURES = join(tmpdir(), 'berth-test-fixtures');

describe('images: load, list, inspect, tag, rmi', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth({ busybox: false });
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('loads legacy, OCI-layout and gzip-compressed docker-save tarballs to the same image', async () => {
    const legacy = await buildBusyboxTarball({ dir: FIXTURES, layout: 'legacy', tag: 'busybox:legacy' });
    const oci = await buildBusyboxTarball({ dir: FIXTURES, layout: 'oci', tag: 'busybox:latest' });
    const gz = await buildBusyboxTarball({ dir: FIXTURES, layout: 'oci', gzip: true, tag: 'busybox:gz' });
    assert.match(berth.ok(['load', '-i', legacy]), /Loaded image: busybox:legacy/);
    assert.match(berth.ok(['load', '-i', oci]), /Loaded image: busybox:latest/);
    assert.match(berth.ok(['load', '-i', gz]), /Loaded image: busybox:gz/);
    const ids = berth.ok(['images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']).trim().split('\n');
    assert.equal(ids.length, 3);
    assert.equal(new Set(ids.map((l) => l.split(' ')[1])).size, 1, 'one image, three tags');
  });

  it('inspects with Docker fields', () => {
    const [img] = JSON.parse(berth.ok(['image', 'inspect', 'busybox']));
    assert.match(img.Id, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual([...img.RepoTags].sort(), ['busybox:gz', 'busybox:latest', 'busybox:legacy']);
    assert.equal(img.Os, 'linux');
    assert.equal(img.Architecture, 'amd64');
    assert.deepEqual(img.Config.Cmd, ['sh']);
    assert.equal(img.RootFS.Type, 'layers');
    assert.equal(img.RootFS.Layers.length, 1);
    assert.ok(img.Size > 0);
    assert.ok(!Number.isNaN(Date.parse(img.Created)));
  });

  it('tags and removes: untag first, delete with the last reference', () => {
    berth.ok(['tag', 'busybox', 'example.com:5000/team/box:v1']);
    assert.match(berth.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /example.com:5000\/team\/box:v1/);
    assert.match(berth.ok(['rmi', 'example.com:5000/team/box:v1']), /Untagged: example.com:5000\/team\/box:v1/);
    berth.ok(['rmi', 'busybox:legacy', 'busybox:gz']);
    berth.ok(['create', '--name', 'user', 'busybox', 'true']);
    const inUse = berth.docker(['rmi', 'busybox']);
    assert.notEqual(inUse.code, 0);
    assert.match(inUse.stderr, /conflict: unable to (remove|delete)/);
    berth.ok(['rm', 'user']);
    const out = berth.ok(['rmi', 'busybox']);
    assert.match(out, /Untagged: busybox:latest/);
    assert.match(out, /Deleted: sha256:/);
    assert.equal(berth.ok(['images', '-q']), '');
    const layers = readdirSync(join(berth.dataRoot, 'image', 'layers'));
    assert.deepEqual(layers, [], 'layers freed');
  });

  it('rejects bad tarballs (the error in the load stream, as dockerd answers) and stores nothing', async () => {
    for (const kind of ['dotdot', 'absolute', 'symlink-escape', 'hardlink-escape', 'truncated', 'corrupt-gzip'] as const) {
      const tar = await buildEvilTarball(FIXTURES, kind);
      const r = berth.docker(['load', '-i', tar]);
      assert.notEqual(r.code, 0, `${kind} must fail`);
      assert.ok(r.stderr.trim() && !/Error response from daemon/.test(r.stderr), `${kind}: ${r.stderr}`);
      assert.equal(berth.ok(['images', '-q']), '', `${kind} left an image`);
    }
    assert.deepEqual(readdirSync(join(berth.dataRoot, 'image', 'layers')), []);
    const missing = berth.docker(['image', 'inspect', 'nothing:here']);
    assert.match(missing.stderr, /No such image: nothing:here/);
  });
});
