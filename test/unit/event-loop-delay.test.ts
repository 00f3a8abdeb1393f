import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { watchEventLoopDelay, type EventLoopDelay } from '../../src/event-loop-delay';

describe('event-loop delay figures', () => {
  it('SIGUSR2 writes the delay since the last report, including a blocked stretch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-eld-'));
    const file = join(dir, 'delay.json');
    const unwatch = watchEventLoopDelay(file);
    try {
      // Let the histogram take a few samples, then block the loop for ~60 ms.
      for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 15));
      const until = Date.now() + 60;
      while (Date.now() < until);
      await new Promise((r) => setTimeout(r, 15));
      process.kill(process.pid, 'SIGUSR2');
      while (!existsSync(file)) await new Promise((r) => setImmediate(r));
      const figures = JSON.parse(readFileSync(file, 'utf8')) as EventLoopDelay;
      assert.ok(figures.samples > 0);
      assert.ok(figures.max >= 50, `max ${figures.max} ms`);
      assert.ok(figures.p50 <= figures.p99 && figures.p99 <= figures.max);
    } finally {
      unwatch();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does nothing without a file', () => {
    const before = process.listenerCount('SIGUSR2');
    const unwatch = watchEventLoopDelay(undefined);
    assert.equal(process.listenerCount('SIGUSR2'), before);
    unwatch();
  });
});
