import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBerth, type Berth } from '../harness';
import { waitForExitFile } from '../wait';

describe('daemon restart keeps images, containers and running processes', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('survives a stop and start of berthd', async () => {
    berth.ok(['run', '-d', '--name', 'keeper', 'busybox', 'sh', '-c', 'echo before; while true; do sleep 1; done']);
    // `short` exits with 7 on SIGUSR1, which the test sends while the daemon is down.
    const short = berth.ok(['run', '-d', '--name', 'short', 'busybox', 'sh', '-c', 'trap "exit 7" USR1; while true; do sleep 0.05; done']).trim();
    berth.ok(['create', '--name', 'fresh', 'busybox', 'true']);
    const pid = JSON.parse(berth.ok(['inspect', 'keeper']))[0].State.Pid;
    const shortPid = JSON.parse(berth.ok(['inspect', 'short']))[0].State.Pid;

    await berth.stop();
    process.kill(shortPid, 'SIGUSR1');
    await waitForExitFile(berth, short);
    process.kill(pid, 0); // still alive without the daemon
    await berth.start();

    assert.deepEqual(berth.ok(['ps', '-a', '--format', '{{.Names}}']).trim().split('\n').sort(), ['fresh', 'keeper', 'short']);
    assert.match(berth.ok(['images', '--format', '{{.Repository}}']), /busybox/);
    const keeper = JSON.parse(berth.ok(['inspect', 'keeper']))[0];
    assert.equal(keeper.State.Running, true);
    assert.equal(keeper.State.Pid, pid);
    const shortState = JSON.parse(berth.ok(['inspect', 'short']))[0].State;
    assert.equal(shortState.Status, 'exited');
    assert.equal(shortState.ExitCode, 7);
    assert.equal(berth.ok(['logs', 'keeper']), 'before\n');

    berth.ok(['stop', '-t', '1', 'keeper']);
    assert.equal(JSON.parse(berth.ok(['inspect', 'keeper']))[0].State.Running, false);
    berth.ok(['start', 'keeper']);
    await berth.restart();
    const w = berth.docker(['wait', 'short']);
    assert.equal(w.stdout.trim(), '7');
    berth.ok(['rm', '-f', 'keeper', 'short', 'fresh']);
    assert.equal(berth.ok(['ps', '-aq']), '');
  });

  it('refuses a second daemon on the same data root', async () => {
    const { spawnSync } = await import('node:child_process');
    const { join } = await import('node:path');
    const r = spawnSync(process.execPath, [join(__dirname, '..', '..', '..', '..', 'bin', 'berthd'), '-H', `unix://${berth.dir}/other.sock`, '--data-root', berth.dataRoot, '--exec-root', `${berth.dir}/exec2`, '--pidfile', `${berth.dir}/other.pid`], { encoding: 'utf8', timeout: 20_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /another berthd is already using data root/);
  });
});
