import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { lookupGroup } from '../../../src/socket-group';
import { startBerth, type Berth } from '../harness';

const BERTHD = join(resolve(__dirname, '..', '..', '..', '..'), 'bin', 'berthd');
const TEST_GROUP = 'berthsockt';

describe('API socket owner group and mode, as dockerd', () => {
  const daemons: Berth[] = [];
  after(async () => {
    for (const d of daemons) await d.cleanup();
    spawnSync('groupdel', [TEST_GROUP]);
  });

  it('is 0660 and owned by the docker group when it exists (else root)', async () => {
    const berth = await startBerth({ busybox: false });
    daemons.push(berth);
    const st = statSync(berth.socket);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.gid, lookupGroup('docker') ?? 0);
  });

  it('takes the group given with -G', async () => {
    spawnSync('groupdel', [TEST_GROUP]);
    const made = spawnSync('groupadd', ['--system', TEST_GROUP]);
    assert.equal(made.status, 0, made.stderr?.toString());
    const berth = await startBerth({ busybox: false, extraArgs: ['-G', TEST_GROUP] });
    daemons.push(berth);
    assert.equal(statSync(berth.socket).gid, lookupGroup(TEST_GROUP));
  });

  it('refuses to start with a group that does not exist, before creating anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-grp-'));
    try {
      const sock = join(dir, 'b.sock');
      const r = spawnSync(BERTHD, ['-H', `unix://${sock}`, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-G', 'no-such-group-x'], { timeout: 60_000 });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr.toString() + r.stdout.toString(), /group no-such-group-x not found/);
      assert.equal(existsSync(sock), false);
      assert.equal(existsSync(join(dir, 'data')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
