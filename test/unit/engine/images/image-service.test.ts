import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'node:test';
import { ConflictError, InvalidParameterError, NotFoundError } from '../../../../src/errors';
import { KEY, PREFIX } from '../../../../src/engine/store/schema';
import { buildBusyboxTarball, buildTwoLayerTarball } from '../../../fixtures/busybox-image';
import { FIXTURES, serviceHarness, type ServiceHarness } from './helpers';

const CONTAINER = 'c0ffee'.repeat(10) + 'abcd';

async function withBusybox(fn: (h: ServiceHarness, id: string) => Promise<void>, layout: 'legacy' | 'oci' = 'oci') {
  const h = await serviceHarness();
  try {
    await h.images.archives.load(createReadStream(await buildBusyboxTarball({ dir: FIXTURES, layout })));
    await fn(h, (await h.images.records.resolve('busybox')).id);
  } finally {
    await h.cleanup();
  }
}

const notFound = (message: string) => (err: unknown) => {
  assert.ok(err instanceof NotFoundError, String(err));
  assert.equal(err.message, message);
  return true;
};

test('resolve: full ID, bare hex, references, prefixes; dockerd messages when missing', () =>
  withBusybox(async (h, id) => {
    const hex = id.slice(7);
    for (const ref of [id, hex, 'busybox', 'busybox:latest', 'docker.io/library/busybox', 'docker.io/library/busybox:latest', 'library/busybox', hex.slice(0, 1), hex.slice(0, 12), `sha256:${hex.slice(0, 5)}`]) {
      assert.equal((await h.images.records.resolve(ref)).id, id, ref);
    }
    assert.equal(await h.images.records.imageIdOf('busybox'), id);
    await assert.rejects(h.images.records.resolve('nothing'), notFound('No such image: nothing:latest'));
    await assert.rejects(h.images.records.resolve('nothing:here'), notFound('No such image: nothing:here'));
    await assert.rejects(h.images.records.resolve('busybox:1.0'), notFound('No such image: busybox:1.0'));
    await assert.rejects(h.images.records.resolve(`sha256:${'0'.repeat(64)}`), notFound(`No such image: sha256:${'0'.repeat(64)}`));
    await assert.rejects(h.images.records.resolve('0'.repeat(64)), notFound(`No such image: ${'0'.repeat(64)}`));
    await assert.rejects(h.images.records.resolve(`busybox@sha256:${'0'.repeat(64)}`), notFound(`No such image: busybox@sha256:${'0'.repeat(64)}`));
    await assert.rejects(h.images.records.resolve('Busybox'), {
      name: 'InvalidParameterError',
      message: 'invalid reference format: repository name (library/Busybox) must be lowercase',
    });
    await assert.rejects(h.images.records.resolve('bad ref'), { name: 'InvalidParameterError', message: 'invalid reference format' });
  }));

test('resolve: an ambiguous prefix finds nothing; tags win over prefixes', async () => {
  const h = await serviceHarness();
  try {
    await h.images.archives.load(createReadStream(await buildBusyboxTarball({ dir: FIXTURES, layout: 'oci' })));
    await h.images.archives.load(createReadStream(await buildTwoLayerTarball({ dir: FIXTURES, layout: 'oci' })));
    const a = (await h.images.records.resolve('busybox')).id.slice(7);
    const b = (await h.images.records.resolve('busybox:two-layers')).id.slice(7);
    let common = 0;
    while (a[common] === b[common]) common++;
    if (common > 0) await assert.rejects(h.images.records.resolve(a.slice(0, common)), NotFoundError);
    await h.images.records.tag('busybox:two-layers', a.slice(0, 6));
    assert.equal((await h.images.records.resolve(a.slice(0, 6))).id, `sha256:${b}`, 'the tag named like a prefix wins');
  } finally {
    await h.cleanup();
  }
});

