import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import test from 'node:test';
import { InvalidParameterError } from '../../../../src/errors';
import { FsTools } from '../../../../src/host/fs-tools';
import { extractLayer } from '../../../../src/engine/images/layer-extract';
import { FIXTURE_MTIME, tarOf, type FixtureEntry } from '../../../fixtures/save-tarball';
import { quietLog, tempDir } from './helpers';

const fsTools = new FsTools();

/**
 * Extracts `entries` into `<tmp>/root`; `<tmp>/outside` holds a bait file. `@OUTSIDE@` in a
 * name becomes the outside dir without its leading slash; in a link target, its absolute path.
 */
async function extract(entries: FixtureEntry[], prepare?: (root: string) => Promise<void>, fresh = false) {
  const t = await tempDir('extract');
  const root = join(t.dir, 'root');
  const outside = join(t.dir, 'outside');
  await mkdir(root);
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'secret\n');
  if (prepare) await prepare(root);
  const tar = await tarOf(entries.map((e) => ({ ...e, name: e.name.replace('@OUTSIDE@', outside.slice(1)), linkname: e.linkname?.replace('@OUTSIDE@', outside) })));
  let error: unknown;
  try {
    await extractLayer(Readable.from([tar]), root, { fsTools, log: quietLog, fresh });
  } catch (err) {
    error = err;
  }
  /** Fails unless the temp dir holds only `root` and the untouched bait. */
  const assertNothingOutside = async () => {
    assert.deepEqual((await readdir(t.dir)).sort(), ['outside', 'root']);
    assert.deepEqual(await readdir(outside), ['secret.txt']);
    const bait = await stat(join(outside, 'secret.txt'));
    assert.equal(bait.nlink, 1, 'bait was hard-linked');
    assert.equal(await readFile(join(outside, 'secret.txt'), 'utf8'), 'secret\n');
  };
  return { root, outside, error, assertNothingOutside, cleanup: t.cleanup };
}

const UP = '../'.repeat(30);

