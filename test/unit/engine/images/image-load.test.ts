import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import test from 'node:test';
import { InvalidParameterError } from '../../../../src/errors';
import type { LayerRecord } from '../../../../src/engine/images/types';
import { KEY, PREFIX } from '../../../../src/engine/store/schema';
import {
  BUSYBOX_PATH,
  buildBusyboxTarball,
  buildEvilTarball,
  buildTwoLayerTarball,
  busyboxImage,
  configBytes,
  imageIdOf,
  twoLayerImage,
  type EvilKind,
} from '../../../fixtures/busybox-image';
import { saveTarball, sha256, tarOf } from '../../../fixtures/save-tarball';
import { outsideWrites } from '../../../fixtures/evil-tarballs';
import { FIXTURES, serviceHarness, tempDir, type ServiceHarness } from './helpers';

/**
 * Checked by hand against Debian's dockerd 20.10.24: `docker load` of these fixtures (legacy,
 * OCI layout, gzip) reported these IDs and sizes. They hold for this busybox-static binary only.
 */
const KNOWN_BUSYBOX_SHA256 = '3d9f2889d6782537624a4e1a10e68a2ddd53e0ee8bac02676f27308f42ec6bf6';
const DOCKERD_BUSYBOX_ID = 'sha256:d3655450d043a4a61bf307707560ef12134a074eed619a2b60d1da6cf3080190';
const DOCKERD_BUSYBOX_SIZE = 1984298;
const DOCKERD_TWO_LAYER_ID = 'sha256:100c32d0af141dafe2040a3de7a49bdc26e7df44dbc85cfb6e455066a72231d6';
const DOCKERD_TWO_LAYER_SIZE = 1984311;
const sameBusybox = async () => createHash('sha256').update(await readFile(BUSYBOX_PATH)).digest('hex') === KNOWN_BUSYBOX_SHA256;

const load = (h: ServiceHarness, path: string) => h.images.archives.load(createReadStream(path));

async function assertEmptyStore(h: ServiceHarness, why: string) {
  assert.deepEqual(await h.images.queries.list(), [], `${why}: images`);
  assert.deepEqual(await h.store.list(PREFIX.layer), [], `${why}: layer records`);
  assert.deepEqual(await h.store.list(PREFIX.tag), [], `${why}: tags`);
  assert.deepEqual(await readdir(join(h.root, 'layers')), [], `${why}: layer dirs`);
  assert.deepEqual(await readdir(join(h.root, 'blobs', 'sha256')), [], `${why}: blobs`);
  assert.deepEqual(await readdir(join(h.root, 'tmp')), [], `${why}: tmp`);
}

test('legacy, OCI layout, gzip and gzip-layer tarballs load to the same image', async () => {
  const h = await serviceHarness();
  try {
    const expected = imageIdOf(await busyboxImage());
    assert.deepEqual(await load(h, await buildBusyboxTarball({ dir: FIXTURES, layout: 'legacy' })), ['Loaded image: busybox:latest']);
    for (const [opts, tag] of [
      [{ layout: 'oci' }, 'busybox:oci'],
      [{ layout: 'oci', gzip: true }, 'busybox:gz'],
      [{ layout: 'legacy', gzip: true }, 'busybox:legacy-gz'],
      [{ layout: 'oci', compressLayers: true }, 'busybox:zlayers'],
    ] as const) {
      const lines = await load(h, await buildBusyboxTarball({ dir: FIXTURES, ...opts, tag }));
      assert.deepEqual(lines, [`Loaded image: ${tag}`]);
    }
    const [image] = await h.images.queries.list();
    assert.equal(image.Id, expected);
    assert.deepEqual(image.RepoTags, ['busybox:gz', 'busybox:latest', 'busybox:legacy-gz', 'busybox:oci', 'busybox:zlayers']);
    if (await sameBusybox()) {
      assert.equal(image.Id, DOCKERD_BUSYBOX_ID);
      assert.equal(image.Size, DOCKERD_BUSYBOX_SIZE);
    }
    const layers = await h.store.list<LayerRecord>(PREFIX.layer);
    assert.equal(layers.length, 1);
    assert.equal(layers[0].value.refs, 1, 'one image holds the layer, however often it was loaded');
    assert.deepEqual(await readdir(join(h.root, 'blobs', 'sha256')), [expected.slice(7)]);
    assert.deepEqual(await readdir(join(h.root, 'tmp')), []);
    const [diff] = await h.images.records.layerDirs(expected);
    assert.ok((await lstat(join(diff, 'bin', 'busybox'))).isFile());
    assert.equal((await lstat(join(diff, 'tmp'))).mode & 0o7777, 0o1777);
    assert.equal((await lstat(join(diff, 'home', 'berthtest'))).uid, 1000);
    assert.match(await readFile(join(diff, 'etc', 'passwd'), 'utf8'), /^berthtest:x:1000:1000::\/home\/berthtest:\/bin\/sh$/m);
  } finally {
    await h.cleanup();
  }
});

