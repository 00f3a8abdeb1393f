import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setupRemappedRoot } from '../../../../src/engine/userns/remap-root';

const MAP = { uids: [{ containerId: 0, hostId: 300000, size: 65536 }], gids: [{ containerId: 0, hostId: 400000, size: 65536 }] };
const modeOwner = (p: string) => {
  const st = statSync(p);
  return [st.mode & 0o777, st.uid, st.gid];
};

describe('the remapped data root (dockerd setupDaemonRoot)', { skip: process.getuid?.() !== 0 && 'needs root (chown)' }, () => {
  it('lives in <data-root>/<uid>.<gid>, 0710 root:<gid> with containers/, db/ 0700', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-remap-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o711);
    const data = join(dir, 'data');
    const root = await setupRemappedRoot(data, MAP);
    assert.equal(root, join(data, '300000.400000'));
    for (const p of [data, root, join(root, 'containers')]) assert.deepEqual(modeOwner(p), [0o710, 0, 400000], p);
    assert.deepEqual(modeOwner(join(root, 'db')), [0o700, 0, 0]);
    // Again over what exists: the same.
    assert.equal(await setupRemappedRoot(data, MAP), root);
  });

  it('refuses a path the remapped root cannot pass, in dockerd words', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-remap-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'closed'), { mode: 0o700 });
    const data = join(dir, 'closed', 'data');
    await assert.rejects(setupRemappedRoot(data, MAP), {
      message: `a subdirectory in your graphroot path (${data}/300000.400000) restricts access to the remapped root uid/gid; please fix by allowing 'o+x' permissions on existing directories`,
    });
  });
});
