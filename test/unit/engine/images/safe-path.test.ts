import assert from 'node:assert/strict';
import { mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'node:test';
import { InvalidParameterError } from '../../../../src/errors';
import { cleanArchivePath, cleanEntryPath, resolveInRoot } from '../../../../src/engine/images/safe-path';
import { tempDir } from './helpers';

test('cleanEntryPath drops leading slashes and dots, keeps paths inside', () => {
  assert.equal(cleanEntryPath('/etc/x'), 'etc/x');
  assert.equal(cleanEntryPath('///etc//x/'), 'etc/x');
  assert.equal(cleanEntryPath('./etc/./x'), 'etc/x');
  assert.equal(cleanEntryPath('a/../b'), 'b');
  assert.equal(cleanEntryPath('a/b/../../c'), 'c');
  assert.equal(cleanEntryPath('./'), '');
  assert.equal(cleanEntryPath('.'), '');
});

test('cleanEntryPath refuses names that climb out', () => {
  for (const name of ['..', '../x', 'a/../../x', '/../etc/passwd', '/a/../../etc', 'a/b/../../../c']) {
    assert.throws(() => cleanEntryPath(name), InvalidParameterError, name);
  }
  assert.throws(() => cleanEntryPath('a\0b'), InvalidParameterError);
  assert.throws(() => cleanArchivePath('../manifest.json'), /escapes the archive/);
});

test('resolveInRoot follows relative symlinks that stay inside', async () => {
  const t = await tempDir('resolve');
  try {
    const root = join(t.dir, 'root');
    await mkdir(join(root, 'usr', 'lib'), { recursive: true });
    await symlink('usr/lib', join(root, 'lib'));
    await mkdir(join(root, 'a', 'b'), { recursive: true });
    await symlink('../../usr', join(root, 'a', 'b', 'up'));
    assert.equal(await resolveInRoot(root, 'lib/x'), join(root, 'usr', 'lib', 'x'));
    assert.equal(await resolveInRoot(root, 'a/b/up/lib/y'), join(root, 'usr', 'lib', 'y'));
    // The last component is not followed unless asked.
    assert.equal(await resolveInRoot(root, 'lib'), join(root, 'lib'));
    assert.equal(await resolveInRoot(root, 'lib', { followLast: true }), join(root, 'usr', 'lib'));
    // Missing parents: created on request, otherwise resolved lexically.
    assert.equal(await resolveInRoot(root, 'new/dir/file'), join(root, 'new', 'dir', 'file'));
    assert.equal(await stat(join(root, 'new')).catch(() => undefined), undefined);
    assert.equal(await resolveInRoot(root, 'new/dir/file', { createParents: true }), join(root, 'new', 'dir', 'file'));
    assert.ok((await stat(join(root, 'new', 'dir'))).isDirectory());
  } finally {
    await t.cleanup();
  }
});

test('resolveInRoot refuses symlinks that point outside the root', async () => {
  const t = await tempDir('resolve-escape');
  try {
    const root = join(t.dir, 'root');
    const outside = join(t.dir, 'outside');
    await mkdir(root);
    await mkdir(outside);
    await symlink(outside, join(root, 'abs'));
    await symlink('/etc', join(root, 'etc-link'));
    await symlink('../outside', join(root, 'rel'));
    await symlink('missing/../../../outside', join(root, 'sneaky'));
    await symlink('loop2', join(root, 'loop1'));
    await symlink('loop1', join(root, 'loop2'));
    await writeFile(join(root, 'file'), 'x');
    for (const rel of ['abs/x', 'etc-link/passwd', 'rel/x', 'sneaky/x']) {
      await assert.rejects(resolveInRoot(root, rel, { createParents: true }), /points outside the layer/, rel);
    }
    await assert.rejects(resolveInRoot(root, 'loop1/x'), /too many levels of symbolic links/);
    await assert.rejects(resolveInRoot(root, 'file/x'), /is not a directory/);
    assert.deepEqual(await readdir(outside), [], 'nothing created outside');
  } finally {
    await t.cleanup();
  }
});