test('the fixture is deterministic', async () => {
  const a = await tempDir('fixture-a');
  const b = await tempDir('fixture-b');
  try {
    for (const layout of ['legacy', 'oci'] as const) {
      const x = await readFile(await buildBusyboxTarball({ dir: a.dir, layout }));
      const y = await readFile(await buildBusyboxTarball({ dir: b.dir, layout }));
      assert.ok(x.equals(y), layout);
    }
  } finally {
    await a.cleanup();
    await b.cleanup();
  }
});

test('untagged images print their ID; re-tagging moves the tag like dockerd', async () => {
  const h = await serviceHarness();
  try {
    const id = imageIdOf(await busyboxImage());
    assert.deepEqual(await load(h, await buildBusyboxTarball({ dir: FIXTURES, layout: 'legacy', tag: null })), [`Loaded image ID: ${id}`]);
    assert.deepEqual(await load(h, await buildBusyboxTarball({ dir: FIXTURES, layout: 'oci' })), ['Loaded image: busybox:latest']);
    const lines = await load(h, await buildTwoLayerTarball({ dir: FIXTURES, layout: 'oci', tag: 'busybox:latest' }));
    const twoId = (await h.images.records.resolve('busybox')).id;
    assert.notEqual(twoId, id);
    if (await sameBusybox()) assert.equal(twoId, DOCKERD_TWO_LAYER_ID);
    assert.deepEqual(lines, [
      `The image busybox:latest already exists, renaming the old one with ID ${id} to empty string`,
      'Loaded image: busybox:latest',
    ]);
    const old = (await h.images.queries.list()).find((i) => i.Id === id);
    assert.deepEqual(old?.RepoTags, [], 'the old image stays, untagged');
  } finally {
    await h.cleanup();
  }
});

test('two layers: shared base layer, whiteouts, opaque dir, hard link, lowerdir order', async () => {
  const h = await serviceHarness();
  try {
    await load(h, await buildBusyboxTarball({ dir: FIXTURES, layout: 'legacy' }));
    await load(h, await buildTwoLayerTarball({ dir: FIXTURES, layout: 'legacy' }));
    const two = await h.images.records.resolve('busybox:two-layers');
    if (await sameBusybox()) assert.equal(two.size, DOCKERD_TWO_LAYER_SIZE);
    const dirs = await h.images.records.layerDirs(two.id);
    assert.equal(dirs.length, 2);
    assert.deepEqual(dirs, [...two.chainIds].reverse().map((c) => join(h.root, 'layers', c.slice(7), 'diff')), 'top-most first');
    const [top, base] = dirs;
    assert.deepEqual(await h.images.records.layerDirs((await h.images.records.resolve('busybox')).id), [base], 'base layer shared');
    assert.ok((await lstat(join(top, 'etc', 'group'))).isCharacterDevice());
    assert.equal((await lstat(join(top, 'etc', 'layer2.txt'))).nlink, 2);
    assert.deepEqual((await readdir(join(top, 'home'))).sort(), ['layer2']);
    const refs = new Map((await h.store.list<LayerRecord>(PREFIX.layer)).map((l) => [l.value.chainId, l.value.refs]));
    assert.equal(refs.get(two.chainIds[0]), 2);
    assert.equal(refs.get(two.chainIds[1]), 1);
    const inspect = await h.images.queries.inspect('busybox:two-layers');
    const data = (inspect.GraphDriver as { Data: Record<string, string> }).Data;
    assert.equal(data.LowerDir, base);
    assert.equal(data.UpperDir, top);
  } finally {
    await h.cleanup();
  }
});

