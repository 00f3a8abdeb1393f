import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBerth, type Berth } from '../harness';

/** Supplementary groups as dockerd sets them: primary group, the user's groups, --group-add. */
describe('containers: supplementary groups', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('includes the primary group, like dockerd', () => {
    assert.equal(berth.ok(['run', '--rm', 'busybox', 'id', '-G']).trim(), '0');
    assert.equal(berth.ok(['run', '--rm', '-u', '1000', 'busybox', 'id', '-G']).trim(), '1000');
  });

  it('adds numeric and named --group-add groups', () => {
    assert.equal(berth.ok(['run', '--rm', '-u', '1000', '--group-add', '1234', '--group-add', 'nobody', 'busybox', 'id', '-G']).trim(), '1000 1234 65534');
    const bad = berth.docker(['run', '--rm', '--group-add', 'nosuch', 'busybox', 'id']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /Unable to find group nosuch: no matching entries in group file/);
  });
});
