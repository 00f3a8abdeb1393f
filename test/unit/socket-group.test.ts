import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { parseArgs } from '../../src/config';
import { lookupGroup } from '../../src/socket-group';

/** A path in a temporary directory that goes when the test ends. */
function tempFile(t: TestContext, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-grp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

describe('socket group (-G/--group)', () => {
  it('defaults to docker, as dockerd; -G, --group and daemon.json set it', (t) => {
    const group = (argv: string[]) => {
      const r = parseArgs(argv);
      return r.kind === 'run' ? r.config.group : undefined;
    };
    assert.equal(group([]), 'docker');
    assert.equal(group(['-G', 'staff']), 'staff');
    assert.equal(group(['--group=']), '');
    const file = tempFile(t, 'daemon.json');
    writeFileSync(file, JSON.stringify({ group: 'wheel' }));
    assert.equal(group(['--config-file', file]), 'wheel');
    assert.equal(group(['--config-file', file, '--group', 'staff']), 'staff');
  });

  it('resolves names from the group file and takes numbers as they are', (t) => {
    const file = tempFile(t, 'group');
    writeFileSync(file, 'root:x:0:\ndocker:x:106:alice\nbroken:x:\n');
    assert.equal(lookupGroup('docker', file), 106);
    assert.equal(lookupGroup('root', file), 0);
    assert.equal(lookupGroup('4242', file), 4242);
    assert.equal(lookupGroup('broken', file), undefined);
    assert.equal(lookupGroup('nosuch', file), undefined);
  });
});