test('several images in one tarball; a pure OCI layout without manifest.json', async () => {
  const h = await serviceHarness();
  try {
    const images = [await busyboxImage(), await twoLayerImage()];
    const both = Readable.from([await saveTarball(images, { layout: 'legacy' })]);
    assert.deepEqual(await h.images.archives.load(both), ['Loaded image: busybox:latest', 'Loaded image: busybox:two-layers']);
    const base = (await h.images.records.resolve('busybox')).chainIds[0];
    assert.equal((await h.store.get<LayerRecord>(KEY.layer(base)))?.refs, 2);
    const h2 = await serviceHarness();
    try {
      const oci = Readable.from([await saveTarball(images, { layout: 'oci', omitManifestJson: true, compressLayers: true })]);
      assert.deepEqual(await h2.images.archives.load(oci), ['Loaded image: busybox:latest', 'Loaded image: busybox:two-layers']);
      assert.equal((await h2.images.records.resolve('busybox:two-layers')).id, imageIdOf(images[1]));
    } finally {
      await h2.cleanup();
    }
  } finally {
    await h.cleanup();
  }
});

test('legacy tarballs may share a layer.tar through a symlink', async () => {
  const h = await serviceHarness();
  try {
    const image = await busyboxImage('shared:one');
    const config = configBytes(image);
    const other = { ...image, config: { ...image.config, config: { Cmd: ['true'] } }, tags: ['shared:two'] };
    const otherConfig = configBytes(other);
    const hex = (b: Buffer) => sha256(b).slice(7);
    const tar = await tarOf([
      { name: `${hex(config)}.json`, data: config },
      { name: `${hex(otherConfig)}.json`, data: otherConfig },
      { name: 'l1/', type: 'directory' },
      { name: 'l1/layer.tar', data: image.layers[0] },
      { name: 'l2/', type: 'directory' },
      { name: 'l2/layer.tar', type: 'symlink', linkname: '../l1/layer.tar' },
      {
        name: 'manifest.json',
        data: JSON.stringify([
          { Config: `${hex(config)}.json`, RepoTags: ['shared:one'], Layers: ['l1/layer.tar'] },
          { Config: `${hex(otherConfig)}.json`, RepoTags: ['shared:two'], Layers: ['l2/layer.tar'] },
        ]),
      },
    ]);
    assert.deepEqual(await h.images.archives.load(Readable.from([tar])), ['Loaded image: shared:one', 'Loaded image: shared:two']);
    assert.equal(await h.images.records.count(), 2);
  } finally {
    await h.cleanup();
  }
});

const EVIL: EvilKind[] = ['dotdot', 'absolute', 'symlink-escape', 'hardlink-escape', 'hardlink-via-symlink', 'archive-dotdot', 'truncated', 'corrupt-gzip', 'bad-diffid'];

test('hostile and broken tarballs are refused, nothing stored, nothing written outside', async () => {
  const h = await serviceHarness();
  const t = await tempDir('evil');
  try {
    for (const kind of EVIL) {
      const tar = await buildEvilTarball(t.dir, kind);
      await assert.rejects(load(h, tar), (err: unknown) => {
        assert.ok(err instanceof InvalidParameterError, `${kind}: ${String(err)}`);
        return true;
      });
      await assertEmptyStore(h, kind);
      assert.deepEqual(await outsideWrites(t.dir), [], `${kind} wrote outside`);
      assert.equal((await lstat(join(t.dir, 'outside', 'secret.txt'))).nlink, 1, `${kind} linked the bait`);
    }
    await assert.rejects(load(h, await buildEvilTarball(t.dir, 'bad-diffid')), /^InvalidParameterError: invalid diffID for layer 0: expected "sha256:[0-9a-f]{64}", got "sha256:[0-9a-f]{64}"$/);
    await assert.rejects(load(h, await buildEvilTarball(t.dir, 'truncated')), /Error processing tar file\(exit status 1\): unexpected EOF/);
    // Still usable afterwards.
    assert.deepEqual(await load(h, await buildBusyboxTarball({ dir: FIXTURES, layout: 'oci' })), ['Loaded image: busybox:latest']);
  } finally {
    await t.cleanup();
    await h.cleanup();
  }
});

