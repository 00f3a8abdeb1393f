// Archives of a remapped container: container ids in tars, host ids on disk (owner-shift.ts,
// tar-pack.ts, layer-pack.ts, changes.ts, layer-extract.ts with a mapping).
import assert from 'node:assert/strict';
import { chown, lstat, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import * as tar from 'tar-stream';
import { computeChanges } from '../../../../src/engine/containers/archive/changes';
import { packUpperLayer } from '../../../../src/engine/containers/archive/layer-pack';
import { toContainerOwner, toHostOwner } from '../../../../src/engine/containers/archive/owner-shift';
import { TreePacker } from '../../../../src/engine/containers/archive/tar-pack';
import { extractLayer } from '../../../../src/engine/images/layer-extract';
import type { IdMap } from '../../../../src/engine/userns/id-map';
import { InvalidParameterError } from '../../../../src/errors';
import { FsTools } from '../../../../src/host/fs-tools';
import { tarOf } from '../../../fixtures/save-tarball';
import { quietLog, tempDir } from '../images/helpers';

const MAP: IdMap = {
  uids: [{ containerId: 0, hostId: 200_000, size: 65_536 }],
  gids: [{ containerId: 0, hostId: 300_000, size: 65_536 }],
};
const fsTools = new FsTools();
const needsRoot = process.getuid?.() === 0 ? false : 'needs root (chown to mapped ids)';

/** `name uid:gid` of every entry of the tar `pack` produces while `fill` runs. */
async function owners(pack: tar.Pack, fill: () => Promise<void>): Promise<string[]> {
  const extract = tar.extract();
  const seen: string[] = [];
  const reading = (async () => {
    for await (const entry of extract) {
      seen.push(`${entry.header.name} ${entry.header.uid}:${entry.header.gid}`);
      entry.resume();
    }
  })();
  pack.pipe(extract);
  await fill();
  await reading;
  return seen;
}

describe('owners across the userns-remap boundary', () => {
  it('shifts ids both ways; unmapped host ids show as nobody, unmapped container ids are refused', () => {
    assert.deepEqual(toHostOwner(MAP, { uid: 0, gid: 0 }), { uid: 200_000, gid: 300_000 });
    assert.deepEqual(toHostOwner(MAP, { uid: 1000, gid: 65_535 }), { uid: 201_000, gid: 365_535 });
    assert.deepEqual(toContainerOwner(MAP, { uid: 201_000, gid: 300_007 }), { uid: 1000, gid: 7 });
    assert.deepEqual(toContainerOwner(MAP, { uid: 0, gid: 0 }), { uid: 65_534, gid: 65_534 });
    assert.throws(() => toHostOwner(MAP, { uid: 70_000, gid: 0 }), (e: Error) => e instanceof InvalidParameterError && e.message === 'Container ID 70000 cannot be mapped to a host ID');
  });

  it('docker cp out and export: a tree of host ids is packed with container ids', async (t) => {
    if (needsRoot) return t.skip(needsRoot);
    const d = await tempDir('idmap-pack');
    await mkdir(join(d.dir, 'tree'));
    await writeFile(join(d.dir, 'tree', 'f'), 'x');
    await chown(join(d.dir, 'tree'), 200_000, 300_000);
    await chown(join(d.dir, 'tree', 'f'), 201_000, 300_050);
    const pack = tar.pack();
    const seen = await owners(pack, async () => {
      await new TreePacker(pack, (o) => toContainerOwner(MAP, o)).add(join(d.dir, 'tree'), 'tree');
      pack.finalize();
    });
    assert.deepEqual(seen, ['tree/ 0:0', 'tree/f 1000:50']);
    await d.cleanup();
  });

  it('docker cp in: the tar owners land on disk as host ids; an unmappable owner fails the copy', async (t) => {
    if (needsRoot) return t.skip(needsRoot);
    const d = await tempDir('idmap-unpack');
    const mapOwner = (o: { uid: number; gid: number }) => toHostOwner(MAP, o);
    const input = await tarOf([{ name: 'dir/', type: 'directory', uid: 0, gid: 0 }, { name: 'dir/f', data: 'x', uid: 5, gid: 7 }, { name: 'l', type: 'symlink', linkname: 'dir', uid: 3, gid: 3 }]);
    await extractLayer(Readable.from([input]), d.dir, { fsTools, log: quietLog, whiteouts: false, scoped: true, mapOwner });
    const ids = async (p: string) => lstat(join(d.dir, p)).then((s) => `${s.uid}:${s.gid}`);
    assert.deepEqual([await ids('dir'), await ids('dir/f'), await ids('l')], ['200000:300000', '200005:300007', '200003:300003']);
    // copyUIDGID: the container user's ids, shifted as well.
    await extractLayer(Readable.from([await tarOf([{ name: 'g', data: 'y', uid: 9, gid: 9 }])]), d.dir, { fsTools, log: quietLog, whiteouts: false, owner: { uid: 1000, gid: 1000 }, mapOwner });
    assert.equal(await ids('g'), '201000:301000');
    await assert.rejects(
      extractLayer(Readable.from([await tarOf([{ name: 'far', data: 'z', uid: 100_000, gid: 0 }])]), d.dir, { fsTools, log: quietLog, whiteouts: false, mapOwner }),
      /Container ID 100000 cannot be mapped to a host ID/,
    );
    await d.cleanup();
  });

  it('docker commit and diff: the upper dir (host ids) against the layers (container ids)', async (t) => {
    if (needsRoot) return t.skip(needsRoot);
    const d = await tempDir('idmap-layer');
    const lower = join(d.dir, 'lower');
    const upper = join(d.dir, 'upper');
    await mkdir(join(lower, 'etc'), { recursive: true });
    await mkdir(join(lower, 'home'));
    await mkdir(join(lower, 'usr'));
    await mkdir(join(upper, 'usr'), { recursive: true }); // copied up, nothing changed: left out
    await chown(join(upper, 'usr'), 200_000, 300_000);
    // Copied up unchanged: same mode, the lower's container ids shifted to host ids.
    await mkdir(join(upper, 'etc'), { recursive: true });
    await chown(join(upper, 'etc'), 200_000, 300_000);
    await writeFile(join(upper, 'etc', 'new'), 'n');
    await chown(join(upper, 'etc', 'new'), 200_000, 300_000);
    // Really changed: a directory handed to container uid 1000.
    await mkdir(join(upper, 'home'));
    await chown(join(upper, 'home'), 201_000, 301_000);
    const pack = tar.pack();
    const seen = await owners(pack, () => packUpperLayer(upper, [lower], pack, { getXattr: async () => undefined, idMap: MAP }));
    assert.deepEqual(seen, ['etc/ 0:0', 'etc/new 0:0', 'home/ 1000:1000']);
    const changes = await computeChanges(upper, [lower], { getXattr: async () => undefined, idMap: MAP });
    assert.deepEqual(changes.map((c) => `${c.Kind} ${c.Path}`), ['0 /etc', '1 /etc/new', '0 /home']);
    await d.cleanup();
  });
});
