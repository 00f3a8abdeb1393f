import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DetachScanner, parseDetachKeys } from '../../../../src/engine/containers/detach-keys';

describe('detach keys', () => {
  it('parses ctrl- keys and single characters like dockerd', () => {
    assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [0x10, 0x11]);
    assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-[,ctrl-_,a')], [0, 27, 31, 0x61]);
    assert.throws(() => parseDetachKeys('ctrl-1'), { message: 'Invalid detach keys (ctrl-1) provided' });
    assert.throws(() => parseDetachKeys('alt-p'), { name: 'InvalidParameterError' });
  });

  it('holds a possible start of the sequence and passes it on when it was not one', () => {
    const s = new DetachScanner(parseDetachKeys('ctrl-p,ctrl-q'));
    assert.deepEqual(s.feed(Buffer.from('ab\x10')), { forward: Buffer.from('ab'), detached: false });
    assert.deepEqual(s.feed(Buffer.from('c')), { forward: Buffer.from('\x10c'), detached: false });
    assert.deepEqual(s.feed(Buffer.from('x\x10\x10')), { forward: Buffer.from('x\x10'), detached: false });
    assert.deepEqual(s.feed(Buffer.from('\x11rest')), { forward: Buffer.alloc(0), detached: true });
  });
});
