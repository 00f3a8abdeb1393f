import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, startBerth, type Berth } from '../harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('restart policies and --rm', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  const state = (name: string) => {
    const c = JSON.parse(berth.ok(['inspect', name]))[0];
    return { ...c.State, RestartCount: c.RestartCount };
  };
  async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (check()) return;
    assert.fail(`timed out waiting for ${what}`);
  }

  it('on-failure:N restarts a failing container N times with back-off, then leaves it exited', async () => {
    berth.ok(['run', '-d', '--name', 'failing', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo run; exit 3']);
    await until('two restarts and a final exit', () => {
      const s = state('failing');
      return s.RestartCount === 2 && s.Status === 'exited';
    });
    const s = state('failing');
    assert.deepEqual([s.ExitCode, s.Restarting, s.Running], [3, false, false]);
    assert.equal(berth.ok(['logs', 'failing']), 'run\nrun\nrun\n');
    await sleep(500);
    assert.equal(state('failing').RestartCount, 2, 'no third restart');
    // A clean exit is not a failure.
    berth.ok(['run', '-d', '--name', 'clean', '--restart', 'on-failure', 'busybox', 'true']);
    await sleep(600);
    assert.deepEqual([state('clean').Status, state('clean').RestartCount], ['exited', 0]);
  });

  it('always restarts after any exit, but not after docker kill or docker stop', async () => {
    berth.ok(['run', '-d', '--name', 'forever', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2']);
    await until('a restart', () => state('forever').RestartCount >= 1);
    // Between attempts the container is restarting, and Running as with dockerd.
    let between: { Running: boolean; Restarting: boolean; Status: string } | undefined;
    await until('the restarting state', () => {
      const s = state('forever');
      if (s.Restarting) between = s;
      return !!between;
    });
    assert.deepEqual([between!.Status, between!.Running], ['restarting', true]);
    berth.ok(['rm', '-f', 'forever']);
    berth.ok(['run', '-d', '--name', 'killed', '--restart', 'always', 'busybox', 'sleep', '1000']);
    // dockerd: a kill is a manual stop for the policy (until the next user start).
    berth.ok(['kill', 'killed']);
    await sleep(500);
    assert.deepEqual([state('killed').Status, state('killed').RestartCount], ['exited', 0]);
    berth.ok(['start', 'killed']);
    berth.ok(['stop', '-t', '1', 'killed']);
    await sleep(500);
    assert.deepEqual([state('killed').Status, state('killed').RestartCount], ['exited', 0]);
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
    berth.ok(['run', '-d', '--rm', '--name', 'boot-rm', 'busybox', 'sleep', '1']);
    await berth.stop();
    await sleep(1500);
    await berth.start();
    await until('boot-always running', () => state('boot-always').Running);
    assert.equal(state('boot-unless').Running, true);
    assert.equal(state('boot-unless-stopped').Running, false);
    await until('boot-rm removed', () => berth.docker(['inspect', 'boot-rm']).code !== 0);
  });
});
