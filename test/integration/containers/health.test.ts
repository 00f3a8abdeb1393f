import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBerth, type Berth } from '../harness';
import { waitFor, waitForEvents, waitForState } from '../wait';

describe('healthchecks', () => {
  let berth: Berth;
  let since: string;
  before(async () => {
    berth = await startBerth();
    since = String(Math.floor(Date.now() / 1000) - 1);
  });
  after(async () => {
    await berth?.cleanup();
  });

  const health = (name: string) => JSON.parse(berth.ok(['inspect', name]))[0].State.Health;
  const until = (what: string, check: () => boolean) => waitFor(check, { what });

  it('goes starting → unhealthy after Retries failures → healthy on success, with events and ps status', async () => {
    berth.ok(['run', '-d', '--name', 'hc', '--health-cmd', 'test -e /tmp/ok', '--health-interval', '1s', '--health-retries', '2', 'busybox', 'sleep', '1000']);
    assert.equal(health('hc').Status, 'starting');
    assert.match(berth.ok(['ps', '--filter', 'name=hc', '--format', '{{.Status}}']), /\(health: starting\)/);
    await until('unhealthy', () => health('hc').Status === 'unhealthy');
    assert.ok(health('hc').FailingStreak >= 2);
    berth.ok(['exec', 'hc', 'touch', '/tmp/ok']);
    await until('healthy', () => health('hc').Status === 'healthy');
    const h = health('hc');
    assert.equal(h.FailingStreak, 0);
    assert.ok(h.Log.length >= 1 && h.Log.length <= 5);
    assert.equal(h.Log[h.Log.length - 1].ExitCode, 0);
    assert.match(berth.ok(['ps', '--filter', 'name=hc', '--format', '{{.Status}}']), /\(healthy\)/);
    assert.equal(berth.ok(['ps', '-q', '--filter', 'health=healthy']).trim().length, 12);
    assert.equal(berth.ok(['ps', '-q', '--filter', 'health=unhealthy']).trim(), '');
    // The event follows the state (it is sent once the state is saved): wait for it.
    const events = await waitForEvents(berth, since, ['container=hc', 'event=health_status'], { count: 2 });
    assert.deepEqual(events.map((e) => e.Action), ['health_status: unhealthy', 'health_status: healthy']);
  });

  it('a probe that runs past its timeout counts as a failure with dockerd\'s message', async () => {
    berth.ok(['run', '-d', '--name', 'slow', '--health-cmd', 'sleep 5', '--health-timeout', '200ms', '--health-interval', '300ms', '--health-retries', '1', 'busybox', 'sleep', '1000']);
    await until('unhealthy', () => health('slow').Status === 'unhealthy');
    const last = health('slow').Log.at(-1);
    assert.equal(last.ExitCode, -1);
    assert.equal(last.Output, 'Health check exceeded timeout (200ms)');
  });

  it('failures in the start period do not count; the image\'s HEALTHCHECK applies unless --no-healthcheck', async () => {
    berth.ok(['run', '-d', '--name', 'grace', '--health-cmd', 'false', '--health-interval', '200ms', '--health-retries', '1', '--health-start-period', '30s', '--health-start-interval', '100ms', 'busybox', 'sleep', '1000']);
    // Several failed probes in, the container is still starting.
    const grace = await waitForState(berth, 'grace', (s) => (s.Health?.Log.length ?? 0) >= 3, { what: 'three probes' });
    assert.equal(grace.Health!.Status, 'starting');
    assert.equal(grace.Health!.FailingStreak, 0);
    berth.ok(['run', '--name', 'base', 'busybox', 'true']);
    berth.ok(['commit', '-c', 'HEALTHCHECK --interval=200ms CMD true', 'base', 'with-health:1']);
    berth.ok(['run', '-d', '--name', 'fromimage', 'with-health:1', 'sleep', '1000']);
    await until('healthy from the image healthcheck', () => health('fromimage').Status === 'healthy');
    berth.ok(['run', '-d', '--name', 'nocheck', '--no-healthcheck', 'with-health:1', 'sleep', '1000']);
    assert.equal(health('nocheck'), undefined);
  });
});
