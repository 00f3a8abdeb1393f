import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withVirtualSize } from '../../../src/api/version-shapes';

describe('image VirtualSize per API version', () => {
  const summary = { Containers: -1, Created: 1, Id: 'sha256:x', SharedSize: -1, Size: 4242 };

  it('equals Size below 1.44, placed right after Size', () => {
    for (const v of ['1.24', '1.41', '1.43']) {
      const out = withVirtualSize({ ...summary, GraphDriver: {} }, v);
      assert.equal(out.VirtualSize, 4242, v);
      assert.deepEqual(Object.keys(out), ['Containers', 'Created', 'Id', 'SharedSize', 'Size', 'VirtualSize', 'GraphDriver']);
    }
  });

  it('is omitted from 1.44 on', () => {
    for (const v of ['1.44', '1.50', '1.51']) {
      assert.equal('VirtualSize' in withVirtualSize(summary, v), false, v);
    }
  });
});
