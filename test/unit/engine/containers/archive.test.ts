import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import * as tar from 'tar-stream';
import { computeChanges } from '../../../../src/engine/containers/archive/changes';
import { pathStat, resolveContainerPath, rfc3339Nano } from '../../../../src/engine/containers/archive/container-path';
import { goFileMode } from '../../../../src/engine/containers/archive/file-mode';
import { TreePacker } from '../../../../src/engine/containers/archive/tar-pack';
import { InvalidParameterError, NotFoundError } from '../../../../src/errors';
import { FsTools } from '../../../../src/host/fs-tools';
import { extractLayer } from '../../../../src/engine/images/layer-extract';
import { tarOf, type FixtureEntry } from '../../../fixtures/save-tarball';
import { quietLog, tempDir } from '../images/helpers';

const fsTools = new FsTools();

/** `<tmp>/root` with `/etc -> /host`, `/host/passwd`, `/up -> ../../..`, and `<tmp>/outside`. */
async function containerRoot() {
  const t = await tempDir('archive');
  const root = join(t.dir, 'root');
  const outside = join(t.dir, 'outside');
  await mkdir(join(root, 'host'), { recursive: true });
  await mkdir(join(root, 'tmp'));
  await mkdir(outside);
  await writeFile(join(root, 'host', 'passwd'), 'root:x:0:0\n');
  await writeFile(join(outside, 'secret'), 'secret\n');
  await symlink('/host', join(root, 'etc'));
  await symlink('../../..', join(root, 'up'));
  return { ...t, root, outside };
}

describe('container paths', () => {
  it('converts stat modes to Go FileMode', async () => {
    const t = await containerRoot();
    await mkdir(join(t.root, 'd755'), { mode: 0o755 });
    assert.equal(goFileMode(await lstat(join(t.root, 'd755'))), 2147484141);
    assert.equal(goFileMode(await lstat(join(t.root, 'etc'))), 2 ** 27 + 0o777);
    execFileSync('chmod', ['4755', join(t.root, 'host', 'passwd')]);
    assert.equal(goFileMode(await lstat(join(t.root, 'host', 'passwd'))), 2 ** 23 + 0o755);
    await t.cleanup();
  });

  it('resolves symlinks inside the root and reports the last one unresolved', async () => {
    const t = await containerRoot();
    const p = await resolveContainerPath(t.root, '/etc/passwd', 'c');
    assert.equal(p.hostPath, join(t.root, 'host', 'passwd'));
    assert.equal(p.name, 'passwd');
    const up = await resolveContainerPath(t.root, '/up/up/etc/passwd', 'c');
    assert.equal(up.hostPath, join(t.root, 'host', 'passwd'));
    const link = await resolveContainerPath(t.root, '/etc', 'c');
    assert.ok(link.stat.isSymbolicLink());
    const stat = await pathStat(t.root, link);
    assert.equal(stat.name, 'etc');
    assert.equal(stat.linkTarget, '/host');
    const contents = await resolveContainerPath(t.root, '/etc/.', 'c');
    assert.equal(contents.name, '.');
    assert.ok(contents.stat.isDirectory());
    assert.equal((await resolveContainerPath(t.root, '/', 'c')).name, '/');
    await assert.rejects(resolveContainerPath(t.root, `/up/${t.outside.slice(1)}/secret`, 'c'), (err: Error) => err instanceof NotFoundError && err.message === `Could not find the file /up/${t.outside.slice(1)}/secret in container c`);
    await assert.rejects(resolveContainerPath(t.root, '/host/passwd/x', 'c'), NotFoundError);
    await t.cleanup();
  });
});

describe('PUT-style extraction', () => {
  const put = async (root: string, base: string, entries: FixtureEntry[], extra: object = {}) =>
    extractLayer(Readable.from([await tarOf(entries)]), root, { fsTools, log: quietLog, base, scoped: true, whiteouts: false, ...extra });

  it('confines names, symlinks and hard links to the container root', async () => {
    const t = await containerRoot();
    await assert.rejects(put(t.root, 'tmp', [{ name: '../x', data: 'x' }]), InvalidParameterError);
    await put(t.root, 'tmp', [
      { name: '/abs/file', data: 'abs' },
      { name: 'evil', type: 'symlink', linkname: '/' },
      { name: 'evil/host/pwned', data: 'pwned' },
      { name: 'up2', type: 'symlink', linkname: '../../../../..' },
      { name: `up2${t.outside}/pwned`, data: 'pwned' },
      { name: '.wh.keep', data: 'kept as a file' },
    ]);
    assert.equal(await readFile(join(t.root, 'tmp', 'abs', 'file'), 'utf8'), 'abs');
    assert.equal(await readFile(join(t.root, 'host', 'pwned'), 'utf8'), 'pwned');
    assert.equal(await readFile(join(t.root, t.outside, 'pwned'), 'utf8'), 'pwned');
    assert.equal(await readFile(join(t.root, 'tmp', '.wh.keep'), 'utf8'), 'kept as a file');
    await assert.rejects(lstat(join(t.outside, 'pwned')));
    // A hard link names a path below the extraction directory, never a host path.
    await assert.rejects(put(t.root, 'tmp', [{ name: 'hl', type: 'link', linkname: join(t.outside, 'secret') }]), InvalidParameterError);
    await assert.rejects(put(t.root, 'tmp', [{ name: 'hl', type: 'link', linkname: '../../outside/secret' }]), InvalidParameterError);
    assert.equal((await lstat(join(t.outside, 'secret'))).nlink, 1);
    await put(t.root, '', [{ name: 'tmp/hl', type: 'link', linkname: '/etc/passwd' }]);
    assert.equal((await lstat(join(t.root, 'host', 'passwd'))).nlink, 2);
    assert.deepEqual((await readdir(t.outside)).sort(), ['secret']);
    await t.cleanup();
  });

  it('honours noOverwriteDirNonDir and the owner override', async () => {
    const t = await containerRoot();
    await assert.rejects(put(t.root, '', [{ name: 'tmp', data: 'x' }], { noOverwriteDirNonDir: true }), /cannot overwrite directory "\/tmp" with non-directory/);
    await assert.rejects(put(t.root, '', [{ name: 'host/passwd', type: 'directory' }], { noOverwriteDirNonDir: true }), /cannot overwrite non-directory/);
    await put(t.root, 'tmp', [{ name: 'owned', data: 'x', uid: 5, gid: 6 }], { owner: { uid: 7, gid: 8 } });
    const st = await lstat(join(t.root, 'tmp', 'owned'));
    assert.deepEqual([st.uid, st.gid], [7, 8]);
    await t.cleanup();
  });
});

