import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StartGate } from '../../../../src/engine/containers/start-gate';

/** A start that finishes when the test says so. */
function controllable() {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  return { done, finish };
}

describe('StartGate', () => {
  it('runs at most `limit` starts at once and admits the next when one ends', async () => {
    const gate = new StartGate(2, 60_000);
    const starts = Array.from({ length: 3 }, controllable);
    const began: number[] = [];
    const runs = starts.map((s, i) => gate.run(async () => (began.push(i), await s.done, i)));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(began, [0, 1]);
    starts[0].finish();
    await runs[0];
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(began, [0, 1, 2]);
    starts[1].finish();
    starts[2].finish();
    assert.deepEqual(await Promise.all(runs), [0, 1, 2]);
  });

  it('lets a waiting start go ahead after maxWaitMs', async () => {
    const gate = new StartGate(1, 50);
    const blocker = controllable();
    const first = gate.run(() => blocker.done);
    assert.equal(await gate.run(async () => 'went ahead'), 'went ahead');
    blocker.finish();
    await first;
  });

  it('frees the slot when a start fails', async () => {
    const gate = new StartGate(1, 60_000);
    await assert.rejects(gate.run(async () => Promise.reject(new Error('failed'))), /failed/);
    assert.equal(await gate.run(async () => 'next'), 'next');
  });
});
