import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyResult, probeSettings } from '../../../../src/engine/containers/health/health-monitor';
import type { HealthState } from '../../../../src/engine/containers/types';

describe('healthcheck settings and results (dockerd rules)', () => {
  it('reads CMD, CMD-SHELL and NONE with dockerd defaults', () => {
    assert.equal(probeSettings(undefined), undefined);
    assert.equal(probeSettings({ Test: ['NONE'] }), undefined);
    assert.deepEqual(probeSettings({ Test: ['CMD', 'true'] }), { cmd: ['true'], interval: 30_000, timeout: 30_000, startPeriod: 0, startInterval: 5_000, retries: 3 });
    assert.deepEqual(probeSettings({ Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 2e9, Retries: 5 })?.cmd, ['/bin/sh', '-c', 'curl -f localhost']);
    assert.equal(probeSettings({ Test: ['CMD-SHELL', 'x'], Interval: 2e9 })?.interval, 2000);
  });

  it('counts failures to Retries, resets on success, ignores start-period failures until healthy once', () => {
    const h: HealthState = { Status: 'starting', FailingStreak: 0, Log: [] };
    applyResult(h, false, { retries: 2 }, true);
    assert.deepEqual([h.Status, h.FailingStreak], ['starting', 0]);
    applyResult(h, false, { retries: 2 }, false);
    applyResult(h, false, { retries: 2 }, false);
    assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 2]);
    applyResult(h, true, { retries: 2 }, false);
    assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 0]);
    applyResult(h, false, { retries: 2 }, true);
    assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 1]);
  });
});
