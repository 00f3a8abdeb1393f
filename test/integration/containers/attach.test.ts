import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { api, DOCKER, startBerth, type Berth } from '../harness';
import { waitFor, waitForEvents, waitForLog } from '../wait';

/**
 * A hijacked attach/exec over the daemon's socket. Sends each step's input in turn; a step with
 * an `until` pattern waits for the output to match it before the next step. Resolves with
 * everything received once the daemon closes the connection (or after 10 s).
 */
function hijack(socket: string, path: string, steps: [input: string, until?: RegExp][], body = ''): Promise<string> {
  return new Promise((resolve) => {
    const c = connect(socket);
    let out = '';
    let upgraded = false;
    let next = 0;
    let gate: RegExp | undefined;
    const timer = setTimeout(() => c.destroy(), 10_000);
    const send = () => {
      while (next < steps.length && !(gate && !gate.test(out))) {
        const [input, until] = steps[next++];
        c.write(input, 'latin1');
        gate = until;
      }
    };
    c.on('data', (d) => {
      out += d.toString('latin1');
      if (!upgraded && out.includes('\r\n\r\n')) upgraded = true;
      if (upgraded) send();
    });
    c.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    c.write(`POST ${path} HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
}

describe('attach detach keys, several attachers, OOM kills', () => {
  let berth: Berth;
  before(async () => {
    berth = await startBerth();
  });
  after(async () => {
    await berth?.cleanup();
  });

  const running = (name: string) => JSON.parse(berth.ok(['inspect', name]))[0].State.Running as boolean;

  it('ctrl-p ctrl-q (default) or --detach-keys end an attach and leave the container running', async () => {
    berth.ok(['run', '-d', '-it', '--name', 'det', 'busybox', 'sh']);
    const out = await hijack(berth.socket, '/containers/det/attach?stream=1&stdin=1&stdout=1&stderr=1', [['echo attached-$((40+2))\n', /attached-42/], ['\x10\x11']]);
    assert.match(out, /attached-42/);
    assert.equal(running('det'), true);
    const custom = await hijack(berth.socket, '/containers/det/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-x,x', [['echo custom-$((1+1))\n', /custom-2/], ['\x10\x11'], ['echo still-here\n', /\nstill-here\r?\n/], ['\x18x']]);
    assert.match(custom, /custom-2/);
    assert.match(custom, /still-here/, 'ctrl-p ctrl-q is plain input when other keys are set');
    assert.equal(running('det'), true);
    // Exec sessions detach the same way; the process goes on.
    const exec = JSON.parse((await api(berth.socket, 'POST', '/containers/det/exec', JSON.stringify({ Cmd: ['sh'], AttachStdin: true, AttachStdout: true, Tty: true, DetachKeys: 'ctrl-a' }), { 'Content-Type': 'application/json' })).body).Id;
    const execOut = await hijack(berth.socket, `/exec/${exec}/start`, [['echo via-exec\n', /\nvia-exec\r?\n/], ['\x01']], JSON.stringify({ Tty: true }));
    assert.match(execOut, /via-exec/);
    assert.equal(JSON.parse((await api(berth.socket, 'GET', `/exec/${exec}/json`)).body).Running, true);
    const bad = await api(berth.socket, 'POST', '/containers/det/attach?stream=1&stdin=1&detachKeys=ctrl-1');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /Invalid detach keys \(ctrl-1\) provided/);
  });

  it('several clients attached at once all see the output', async () => {
    // The container speaks once the test creates /tmp/go, after all three clients are attached.
    berth.ok(['run', '-d', '--name', 'talker', 'busybox', 'sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.05; done; echo to-everyone']);
    const since = (Date.now() / 1000 - 1).toFixed(3);
    const { spawn } = await import('node:child_process');
    const attach = () =>
      new Promise<string>((resolve) => {
        const p = spawn(DOCKER, ['-H', `unix://${berth.socket}`, 'attach', '--no-stdin', 'talker']);
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.on('close', () => resolve(out));
      });
    const attached = [attach(), attach(), attach()];
    await waitForEvents(berth, since, ['container=talker', 'event=attach'], { count: 3, what: 'three attach events' });
    berth.ok(['exec', 'talker', 'touch', '/tmp/go']);
    const outs = await Promise.all(attached);
    assert.deepEqual(outs, ['to-everyone\n', 'to-everyone\n', 'to-everyone\n']);
  });

  it('attaches over a websocket (/attach/ws): output out, stdin in, logs replayed', async () => {
    berth.ok(['run', '-d', '-i', '--name', 'wsc', 'busybox', 'sh', '-c', 'echo before; while read line; do echo "got $line"; done']);
    await waitForLog(berth, 'wsc', 'before\n');
    const ws = new WebSocket(`ws+unix://${berth.socket}:/v1.51/containers/wsc/attach/ws?logs=1&stream=1&stdin=1&stdout=1&stderr=1`);
    let out = '';
    const binary: boolean[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      out += data.toString();
      binary.push(isBinary);
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send('hello over ws\n');
    await waitFor(() => out.includes('got hello over ws\n'), { what: 'the echo over the websocket' });
    ws.close();
    assert.equal(out, 'before\ngot hello over ws\n');
    assert.ok(binary.every(Boolean), 'binary frames from API 1.42');
    // Plain HTTP still answers on the same socket (the websocket path did not take over upgrades).
    assert.equal(berth.ok(['exec', 'wsc', 'echo', 'still-fine']), 'still-fine\n');
  });

  it('an OOM kill is recorded as State.OOMKilled with the oom event', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    const r = berth.docker(['run', '--name', 'hog', '--memory', '8m', '--memory-swap', '8m', 'busybox', 'sh', '-c', 'x=$(head -c 50000000 /dev/zero | tr "\\0" a); echo survived']);
    assert.equal(r.code, 137, r.stdout + r.stderr);
    const state = JSON.parse(berth.ok(['inspect', 'hog']))[0].State;
    assert.deepEqual([state.OOMKilled, state.ExitCode], [true, 137]);
    const events = await waitForEvents(berth, since, ['container=hog', 'event=oom'], { what: 'the oom event' });
    assert.equal(events.length, 1);
  });
});