test('list and inspect have Docker shapes', () =>
  withBusybox(async (h, id) => {
    const [summary] = await h.images.queries.list();
    assert.deepEqual(Object.keys(summary).sort(), ['Containers', 'Created', 'Id', 'Labels', 'ParentId', 'RepoDigests', 'RepoTags', 'SharedSize', 'Size']);
    assert.equal(summary.Id, id);
    assert.equal(summary.ParentId, '');
    assert.equal(summary.Created, 1704067200);
    assert.equal(summary.SharedSize, -1);
    assert.equal(summary.Containers, 0, 'the engine counts the containers using the image (older API versions see -1)');
    assert.deepEqual(summary.Labels, {});
    assert.deepEqual(summary.RepoDigests, []);
    const img = await h.images.queries.inspect('busybox');
    assert.equal(img.Id, id);
    assert.deepEqual(img.RepoTags, ['busybox:latest']);
    assert.equal(img.Created, '2024-01-01T00:00:00Z');
    assert.equal(img.Parent, '');
    assert.equal(img.Comment, '');
    assert.equal(img.DockerVersion, '');
    assert.equal(img.Author, '');
    assert.equal(img.Architecture, 'amd64');
    assert.equal(img.Os, 'linux');
    assert.equal('Variant' in img, false);
    assert.deepEqual(img.Config, {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['sh'],
      Entrypoint: null,
      Labels: null,
      OnBuild: null,
      User: '',
      Volumes: null,
      WorkingDir: '',
    });
    const rootfs = img.RootFS as { Type: string; Layers: string[] };
    assert.equal(rootfs.Type, 'layers');
    assert.equal(rootfs.Layers.length, 1);
    assert.deepEqual(img.Metadata, { LastTagTime: '0001-01-01T00:00:00Z' });
    const gd = img.GraphDriver as { Name: string; Data: Record<string, string> };
    assert.equal(gd.Name, 'overlay2');
    assert.deepEqual(Object.keys(gd.Data).sort(), ['MergedDir', 'UpperDir', 'WorkDir']);
    assert.equal(gd.Data.UpperDir, (await h.images.records.layerDirs(id))[0]);
    const cc = img.ContainerConfig as Record<string, unknown>;
    assert.equal(cc.Volumes, null);
    assert.equal(cc.Hostname, '');
    assert.equal(img.Size, (await h.images.queries.list())[0].Size);
  }));

