import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextFreeRange, parseSubIdFile, rangesOf } from '../../../../src/engine/userns/subid-file';

describe('subordinate id files', () => {
  const text = ['# comment', 'alice:100000:65536', '', 'bob:165536:65536', '1001:300000:1000', 'alice:500000:10', 'broken line', 'x:1:y', 'alice:600000:0'].join('\n');

  it('parses well-formed lines in order and skips the rest', () => {
    assert.deepEqual(parseSubIdFile(text), [
      { owner: 'alice', start: 100000, count: 65536 },
      { owner: 'bob', start: 165536, count: 65536 },
      { owner: '1001', start: 300000, count: 1000 },
      { owner: 'alice', start: 500000, count: 10 },
      { owner: 'alice', start: 600000, count: 0 },
    ]);
    assert.deepEqual(parseSubIdFile(''), []);
  });

  it("lays a user's ranges (by name or uid) end to end from container id 0, as dockerd", () => {
    const entries = parseSubIdFile(text);
    assert.deepEqual(rangesOf(entries, { name: 'alice', uid: 1001 }), [
      { containerId: 0, hostId: 100000, size: 65536 },
      { containerId: 65536, hostId: 300000, size: 1000 },
      { containerId: 66536, hostId: 500000, size: 10 },
    ]);
    assert.deepEqual(rangesOf(entries, { name: 'carol', uid: 1002 }), []);
  });

  it('finds the first free 65536 range at or above 100000', () => {
    assert.equal(nextFreeRange([]), 100000);
    assert.equal(nextFreeRange(parseSubIdFile('a:100000:65536\nb:165536:65536')), 231072);
    // Ranges in any order; one below 100000 does not matter, a gap too small is skipped.
    assert.equal(nextFreeRange(parseSubIdFile('b:150000:1000\na:1000:5000\nc:120000:1000')), 151000);
    assert.equal(nextFreeRange(parseSubIdFile('b:200000:1000\nc:120000:1000')), 121000);
    assert.equal(nextFreeRange(parseSubIdFile('a:300000:65536')), 100000);
  });
});
