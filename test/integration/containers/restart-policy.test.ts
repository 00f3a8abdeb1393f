import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, startBerth, type Berth } from '../harness';
import { containerState, holdsFor, waitFor, waitForEvents, waitForExitFile, waitForState } from '../wait';

describe('restart policies and --rm', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  const state = (name: string) => containerState(berth, name);
  const since = () => (Date.now() / 1000 - 1).toFixed(3);
  /** The policy's decision is taken at the exit; a restart would show within this window. */
  const staysExited = (name: string, restarts: number) =>
    holdsFor(() => {
      const s = state(name);
      return s.Status === 'exited' && !s.Restarting && s.RestartCount === restarts;
    }, { what: `${name} stays exited after ${restarts} restarts`, duration: 1000 });

  it('on-failure:N restarts a failing container N times with back-off, then leaves it exited', async () => {
    berth.ok(['run', '-d', '--name', 'failing', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo run; exit 3']);
    const s = await waitForState(berth, 'failing', (s) => s.RestartCount === 2 && s.Status === 'exited', { what: 'two restarts and a final exit' });
    assert.deepEqual([s.ExitCode, s.Restarting, s.Running], [3, false, false]);
    assert.equal(berth.ok(['logs', 'failing']), 'run\nrun\nrun\n');
    await staysExited('failing', 2);
    // A clean exit is not a failure.
    const t0 = since();
    berth.ok(['run', '-d', '--name', 'clean', '--restart', 'on-failure', 'busybox', 'true']);
    await waitForEvents(berth, t0, ['container=clean', 'event=die'], { what: 'clean to die' });
    await staysExited('clean', 0);
  });

  it('always restarts after any exit, but not after docker kill or docker stop', async () => {
    berth.ok(['run', '-d', '--name', 'forever', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2']);
    await waitForState(berth, 'forever', (s) => s.RestartCount >= 1, { what: 'a restart' });
    // Between attempts the container is restarting, and Running as with dockerd.
    const between = await waitForState(berth, 'forever', (s) => s.Restarting, { what: 'the restarting state' });
    assert.deepEqual([between.Status, between.Running], ['restarting', true]);
    berth.ok(['rm', '-f', 'forever']);
    berth.ok(['run', '-d', '--name', 'killed', '--restart', 'always', 'busybox', 'sleep', '1000']);
    // dockerd: a kill is a manual stop for the policy (until the next user start).
    let t = since();
    berth.ok(['kill', 'killed']);
    await waitForEvents(berth, t, ['container=killed', 'event=die'], { what: 'killed to die' });
    await staysExited('killed', 0);
    berth.ok(['start', 'killed']);
    t = since();
    berth.ok(['stop', '-t', '1', 'killed']);
    await waitForEvents(berth, t, ['container=killed', 'event=die'], { what: 'killed to die again' });
    await staysExited('killed', 0);
  });

  it('refuses invalid policies with dockerd\'s messages', async () => {
    const create = (hostConfig: object) =>
      api(berth.socket, 'POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: hostConfig }), { 'Content-Type': 'application/json' });
    const retries = await create({ RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } });
    assert.equal(retries.status, 400);
    assert.match(retries.body, /maximum retry count can only be used with 'on-failure'/);
    const unknown = await create({ RestartPolicy: { Name: 'sometimes' } });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body, /unknown policy 'sometimes'/);
    const withRm = await create({ AutoRemove: true, RestartPolicy: { Name: 'always' } });
    assert.equal(withRm.status, 400);
    assert.match(withRm.body, /can't create 'AutoRemove' container with restart policy/);
  });

  it('after a daemon restart: always comes back even if stopped, unless-stopped only if it was not; --rm exits are removed', async () => {
    berth.ok(['run', '-d', '--name', 'boot-always', '--restart', 'always', 'busybox', 'sleep', '1000']);
    berth.ok(['run', '-d', '--name', 'boot-unless', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000']);
    berth.ok(['run', '-d', '--name', 'boot-unless-stopped', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000']);
    berth.ok(['stop', '-t', '1', 'boot-always', 'boot-unless-stopped']);
    // boot-rm ends (SIGUSR1) while the daemon is down; the daemon removes it when it comes back.
    berth.ok(['run', '-d', '--rm', '--name', 'boot-rm', 'busybox', 'sh', '-c', 'trap "exit 0" USR1; while true; do sleep 0.05; done']);
    const rm = JSON.parse(berth.ok(['inspect', 'boot-rm']))[0];
    await berth.stop();
    process.kill(rm.State.Pid, 'SIGUSR1');
    await waitForExitFile(berth, rm.Id);
    await berth.start();
    await waitForState(berth, 'boot-always', (s) => s.Running, { what: 'boot-always running' });
    assert.equal(state('boot-unless').Running, true);
    assert.equal(state('boot-unless-stopped').Running, false);
    await waitFor(() => berth.docker(['inspect', 'boot-rm']).code !== 0, { what: 'boot-rm removed' });
  });
});
