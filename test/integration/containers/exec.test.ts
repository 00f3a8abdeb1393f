import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { api, startBerth, type Berth } from '../harness';
import { waitFor } from '../wait';

describe('docker exec, pause and unpause', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
    berth.ok(['run', '-d', '--name', 'host', '-e', 'FROM_RUN=1', '-w', '/home', 'busybox', 'sleep', '1000']);
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('runs a command in the container: output, stderr apart, exit code', () => {
    assert.equal(berth.ok(['exec', 'host', 'echo', 'hello']), 'hello\n');
    const r = berth.docker(['exec', 'host', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [7, 'out\n', 'err\n']);
    // Same namespaces as the container: its hostname and its PID 1.
    assert.equal(berth.ok(['exec', 'host', 'cat', '/proc/1/cmdline']).replace(/\0/g, ' ').trim(), 'sleep 1000');
  });

  it('honours -e, -w and -u and otherwise inherits the container process', () => {
    assert.equal(berth.ok(['exec', 'host', 'sh', '-c', 'echo $FROM_RUN; pwd; id -u']), '1\n/home\n0\n');
    assert.equal(berth.ok(['exec', '-e', 'FOO=bar', '-e', 'FROM_RUN=2', '-w', '/tmp', '-u', 'nobody', 'host', 'sh', '-c', 'echo $FOO $FROM_RUN; pwd; id -u']), 'bar 2\n/tmp\n65534\n');
    assert.equal(berth.ok(['exec', '-u', '1000:1000', 'host', 'id']).trim(), 'uid=1000(berthtest) gid=1000(berthtest)');
  });

  it('passes stdin with -i and gives a terminal with -t', () => {
    assert.equal(berth.ok(['exec', '-i', 'host', 'sh', '-c', 'cat; echo done'], { input: 'line one\nline two\n' }), 'line one\nline two\ndone\n');
    const tty = berth.dockerTty(['exec', '-t', 'host', 'sh', '-c', 'tty; echo $TERM']);
    assert.equal(tty.code, 0);
    assert.match(tty.stdout, /\/dev\/pts\/\d+\r?\r\nxterm/);
  });

  it('runs detached with -d and records the exit code for inspect', async () => {
    berth.ok(['exec', '-d', 'host', 'sh', '-c', 'echo detached > /tmp/d; exit 3']);
    await waitFor(() => berth.docker(['exec', 'host', 'test', '-e', '/tmp/d']).code === 0, { what: '/tmp/d from the detached exec' });
    assert.equal(berth.ok(['exec', 'host', 'cat', '/tmp/d']), 'detached\n');
  });

  it('--privileged gives the capabilities the host has, without failing', () => {
    const plain = berth.ok(['exec', 'host', 'grep', 'CapEff', '/proc/self/status']);
    const priv = berth.ok(['exec', '--privileged', 'host', 'grep', 'CapEff', '/proc/self/status']);
    const count = (line: string) => BigInt(`0x${line.trim().split(/\s+/)[1]}`).toString(2).replace(/0/g, '').length;
    assert.equal(count(plain), 14);
    assert.ok(count(priv) > 30, priv);
  });

  it('a missing command fails with the runtime message and exit code 126 (dockerd: any start failure)', () => {
    const r = berth.docker(['exec', 'host', 'no-such-command']);
    assert.equal(r.code, 126);
    assert.match(r.stdout + r.stderr, /executable file not found/);
  });

  it('the exec API: create, hijacked start, inspect with ExitCode, Running and Pid; resize; errors', async () => {
    const docker = new Docker({ socketPath: berth.socket });
    const container = docker.getContainer('host');
    const exec = await container.exec({ Cmd: ['sh', '-c', 'echo via-api; exit 5'], AttachStdout: true, AttachStderr: true });
    const before = await exec.inspect();
    assert.deepEqual([before.Running, before.ExitCode, before.ContainerID.length], [false, null, 64]);
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    docker.modem.demuxStream(stream, out, out);
    await new Promise((r) => stream.on('end', r));
    assert.equal(text, 'via-api\n');
    const done = await exec.inspect();
    assert.deepEqual([done.Running, done.ExitCode], [false, 5]);
    assert.ok(done.Pid > 0);
    // Started twice, unknown instance, no command, stopped container.
    assert.equal((await api(berth.socket, 'POST', `/exec/${exec.id}/start`, '{"Detach":true}', { 'Content-Type': 'application/json' })).status, 409);
    assert.equal((await api(berth.socket, 'GET', '/exec/nope/json')).status, 404);
    const noCmd = await api(berth.socket, 'POST', '/containers/host/exec', '{"Cmd":[]}', { 'Content-Type': 'application/json' });
    assert.equal(noCmd.status, 400);
    // A TTY exec started with a console size sees it.
    const ttyExec = await container.exec({ Cmd: ['stty', 'size'], AttachStdout: true, Tty: true, ConsoleSize: [33, 101] });
    const ttyStream = await ttyExec.start({ hijack: true, stdin: false, Tty: true, ConsoleSize: [33, 101] } as object);
    let ttyText = '';
    ttyStream.on('data', (d: Buffer) => (ttyText += d));
    await new Promise((r) => ttyStream.on('end', r));
    assert.equal(ttyText.trim(), '33 101');
  });

  it('pause freezes the container, exec is refused while paused, unpause resumes', () => {
    berth.ok(['run', '-d', '--name', 'freezer', 'busybox', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/tick; sleep 0.05; done']);
    berth.ok(['pause', 'freezer']);
    const state = JSON.parse(berth.ok(['inspect', 'freezer']))[0].State;
    assert.deepEqual([state.Status, state.Running, state.Paused], ['paused', true, true]);
    assert.match(berth.ok(['ps', '--filter', 'name=freezer', '--format', '{{.Status}}']), /\(Paused\)/);
    // Frozen: the counter stands still (read from the host through the container's root).
    const tick = () => readFileSync(`/proc/${state.Pid}/root/tmp/tick`, 'utf8');
    const frozen = tick();
    spawnSleep(300);
    assert.equal(tick(), frozen);
    const refused = berth.docker(['exec', 'freezer', 'true']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /is paused, unpause the container before exec/);
    assert.match(berth.docker(['pause', 'freezer']).stderr, /is already paused/);
    berth.ok(['unpause', 'freezer']);
    assert.match(berth.docker(['unpause', 'freezer']).stderr, /is not paused/);
    const a = berth.ok(['exec', 'freezer', 'cat', '/tmp/tick']);
    spawnSleep(300);
    assert.notEqual(berth.ok(['exec', 'freezer', 'cat', '/tmp/tick']), a, 'ticks again after unpause');
    // A paused container can still be removed by force.
    berth.ok(['pause', 'freezer']);
    berth.ok(['rm', '-f', 'freezer']);
  });

  it('docker top lists the container\'s processes (exec sessions too) with ps options', () => {
    const top = berth.ok(['top', 'host']).trim().split('\n');
    assert.match(top[0], /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    assert.deepEqual(top.slice(1).map((l) => l.split(/\s+/).slice(7).join(' ')), ['sleep 1000']);
    const custom = berth.ok(['top', 'host', '-o', 'pid,comm']).trim().split('\n');
    assert.deepEqual(custom.map((l) => l.trim().split(/\s+/)[1]), ['COMMAND', 'sleep']);
    const bad = berth.docker(['top', 'host', '--no-such-ps-flag']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Error running ps/);
    assert.match(berth.docker(['top', 'idle-top-none']).stderr, /No such container/);
  });

  it('exec in a stopped container gives dockerd\'s error', () => {
    berth.ok(['create', '--name', 'idle', 'busybox', 'true']);
    const r = berth.docker(['exec', 'idle', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /is not running/);
  });
});

function spawnSleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
