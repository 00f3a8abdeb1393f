import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, startBerth, type Berth } from '../harness';
import { waitFor } from '../wait';

describe('container lifecycle with the docker CLI', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('runs detached, lists with filters and formats, logs and inspects', async () => {
    const id = berth.ok(['run', '-d', '--name', 'web', '--label', 'tier=front', 'busybox', 'sh', '-c', 'echo started; echo oops >&2; while true; do sleep 1; done']).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    berth.ok(['create', '--name', 'idle', '--label', 'tier=back', 'busybox', 'true']);

    assert.equal(berth.ok(['ps', '--format', '{{.Names}}']).trim(), 'web');
    assert.deepEqual(berth.ok(['ps', '-a', '--format', '{{.Names}}']).trim().split('\n').sort(), ['idle', 'web']);
    assert.equal(berth.ok(['ps', '-a', '--filter', 'status=created', '--format', '{{.Names}}']).trim(), 'idle');
    assert.equal(berth.ok(['ps', '-a', '--filter', 'label=tier=front', '--format', '{{.ID}}']).trim(), id.slice(0, 12));
    assert.equal(berth.ok(['ps', '-a', '--filter', 'name=idl', '--format', '{{.Names}}']).trim(), 'idle');
    assert.equal(berth.ok(['ps', '-a', '--filter', `id=${id.slice(0, 8)}`, '--format', '{{.Names}} {{.Image}} {{.Label "tier"}}']).trim(), 'web busybox front');
    assert.match(berth.ok(['ps', '--format', '{{.Status}}']), /^Up /);
    const bad = berth.docker(['ps', '--filter', 'colour=red']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid filter 'colour'/);

    await waitFor(() => berth.docker(['logs', 'web']).stdout === 'started\n', { what: 'log output' });
    const logs = berth.docker(['logs', 'web']);
    assert.equal(logs.stdout, 'started\n');
    assert.equal(logs.stderr, 'oops\n');
    assert.match(berth.docker(['logs', '--timestamps', 'web']).stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z started\n$/);

    const [c] = JSON.parse(berth.ok(['inspect', 'web']));
    assert.equal(c.Id, id);
    assert.equal(c.Name, '/web');
    assert.equal(c.Path, 'sh');
    assert.equal(c.Args[0], '-c');
    assert.equal(c.State.Status, 'running');
    assert.equal(c.State.Running, true);
    assert.ok(c.State.Pid > 0);
    assert.equal(c.RestartCount, 0);
    assert.equal(c.Config.Labels.tier, 'front');
    assert.equal(c.Config.Image, 'busybox');
    assert.ok(Array.isArray(c.Mounts));
    assert.ok(c.HostConfig);
    assert.ok(!Number.isNaN(Date.parse(c.Created)));
  });

  it('follows logs and tails', async () => {
    berth.ok(['run', '-d', '--name', 'counter', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; done; sleep 1; echo last']);
    const r = berth.docker(['logs', '-f', 'counter'], { timeoutMs: 20_000 });
    assert.equal(r.stdout, 'line1\nline2\nline3\nline4\nline5\nlast\n');
    assert.equal(berth.ok(['logs', '--tail', '2', 'counter']), 'line5\nlast\n');
    assert.equal(berth.ok(['logs', '--tail', '0', 'counter']), '');
  });

  it('stops with the stop signal, then SIGKILL after the timeout', () => {
    berth.ok(['run', '-d', '--name', 'stubborn', 'busybox', 'sh', '-c', 'trap "" TERM; while true; do sleep 1; done']);
    const t0 = Date.now();
    berth.ok(['stop', '-t', '1', 'stubborn']);
    const took = Date.now() - t0;
    assert.ok(took >= 900, `stop waited for the timeout (${took} ms)`);
    const [c] = JSON.parse(berth.ok(['inspect', 'stubborn']));
    assert.equal(c.State.Status, 'exited');
    assert.equal(c.State.ExitCode, 137);

    berth.ok(['run', '-d', '--name', 'polite', '--stop-signal', 'USR1', 'busybox', 'sh', '-c', 'trap "exit 42" USR1; while true; do sleep 1; done']);
    berth.ok(['stop', 'polite']);
    assert.equal(JSON.parse(berth.ok(['inspect', 'polite']))[0].State.ExitCode, 42);
  });

  it('starts, restarts, kills with a signal and waits', async () => {
    berth.ok(['start', 'polite']);
    assert.equal(JSON.parse(berth.ok(['inspect', 'polite']))[0].State.Running, true);
    const started1 = JSON.parse(berth.ok(['inspect', 'polite']))[0].State.StartedAt;
    berth.ok(['restart', '-t', '5', 'polite']);
    const after = JSON.parse(berth.ok(['inspect', 'polite']))[0].State;
    assert.equal(after.Running, true);
    assert.notEqual(after.StartedAt, started1);
    berth.ok(['kill', '-s', 'USR1', 'polite']);
    assert.equal(berth.ok(['wait', 'polite']).trim(), '42');
    const notRunning = berth.docker(['kill', 'polite']);
    assert.notEqual(notRunning.code, 0);
    assert.match(notRunning.stderr, /is not running/);
  });

  it('answers 304 for start of a running and stop of a stopped container', async () => {
    berth.ok(['run', '-d', '--name', 'idem', 'busybox', 'sleep', '100']);
    assert.equal((await api(berth.socket, 'POST', '/v1.50/containers/idem/start')).status, 304);
    berth.ok(['kill', 'idem']);
    berth.ok(['wait', 'idem']);
    assert.equal((await api(berth.socket, 'POST', '/v1.50/containers/idem/stop')).status, 304);
  });

  it('renames, looks up by prefix, rejects ambiguity and removes', async () => {
    berth.ok(['rename', 'idem', 'renamed']);
    const [c] = JSON.parse(berth.ok(['inspect', 'renamed']));
    assert.equal(c.Name, '/renamed');
    assert.equal(JSON.parse(berth.ok(['inspect', c.Id.slice(0, 10)]))[0].Id, c.Id);
    // Two IDs that share a first hex digit make an ambiguous prefix: create containers until two
    // do (16 digits, so 17 containers at most).
    const ids = berth.ok(['ps', '-aq', '--no-trunc']).trim().split('\n');
    const extra: string[] = [];
    const sharedDigit = () => [...new Set(ids.map((id) => id[0]))].find((d) => ids.filter((id) => id[0] === d).length > 1);
    while (!sharedDigit()) {
      const id = berth.ok(['create', 'busybox', 'true']).trim();
      ids.push(id);
      extra.push(id);
    }
    const r = await api(berth.socket, 'GET', `/v1.50/containers/${sharedDigit()}/json`);
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body).message, /multiple IDs found with provided prefix/);
    if (extra.length) berth.ok(['rm', ...extra]);
    const missing = berth.docker(['inspect', '--type', 'container', 'nope']);
    assert.match(missing.stderr, /No such container: nope/);

    const running = berth.docker(['rm', 'web']);
    assert.notEqual(running.code, 0);
    assert.match(running.stderr, /container is running: stop the container before removing or force remove/);
    berth.ok(['rm', '-f', 'web']);
    berth.ok(['rm', 'renamed', 'idle', 'counter', 'stubborn', 'polite']);
    assert.equal(berth.ok(['ps', '-aq']), '');
  });

  it('rejects bad input with Docker-style errors and creates nothing', async () => {
    const badName = berth.docker(['create', '--name', 'bad name!', 'busybox']);
    assert.match(badName.stderr, /Invalid container name \(bad name!\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed/);
    berth.ok(['create', '--name', 'taken', 'busybox', 'true']);
    const dup = berth.docker(['create', '--name', 'taken', 'busybox', 'true']);
    assert.match(dup.stderr, /Conflict. The container name "\/taken" is already in use by container/);
    const malformed = await api(berth.socket, 'POST', '/v1.50/containers/create', '{"Image": "busybox",');
    assert.equal(malformed.status, 400);
    assert.match(JSON.parse(malformed.body).message, /invalid JSON/);
    const wrongType = await api(berth.socket, 'POST', '/v1.50/containers/create', JSON.stringify({ Image: 'busybox', Cmd: 5 }));
    assert.equal(wrongType.status, 400);
    const noImage = await api(berth.socket, 'POST', '/v1.50/containers/create', JSON.stringify({ Image: 'nosuchimage:1' }));
    assert.equal(noImage.status, 404);
    assert.match(JSON.parse(noImage.body).message, /No such image: nosuchimage:1/);
    const badRuntime = await api(berth.socket, 'POST', '/v1.50/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { Runtime: 'nope' } }));
    assert.equal(badRuntime.status, 400);
    assert.deepEqual(berth.ok(['ps', '-a', '--format', '{{.Names}}']).trim().split('\n'), ['taken']);
    berth.ok(['rm', 'taken']);
  });
});
