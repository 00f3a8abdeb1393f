// The rootfs under a userns-remap mapping, on the real kernel: idmapped layers, an upper with
// host ids, nothing mounted after the unmount. Skipped where not root or the kernel cannot.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, readdir, rm, stat, writeFile, chown, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IdmappedMountsUnsupportedError, mountIdmappedOverlay, probeIdmappedOverlay } from '../../../../src/host/idmapped-overlay';
import { isMountPoint } from '../../../../src/host/mountinfo';
import { mountRootfs, rootfsPaths, unmountRootfs } from '../../../../src/engine/containers/rootfs';
import type { IdMap } from '../../../../src/engine/userns/id-map';

const MAP: IdMap = {
  uids: [{ containerId: 0, hostId: 200_000, size: 65_536 }],
  gids: [{ containerId: 0, hostId: 300_000, size: 65_536 }],
};

let base = '';
let skip: string | false = process.getuid?.() === 0 ? false : 'needs root (idmapped mounts)';

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'berth-idmap-'));
  await chmod(base, 0o711); // the mapped ids traverse it, as the remapped data root lets them
  if (!skip) {
    const support = await probeIdmappedOverlay(base);
    if (!support.supported) skip = `idmapped mounts with overlayfs unsupported here: ${support.reason}`;
  }
});
after(() => rm(base, { recursive: true, force: true }));

const mountsUnder = async (dir: string) => (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(dir));

describe('idmapped rootfs', () => {
  it('shows layer ids shifted, writes host ids to the upper, and leaves no mounts', async (t) => {
    if (skip) return t.skip(skip);
    const top = join(base, 'layer-top');
    const bottom = join(base, 'layer-bottom');
    await mkdir(join(bottom, 'etc'), { recursive: true });
    await mkdir(top, { recursive: true });
    await writeFile(join(bottom, 'etc', 'passwd'), 'root:x:0:0\n');
    await writeFile(join(top, 'owned'), 'x');
    await chown(join(top, 'owned'), 5, 7);
    const container = join(base, 'c1');
    const paths = rootfsPaths(container);

    await mountRootfs(paths, [top, bottom], MAP);
    try {
      assert.equal(await isMountPoint(paths.merged), true);
      const passwd = await stat(join(paths.merged, 'etc', 'passwd'));
      assert.deepEqual([passwd.uid, passwd.gid], [200_000, 300_000]);
      const owned = await stat(join(paths.merged, 'owned'));
      assert.deepEqual([owned.uid, owned.gid], [200_005, 300_007]);
      const root = await stat(paths.merged);
      assert.deepEqual([root.uid, root.gid], [200_000, 300_000]);
      // The layers themselves are untouched.
      assert.equal((await stat(join(bottom, 'etc', 'passwd'))).uid, 0);

      // Container uid 1000 (host 201000) creates a file; container root rewrites a layer file.
      await mkdir(join(paths.merged, 'tmp'));
      await chown(join(paths.merged, 'tmp'), 201_000, 301_000);
      const made = spawnSync('/bin/sh', ['-c', `echo hi > ${join(paths.merged, 'tmp', 'made')}`], { uid: 201_000, gid: 301_000 });
      assert.equal(made.status, 0, made.stderr.toString());
      const rewrite = spawnSync('/bin/sh', ['-c', `echo more >> ${join(paths.merged, 'etc', 'passwd')}`], { uid: 200_000, gid: 300_000 });
      assert.equal(rewrite.status, 0, rewrite.stderr.toString());

      const inUpper = await stat(join(paths.upper, 'tmp', 'made'));
      assert.deepEqual([inUpper.uid, inUpper.gid], [201_000, 301_000]);
      const copiedUp = await stat(join(paths.upper, 'etc', 'passwd'));
      assert.deepEqual([copiedUp.uid, copiedUp.gid], [200_000, 300_000]);
      assert.equal(await readFile(join(bottom, 'etc', 'passwd'), 'utf8'), 'root:x:0:0\n');
      // The short-lived layer mounts are gone already: only the overlay itself is mounted.
      assert.deepEqual((await mountsUnder(base)).length, 1);
      assert.deepEqual(await readdir(container).then((e) => e.sort()), ['merged', 'upper', 'work']);
    } finally {
      await unmountRootfs(paths);
    }
    assert.deepEqual(await mountsUnder(base), []);
  });

  it('mounts the plain overlay without a mapping', async (t) => {
    if (skip) return t.skip(skip);
    const layer = join(base, 'plain-layer');
    await mkdir(layer, { recursive: true });
    await writeFile(join(layer, 'f'), '');
    const paths = rootfsPaths(join(base, 'c2'));
    await mountRootfs(paths, [layer]);
    try {
      assert.equal((await stat(join(paths.merged, 'f'))).uid, 0);
    } finally {
      await unmountRootfs(paths);
    }
  });

  it('reports a failing mount with the step that failed, and cleans its scratch mounts', async (t) => {
    if (skip) return t.skip(skip);
    const target = join(base, 'c3-merged');
    await mkdir(target, { recursive: true });
    const layer = join(base, 'c3-layer');
    await mkdir(layer);
    await assert.rejects(
      mountIdmappedOverlay(target, { lowerDirs: [layer, join(base, 'missing')], upperDir: join(base, 'c3-upper'), workDir: join(base, 'c3-work'), scratchDir: join(base, 'c3-scratch') }, MAP),
      (err: Error) => !(err instanceof IdmappedMountsUnsupportedError) && /open_tree .*missing/.test(err.message),
    );
    assert.deepEqual(await mountsUnder(base), []);
  });
});