test('tag: adds, moves, validates, records LastTagTime', () =>
  withBusybox(async (h, id) => {
    await h.images.records.tag('busybox', 'example.com:5000/team/box', 'v1');
    await h.images.records.tag(id, 'foo/bar');
    await h.images.records.tag('busybox', 'busybox:keep');
    const img = await h.images.queries.inspect('foo/bar');
    // Ordered by full name like dockerd: docker.io/foo/bar < docker.io/library/busybox < example.com
    assert.deepEqual(img.RepoTags, ['foo/bar:latest', 'busybox:keep', 'busybox:latest', 'example.com:5000/team/box:v1']);
    assert.match((img.Metadata as { LastTagTime: string }).LastTagTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal(await h.store.get(KEY.tag('example.com:5000/team/box:v1')), id);
    await assert.rejects(h.images.records.tag('nothing', 'x'), notFound('No such image: nothing:latest'));
    await assert.rejects(h.images.records.tag('busybox', 'Upper'), InvalidParameterError);
    await assert.rejects(h.images.records.tag('busybox', 'x', 'bad tag'), /invalid tag format/);
    await assert.rejects(h.images.records.tag('nothing', 'Upper'), InvalidParameterError, 'the new name is checked first');
    await h.images.archives.load(createReadStream(await buildTwoLayerTarball({ dir: FIXTURES, layout: 'oci' })));
    await h.images.records.tag('busybox:two-layers', 'foo/bar');
    assert.notEqual((await h.images.records.resolve('foo/bar')).id, id, 'tag moved');
  }));

test('rmi by tag with other tags only untags', () =>
  withBusybox(async (h, id) => {
    await h.images.records.tag('busybox', 'other', 'v1');
    assert.deepEqual(await h.images.removal.remove('other:v1', { force: false, noprune: false }), [{ Untagged: 'other:v1' }]);
    assert.equal((await h.images.records.resolve('busybox')).id, id);
  }));

test('rmi of the last tag deletes the image and its layers, top-most first', async () => {
  const h = await serviceHarness();
  try {
    await h.images.archives.load(createReadStream(await buildTwoLayerTarball({ dir: FIXTURES, layout: 'legacy' })));
    const img = await h.images.records.resolve('busybox:two-layers');
    const out = await h.images.removal.remove('busybox:two-layers', { force: false, noprune: false });
    assert.deepEqual(out, [{ Untagged: 'busybox:two-layers' }, { Deleted: img.id }, { Deleted: img.chainIds[1] }, { Deleted: img.chainIds[0] }]);
    assert.equal(await h.images.records.count(), 0);
    assert.deepEqual(await readdir(join(h.root, 'layers')), []);
    assert.deepEqual(await readdir(join(h.root, 'blobs', 'sha256')), []);
    assert.deepEqual(await h.store.list(PREFIX.layer), []);
  } finally {
    await h.cleanup();
  }
});

test('rmi keeps layers other images share', async () => {
  const h = await serviceHarness();
  try {
    await h.images.archives.load(createReadStream(await buildBusyboxTarball({ dir: FIXTURES, layout: 'oci' })));
    await h.images.archives.load(createReadStream(await buildTwoLayerTarball({ dir: FIXTURES, layout: 'oci' })));
    const two = await h.images.records.resolve('busybox:two-layers');
    const out = await h.images.removal.remove(two.id.slice(7, 19), { force: false, noprune: false });
    assert.deepEqual(out, [{ Untagged: 'busybox:two-layers' }, { Deleted: two.id }, { Deleted: two.chainIds[1] }]);
    assert.deepEqual(await readdir(join(h.root, 'layers')), [two.chainIds[0].slice(7)]);
  } finally {
    await h.cleanup();
  }
});

test('rmi conflicts use dockerd wording', () =>
  withBusybox(async (h, id) => {
    const short = id.slice(7, 19);
    h.users.set(id, [CONTAINER]);
    await assert.rejects(h.images.removal.remove('busybox', { force: false, noprune: false }), {
      name: 'ConflictError',
      message: `conflict: unable to remove repository reference "busybox" (must force) - container ${CONTAINER.slice(0, 12)} is using its referenced image ${short}`,
    });
    await assert.rejects(h.images.removal.remove(short, { force: false, noprune: false }), {
      name: 'ConflictError',
      message: `conflict: unable to delete ${short} (must be forced) - image is being used by stopped container ${CONTAINER.slice(0, 12)}`,
    });
    h.users.clear();
    await h.images.records.tag('busybox', 'foo/bar', 'x');
    await assert.rejects(h.images.removal.remove(id, { force: false, noprune: false }), {
      name: 'ConflictError',
      message: `conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`,
    });
    await assert.rejects(h.images.removal.remove('nothing', { force: true, noprune: false }), notFound('No such image: nothing:latest'));
    await assert.rejects(h.images.removal.remove(' ', { force: true, noprune: false }), /image name cannot be blank/);
    const [layer] = (await h.images.records.resolve(id)).chainIds;
    assert.deepEqual(await h.images.removal.remove(id, { force: true, noprune: false }), [
      { Untagged: 'foo/bar:x' },
      { Untagged: 'busybox:latest' },
      { Deleted: id },
      { Deleted: layer },
    ]);
  }));

test('forced rmi of an image a stopped container uses hides it and keeps its layers until released', () =>
  withBusybox(async (h, id) => {
    h.users.set(id, [CONTAINER]);
    const dirs = await h.images.records.layerDirs(id);
    assert.deepEqual(await h.images.removal.remove('busybox', { force: true, noprune: false }), [{ Untagged: 'busybox:latest' }, { Deleted: id }]);
    assert.deepEqual(await h.images.queries.list(), []);
    assert.equal(await h.images.records.count(), 0);
    await assert.rejects(h.images.records.resolve(id), NotFoundError);
    assert.deepEqual(await h.images.records.layerDirs(id), dirs, 'the container can still start');
    assert.ok((await lstat(dirs[0])).isDirectory());
    await h.images.removal.releaseRemoved();
    assert.ok((await lstat(dirs[0])).isDirectory(), 'still used');
    h.users.clear();
    await h.images.removal.releaseRemoved();
    assert.deepEqual(await readdir(join(h.root, 'layers')), []);
    await assert.rejects(h.images.records.layerDirs(id), NotFoundError);
  }));

test('a running container blocks deletion even with force; by tag it is only untagged', () =>
  withBusybox(async (h, id) => {
    const short = id.slice(7, 19);
    h.users.set(id, [CONTAINER]);
    h.running.add(CONTAINER);
    await assert.rejects(h.images.removal.remove(id, { force: true, noprune: false }), {
      name: 'ConflictError',
      message: `conflict: unable to delete ${short} (cannot be forced) - image is being used by running container ${CONTAINER.slice(0, 12)}`,
    });
    assert.deepEqual(await h.images.removal.remove('busybox', { force: true, noprune: false }), [{ Untagged: 'busybox:latest' }]);
    const [left] = await h.images.queries.list();
    assert.equal(left.Id, id);
    assert.deepEqual(left.RepoTags, []);
  }));

test('a reloaded force-removed image becomes visible again', () =>
  withBusybox(async (h, id) => {
    h.users.set(id, [CONTAINER]);
    await h.images.removal.remove('busybox', { force: true, noprune: false });
    assert.deepEqual(await h.images.archives.load(createReadStream(await buildBusyboxTarball({ dir: FIXTURES, layout: 'legacy' }))), ['Loaded image: busybox:latest']);
    assert.equal((await h.images.records.resolve('busybox')).id, id);
    assert.equal(await h.images.records.count(), 1);
  }));

test('errors are typed', () =>
  withBusybox(async (h) => {
    await assert.rejects(h.images.queries.inspect('nope'), NotFoundError);
    await assert.rejects(h.images.queries.inspect('NOPE'), InvalidParameterError);
    h.users.set((await h.images.records.resolve('busybox')).id, [CONTAINER]);
    await assert.rejects(h.images.removal.remove('busybox', { force: false, noprune: true }), ConflictError);
  }));
