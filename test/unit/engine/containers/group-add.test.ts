import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvalidParameterError } from '../../../../src/engine/errors';
import { groupAddGids } from '../../../../src/engine/containers/user';

describe('groupAddGids (--group-add)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-groupadd-'));
    await mkdir(join(dir, 'etc'), { recursive: true });
    await writeFile(join(dir, 'etc/group'), 'root:x:0:\nstaff:x:50:app\nvideo:x:44:\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('takes numbers as they are and names from /etc/group, in order', async () => {
    assert.deepEqual(await groupAddGids(dir, ['1234', 'video', '50', 'staff']), [1234, 44, 50, 50]);
    assert.deepEqual(await groupAddGids(dir, []), []);
  });

  it("refuses an unknown name in runc's words", async () => {
    await assert.rejects(groupAddGids(dir, ['nosuch']), (e: Error) => e instanceof InvalidParameterError && e.message === 'Unable to find group nosuch: no matching entries in group file');
  });
});