describe('tree packing', () => {
  it('rebases names and keeps symlinks, hard links and modes', async () => {
    const t = await containerRoot();
    await writeFile(join(t.root, 'tmp', 'a'), 'aaa', { mode: 0o640 });
    execFileSync('ln', [join(t.root, 'tmp', 'a'), join(t.root, 'tmp', 'b')]);
    await symlink('a', join(t.root, 'tmp', 'l'));
    const pack = tar.pack();
    const packer = new TreePacker(pack);
    const done = packer.add(join(t.root, 'tmp'), 'renamed').then(() => pack.finalize());
    const extract = tar.extract();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const entry of extract) {
        const h = entry.header;
        seen.push(`${h.name} ${h.type}${h.linkname ? ` ${h.linkname}` : ''}${h.type === 'file' ? ` ${(h.mode ?? 0).toString(8)}` : ''}`);
        entry.resume();
      }
    })();
    pack.pipe(extract);
    await done;
    await reading;
    assert.deepEqual(seen, ['renamed/ directory', 'renamed/a file 640', 'renamed/b link renamed/a', 'renamed/l symlink a']);
    await t.cleanup();
  });
});

describe('changes', () => {
  it('reports overlay changes like dockerd', async () => {
    const t = await tempDir('changes');
    const lower = join(t.dir, 'lower');
    const upper = join(t.dir, 'upper');
    for (const d of ['etc', 'bin', 'same']) await mkdir(join(lower, d), { recursive: true });
    await writeFile(join(lower, 'etc', 'group'), 'g');
    await writeFile(join(lower, 'etc', 'motd'), 'h');
    await writeFile(join(lower, 'bin', 'old'), 'o');
    for (const d of ['etc', 'bin', 'same', 'newdir']) await mkdir(join(upper, d), { recursive: true });
    // Copied up unchanged: same mode, size and mtime as below.
    const when = new Date('2024-01-01T00:00:00Z');
    await utimes(join(lower, 'same'), when, when);
    await utimes(join(upper, 'same'), when, when);
    await writeFile(join(upper, 'newfile'), 'n');
    await writeFile(join(upper, 'etc', 'motd'), 'changed');
    await writeFile(join(upper, 'newdir', 'f'), 'f');
    execFileSync('mknod', [join(upper, 'etc', 'group'), 'c', '0', '0']);
    await writeFile(join(upper, 'bin', 'new'), 'n');
    const opaque = new Set([join(upper, 'bin')]);
    const changes = await computeChanges(upper, [lower], { getXattr: async (p) => (opaque.has(p) ? Buffer.from('y') : undefined) });
    assert.deepEqual(changes, [
      { Path: '/bin', Kind: 2 },
      { Path: '/bin/new', Kind: 1 },
      { Path: '/etc', Kind: 0 },
      { Path: '/etc/group', Kind: 2 },
      { Path: '/etc/motd', Kind: 0 },
      { Path: '/newdir', Kind: 1 },
      { Path: '/newdir/f', Kind: 1 },
      { Path: '/newfile', Kind: 1 },
    ]);
    await t.cleanup();
  });
});

describe('changes of runtime stubs', () => {
  it('leaves out init-layer paths and directories changed only by them', async () => {
    const t = await tempDir('changes-init');
    const lower = join(t.dir, 'lower');
    const upper = join(t.dir, 'upper');
    await mkdir(join(lower, 'etc'), { recursive: true });
    for (const d of ['etc', 'dev/pts', 'proc', 'sys']) await mkdir(join(upper, d), { recursive: true });
    for (const f of ['hosts', 'hostname', 'resolv.conf']) await writeFile(join(upper, 'etc', f), '');
    const later = new Date(Date.now() + 5000);
    await utimes(join(upper, 'etc'), later, later);
    assert.deepEqual(await computeChanges(upper, [lower], { getXattr: async () => undefined }), []);
    await t.cleanup();
  });
});

describe('path stat times', () => {
  it('formats mtimes like Go RFC3339Nano', () => {
    const at = (mtimeMs: number) => rfc3339Nano({ mtimeMs } as never);
    assert.equal(at(Date.parse('2024-01-01T00:00:00Z')), '2024-01-01T00:00:00Z');
    assert.equal(at(Date.parse('2024-01-01T00:00:00Z') + 123.5), '2024-01-01T00:00:00.1235Z');
  });
});