test('not a tarball, empty input and unsupported compression are refused in dockerd\'s words', async () => {
  const h = await serviceHarness();
  try {
    await assert.rejects(h.images.archives.load(Readable.from([Buffer.from('hello world, not a tar'.repeat(40))])), InvalidParameterError);
    // No manifest.json, index.json or repositories: dockerd fails opening the last.
    await assert.rejects(h.images.archives.load(Readable.from([])), /^InvalidParameterError: open \S+\/repositories: no such file or directory$/);
    await assert.rejects(h.images.archives.load(Readable.from([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2])])), /unsupported compression format xz/);
    await assertEmptyStore(h, 'garbage');
  } finally {
    await h.cleanup();
  }
});

test('a failing store batch leaves no layer dirs or blobs behind', async () => {
  const h = await serviceHarness();
  try {
    const original = h.store.batch.bind(h.store);
    h.store.batch = async () => {
      throw new Error('disk on fire');
    };
    await assert.rejects(load(h, await buildTwoLayerTarball({ dir: FIXTURES, layout: 'oci' })), /disk on fire/);
    h.store.batch = original;
    await assertEmptyStore(h, 'failed batch');
  } finally {
    await h.cleanup();
  }
});

test('an aborted load stops and cleans up', async () => {
  const h = await serviceHarness();
  try {
    const controller = new AbortController();
    const bytes = await readFile(await buildBusyboxTarball({ dir: FIXTURES, layout: 'legacy' }));
    const slow = Readable.from(
      (async function* () {
        yield bytes.subarray(0, 100_000);
        controller.abort();
        await new Promise((r) => setTimeout(r, 20));
        yield bytes.subarray(100_000);
      })(),
    );
    await assert.rejects(h.images.archives.load(slow, { signal: controller.signal }), { name: 'AbortError' });
    await assertEmptyStore(h, 'aborted');
  } finally {
    await h.cleanup();
  }
});

test('concurrent loads of the same image agree', async () => {
  const h = await serviceHarness();
  try {
    const tar = await buildBusyboxTarball({ dir: FIXTURES, layout: 'oci' });
    const results = await Promise.all([load(h, tar), load(h, tar), load(h, tar)]);
    for (const r of results) assert.deepEqual(r, ['Loaded image: busybox:latest']);
    const layers = await h.store.list<LayerRecord>(PREFIX.layer);
    assert.equal(layers.length, 1);
    assert.equal(layers[0].value.refs, 1);
    assert.equal((await readdir(join(h.root, 'layers'))).length, 1);
  } finally {
    await h.cleanup();
  }
});

test('init clears tmp/ and layer dirs without a record', async () => {
  const h = await serviceHarness();
  try {
    await load(h, await buildBusyboxTarball({ dir: FIXTURES, layout: 'oci' }));
    const kept = await readdir(join(h.root, 'layers'));
    await mkdir(join(h.root, 'layers', 'f'.repeat(64), 'diff'), { recursive: true });
    await mkdir(join(h.root, 'tmp', 'load-leftover'), { recursive: true });
    await writeFile(join(h.root, 'tmp', 'blob-leftover'), 'x');
    const images = await h.restart();
    assert.deepEqual(await readdir(join(h.root, 'layers')), kept);
    assert.deepEqual(await readdir(join(h.root, 'tmp')), []);
    assert.equal(await images.records.count(), 1);
  } finally {
    await h.cleanup();
  }
});
