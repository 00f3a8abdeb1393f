import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ExternalCommandError } from '../../../src/host/command-error';
import { copyTreeContents } from '../../../src/host/copy-tree';
import { psTable } from '../../../src/host/ps';

describe('host program adapters', () => {
  it('ps prints the table for the options given, as argv words', async () => {
    const out = await psTable(['-o', 'pid,comm', '-p', String(process.pid)]);
    const [title, row] = out.trim().split('\n');
    assert.match(title, /PID/);
    assert.equal(Number(row.trim().split(/\s+/)[0]), process.pid);
    await assert.rejects(psTable(['--no-such-option-berth']), ExternalCommandError);
  });

  it('copies a tree with modes and symlinks into an existing directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-copy-'));
    try {
      const from = join(dir, 'from');
      const into = join(dir, 'into');
      await mkdir(join(from, 'sub'), { recursive: true });
      await mkdir(into);
      await writeFile(join(from, 'sub', 'file'), 'x', { mode: 0o640 });
      await symlink('sub/file', join(from, 'link'));
      await copyTreeContents(from, into);
      assert.equal(await readFile(join(into, 'sub', 'file'), 'utf8'), 'x');
      assert.equal((await stat(join(into, 'sub', 'file'))).mode & 0o777, 0o640);
      assert.equal(await readlink(join(into, 'link')), 'sub/file');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
