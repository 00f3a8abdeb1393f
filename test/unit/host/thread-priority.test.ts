import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { getPriority } from 'node:os';
import { describe, it } from 'node:test';
import { CONTAINER_NICE, setThreadPriority, withPriority } from '../../../src/host/thread-priority';

const niceOfChild = () => Number(execFileSync('/bin/sh', ['-c', 'nice']).toString().trim());

describe('thread priorities', () => {
  it('forks at the given priority and restores the thread after', (t) => {
    const before = getPriority(0);
    if (!setThreadPriority(-3)) return t.skip('raising a priority needs CAP_SYS_NICE');
    try {
      assert.equal(niceOfChild(), -3, 'a child starts with its thread value');
      assert.equal(withPriority(CONTAINER_NICE, niceOfChild), 0);
      assert.equal(getPriority(0), -3);
    } finally {
      setThreadPriority(before);
    }
  });
});