test('regular files, dirs, symlinks, hard links with owner, mode and mtime', async () => {
  const r = await extract([
    { name: 'etc/', type: 'directory', mode: 0o750, uid: 1000, gid: 1001 },
    { name: 'etc/conf', data: 'hello\n', mode: 0o640, uid: 1000, gid: 1001 },
    { name: 'etc/setuid', data: '#!/bin/sh\n', mode: 0o4755 },
    { name: 'etc/link', type: 'symlink', linkname: 'conf', uid: 1000, gid: 1001 },
    { name: 'etc/abs-link', type: 'symlink', linkname: '/etc/conf' },
    { name: 'etc/hard', type: 'link', linkname: 'etc/conf', mode: 0o640, uid: 1000, gid: 1001 },
    { name: '/abs/file', data: 'stripped\n' },
    { name: 'deep/ly/nested/file', data: 'x' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
  ]);
  try {
    assert.equal(r.error, undefined);
    const etc = await stat(join(r.root, 'etc'));
    assert.equal(etc.mode & 0o7777, 0o750);
    assert.equal(etc.uid, 1000);
    assert.equal(etc.gid, 1001);
    assert.equal(etc.mtimeMs, FIXTURE_MTIME.getTime(), 'dir mtime restored after its children');
    const conf = await stat(join(r.root, 'etc', 'conf'));
    assert.equal(conf.mode & 0o7777, 0o640);
    assert.equal(conf.uid, 1000);
    assert.equal(conf.mtimeMs, FIXTURE_MTIME.getTime());
    assert.equal(conf.nlink, 2);
    assert.equal((await stat(join(r.root, 'etc', 'setuid'))).mode & 0o7777, 0o4755);
    assert.equal(await readlink(join(r.root, 'etc', 'link')), 'conf');
    assert.equal((await lstat(join(r.root, 'etc', 'link'))).uid, 1000);
    assert.equal(await readlink(join(r.root, 'etc', 'abs-link')), '/etc/conf', 'symlink targets are stored verbatim');
    assert.equal((await stat(join(r.root, 'etc', 'hard'))).ino, conf.ino);
    assert.equal(await readFile(join(r.root, 'abs', 'file'), 'utf8'), 'stripped\n');
    assert.equal(await readFile(join(r.root, 'deep', 'ly', 'nested', 'file'), 'utf8'), 'x');
    assert.equal((await stat(join(r.root, 'tmp'))).mode & 0o7777, 0o1777);
    await r.assertNothingOutside();
  } finally {
    await r.cleanup();
  }
});

test('whiteouts become 0:0 char devices, opaque dirs get trusted.overlay.opaque', async () => {
  const r = await extract([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/.wh.passwd' },
    { name: 'gone/.wh.deleted-dir' },
    { name: 'opaque/', type: 'directory' },
    { name: 'opaque/.wh..wh..opq' },
    { name: 'opaque/kept', data: 'k' },
    { name: '.wh..wh.plnk/', type: 'directory' },
  ]);
  try {
    assert.equal(r.error, undefined);
    const wh = await lstat(join(r.root, 'etc', 'passwd'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.ok((await lstat(join(r.root, 'gone', 'deleted-dir'))).isCharacterDevice());
    const xattr = execFileSync('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', join(r.root, 'opaque')], { encoding: 'utf8' });
    assert.equal(xattr, 'y');
    assert.deepEqual((await readdir(r.root)).sort(), ['etc', 'gone', 'opaque'], 'no .wh. files and no aufs metadata');
    assert.deepEqual(await readdir(join(r.root, 'etc')), ['passwd']);
  } finally {
    await r.cleanup();
  }
});

test('devices and fifos are created; xattrs are set except overlay ones', async () => {
  const r = await extract([
    { name: 'dev/', type: 'directory' },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/loop9', type: 'block-device', devmajor: 7, devminor: 9, mode: 0o660 },
    { name: 'dev/pipe', type: 'fifo', mode: 0o600 },
    { name: 'x', data: 'x', pax: { 'SCHILY.xattr.user.berth': 'hello', 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } },
  ]);
  try {
    assert.equal(r.error, undefined);
    const nul = await lstat(join(r.root, 'dev', 'null'));
    assert.ok(nul.isCharacterDevice());
    assert.equal(nul.mode & 0o777, 0o666);
    assert.ok((await lstat(join(r.root, 'dev', 'loop9'))).isBlockDevice());
    assert.ok((await lstat(join(r.root, 'dev', 'pipe'))).isFIFO());
    const attrs = execFileSync('getfattr', ['-d', '-m', '-', '--absolute-names', join(r.root, 'x')], { encoding: 'utf8' });
    assert.match(attrs, /user\.berth="hello"/);
    assert.doesNotMatch(attrs, /overlay/);
  } finally {
    await r.cleanup();
  }
});

test('later entries replace earlier ones, never writing through a symlink', async () => {
  const r = await extract(
    [
      { name: 'a', type: 'symlink', linkname: '/@OUTSIDE@/secret.txt' },
      { name: 'a', data: 'replaced\n' },
      { name: 'dir/', type: 'directory' },
      { name: 'dir/f', data: 'f' },
      { name: 'dir', data: 'now a file' },
    ],
  );
  try {
    assert.equal(r.error, undefined);
    assert.equal(await readFile(join(r.root, 'a'), 'utf8'), 'replaced\n');
    assert.equal(await readFile(join(r.root, 'dir'), 'utf8'), 'now a file');
    await r.assertNothingOutside();
  } finally {
    await r.cleanup();
  }
});

test('a directory replaced by a symlink does not get its old children\'s times applied outside', async () => {
  const r = await extract(
    [
      { name: 'd/', type: 'directory' },
      { name: 'd/sub/', type: 'directory' },
      { name: 'd', type: 'symlink', linkname: '@OUTSIDE@' },
    ],
    async (root) => {
      await mkdir(join(root, '..', 'outside', 'sub'));
    },
  );
  try {
    assert.equal(r.error, undefined);
    const sub = await stat(join(r.outside, 'sub'));
    assert.notEqual(sub.mtimeMs, FIXTURE_MTIME.getTime(), 'mtime of a host directory changed');
    assert.equal(await readlink(join(r.root, 'd')), r.outside);
  } finally {
    await r.cleanup();
  }
});

for (const fresh of [false, true]) {
  test(`relative symlinked parents inside the layer are followed within it${fresh ? ' (fresh root: symlinks made in the background)' : ''}`, async () => {
    const r = await extract(
      [
        { name: 'usr/', type: 'directory' },
        { name: 'usr/lib/', type: 'directory' },
        { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
        { name: 'lib/libx.so', data: 'elf' },
        { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
        { name: 'bin', type: 'symlink', linkname: 'usr/bin' },
        { name: 'bin/true', type: 'symlink', linkname: 'busybox' },
      ],
      undefined,
      fresh,
    );
    try {
      assert.equal(r.error, undefined);
      assert.equal(await readFile(join(r.root, 'usr', 'lib', 'libx.so'), 'utf8'), 'elf');
      // A directory made for an earlier entry's parents is replaced by the later symlink.
      assert.equal(await readlink(join(r.root, 'bin')), 'usr/bin');
      assert.equal(await readlink(join(r.root, 'usr', 'bin', 'true')), 'busybox');
      assert.equal((await lstat(join(r.root, 'lib'))).mtimeMs, FIXTURE_MTIME.getTime());
      await r.assertNothingOutside();
    } finally {
      await r.cleanup();
    }
  });
}

const escapes: Array<[string, FixtureEntry[]]> = [
  ['dotdot', [{ name: `${UP}@OUTSIDE@/evil.txt`, data: 'x' }]],
  ['dotdot in the middle', [{ name: `etc/../../${UP}@OUTSIDE@/evil.txt`, data: 'x' }]],
  ['absolute with dotdot', [{ name: `/${UP}@OUTSIDE@/evil.txt`, data: 'x' }]],
  ['dotdot directory', [{ name: `${UP}@OUTSIDE@/evil-dir/`, type: 'directory' }]],
  ['dotdot symlink entry', [{ name: `${UP}@OUTSIDE@/evil-link`, type: 'symlink', linkname: '/etc/shadow' }]],
  ['dotdot whiteout', [{ name: `${UP}@OUTSIDE@/.wh.secret.txt` }]],
  ['dotdot opaque', [{ name: `${UP}@OUTSIDE@/.wh..wh..opq` }]],
  ['symlink to an absolute dir, then a file through it', [
    { name: 'escape', type: 'symlink', linkname: '@OUTSIDE@' },
    { name: 'escape/evil.txt', data: 'x' },
  ]],
  ['relative symlink climbing out, then a file through it', [
    { name: 'up', type: 'symlink', linkname: `${UP}@OUTSIDE@` },
    { name: 'up/evil.txt', data: 'x' },
  ]],
  ['symlink parent, then a whiteout through it', [
    { name: 'escape', type: 'symlink', linkname: '@OUTSIDE@' },
    { name: 'escape/.wh.secret.txt' },
  ]],
  ['symlink parent, then opaque through it', [
    { name: 'escape', type: 'symlink', linkname: '@OUTSIDE@' },
    { name: 'escape/.wh..wh..opq' },
  ]],
  ['symlink parent, then a directory through it', [
    { name: 'escape', type: 'symlink', linkname: '@OUTSIDE@' },
    { name: 'escape/sub/', type: 'directory', mode: 0o777 },
  ]],
  ['hard link climbing out', [{ name: 'evil-hardlink', type: 'link', linkname: `${UP}@OUTSIDE@/secret.txt` }]],
  ['hard link through a symlink', [
    { name: 's', type: 'symlink', linkname: '@OUTSIDE@' },
    { name: 'evil-hardlink', type: 'link', linkname: 's/secret.txt' },
  ]],
];

for (const [name, entries] of escapes) {
  for (const fresh of [false, true]) test(`escape refused: ${name}${fresh ? ' (fresh root)' : ''}`, async () => {
    const r = await extract(entries, undefined, fresh);
    try {
      assert.ok(r.error instanceof InvalidParameterError, `expected InvalidParameterError, got ${String(r.error)}`);
      await r.assertNothingOutside();
    } finally {
      await r.cleanup();
    }
  });
}

test('hard link to a missing file or a directory is refused', async () => {
  for (const linkname of ['missing', 'dir', '/']) {
    const r = await extract([{ name: 'dir/', type: 'directory' }, { name: 'h', type: 'link', linkname }]);
    try {
      assert.ok(r.error instanceof InvalidParameterError, linkname);
    } finally {
      await r.cleanup();
    }
  }
});

test('a truncated layer tar fails (layer-unpack turns this into InvalidParameterError)', async () => {
  const t = await tempDir('extract-bad');
  try {
    await mkdir(join(t.dir, 'root'));
    const tar = await tarOf([{ name: 'a', data: 'x'.repeat(2000) }]);
    await assert.rejects(extractLayer(Readable.from([tar.subarray(0, 1000)]), join(t.dir, 'root'), { fsTools, log: quietLog }), /Unexpected end of data/);
  } finally {
    await t.cleanup();
  }
});

test('a missing setfattr or mknod is UnavailableError naming the Debian package', async () => {
  const tools = new FsTools({ setfattrPath: '/nonexistent/setfattr', mknodPath: '/nonexistent/mknod' });
  await assert.rejects(tools.setXattr('/tmp', 'user.x', Buffer.from('y')), { name: 'UnavailableError', message: /install Debian's attr package/ });
  await assert.rejects(tools.whiteout('/tmp/never'), { name: 'UnavailableError', message: /coreutils/ });
});
