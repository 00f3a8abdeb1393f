import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { api, startBerth, type Berth } from '../harness';
import { containerState, holdsFor, waitFor, waitForLog, waitForState } from '../wait';

/**
 * Streams and processes as dockerd has them (each case was checked side by side against
 * dockerd 20.10 when written): binary-safe stdin, kill semantics, exec start failures and
 * framing, attach without a stream, commit of a container that exits.
 */

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** 500 kB of random bytes that surely hold the default detach keys (ctrl-p ctrl-q) and ctrl-c/d. */
function binaryPayload(): Buffer {
  const data = randomBytes(500_000);
  for (let i = 1000; i < data.length; i += 50_000) data.set([0x10, 0x11, 0x03, 0x04, 0x1a], i);
  return data;
}

interface RawResponse {
  head: string;
  body: Buffer;
  /** The daemon closed the connection by itself (false: the client gave up after 10 s). */
  ended: boolean;
}

/** One HTTP request over the daemon's socket, read as bytes until the daemon closes it. */
function rawRequest(socket: string, method: string, path: string, opts: { body?: string; upgrade?: boolean } = {}): Promise<RawResponse> {
  return new Promise((resolve) => {
    const c = connect(socket);
    const chunks: Buffer[] = [];
    let ended = true;
    const timer = setTimeout(() => {
      ended = false;
      c.destroy();
    }, 10_000);
    c.on('data', (d) => chunks.push(d));
    c.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      resolve({ head: all.subarray(0, split).toString('latin1'), body: all.subarray(split + 4), ended });
    });
    const body = opts.body ?? '';
    const upgrade = opts.upgrade ? 'Connection: Upgrade\r\nUpgrade: tcp\r\n' : 'Connection: close\r\n';
    c.write(`${method} ${path} HTTP/1.1\r\nHost: d\r\n${upgrade}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}

/** stdcopy frames → [stream, text] pairs; throws on bytes that are not frames. */
function frames(body: Buffer): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (let off = 0; off < body.length; ) {
    assert.ok(off + 8 <= body.length && [1, 2].includes(body[off]) && body.readUIntBE(off + 1, 3) === 0, `not a stdcopy frame at ${off}: ${JSON.stringify(body.toString('latin1'))}`);
    const size = body.readUInt32BE(off + 4);
    out.push([body[off], body.subarray(off + 8, off + 8 + size).toString('utf8')]);
    off += 8 + size;
  }
  return out;
}

describe('streams and processes (dockerd fidelity)', () => {
  let berth: Berth;
  const json = { 'Content-Type': 'application/json' };
  const state = (name: string) => JSON.parse(berth.ok(['inspect', name]))[0].State;
  const execCreate = async (container: string, config: object): Promise<string> => {
    const r = await api(berth.socket, 'POST', `/containers/${container}/exec`, JSON.stringify(config), json);
    assert.equal(r.status, 201, r.body);
    return JSON.parse(r.body).Id;
  };
  const execInspect = async (id: string) => JSON.parse((await api(berth.socket, 'GET', `/exec/${id}/json`)).body);

  before(async () => {
    berth = await startBerth();
    berth.ok(['run', '-d', '--name', 'host', 'busybox', 'sleep', '1000']);
  });
  after(async () => {
    await berth?.cleanup();
  });

  describe('stdin without a TTY is binary-safe (detach keys only apply with a TTY)', () => {
    const payload = binaryPayload();

    it('docker run -i and docker exec -i pass 500 kB of random bytes intact', () => {
      assert.equal(berth.ok(['run', '--rm', '-i', 'busybox', 'sha256sum'], { input: payload }).split(' ')[0], sha256(payload));
      assert.equal(berth.ok(['exec', '-i', 'host', 'sha256sum'], { input: payload }).split(' ')[0], sha256(payload));
    });

    it('docker attach passes them intact too', () => {
      berth.ok(['run', '-d', '-i', '--name', 'reader', 'busybox', 'sh', '-c', `head -c ${payload.length} | sha256sum`]);
      berth.ok(['attach', 'reader'], { input: payload });
      assert.equal(berth.ok(['wait', 'reader']).trim(), '0');
      assert.equal(berth.ok(['logs', 'reader']).split(' ')[0], sha256(payload));
    });

    it('gzip streams and tar archives arrive whole', () => {
      assert.equal(berth.ok(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'gunzip | sha256sum'], { input: gzipSync(payload) }).split(' ')[0], sha256(payload));
      const dir = mkdtempSync(join(tmpdir(), 'berth-tar-'));
      try {
        mkdirSync(join(dir, 'src', 'sub'), { recursive: true });
        const files: Record<string, Buffer> = { 'src/a.bin': payload.subarray(0, 123_457), 'src/sub/b.bin': payload.subarray(200_000), 'src/c.txt': Buffer.from('plain text\n') };
        for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
        const tar = spawnSync('tar', ['-C', dir, '-cf', '-', 'src']).stdout;
        const listing = berth.ok(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'mkdir /x && tar -x -C /x && cd /x && sha256sum src/a.bin src/c.txt src/sub/b.bin'], { input: tar });
        const expected = Object.keys(files).sort().map((name) => `${sha256(files[name])}  ${name}`);
        assert.deepEqual(listing.trim().split('\n'), expected);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('docker kill', () => {
    it('SIGKILL returns once the container is down: inspect right after shows it exited with 137', () => {
      berth.ok(['run', '-d', '--name', 'victim', 'busybox', 'sleep', '1000']);
      berth.ok(['kill', 'victim']);
      const s = state('victim');
      assert.deepEqual([s.Running, s.Status, s.ExitCode], [false, 'exited', 137]);
    });

    it('a kill is a manual stop: always and unless-stopped containers are not restarted', async () => {
      for (const policy of ['always', 'unless-stopped']) {
        berth.ok(['run', '-d', '--name', `killed-${policy}`, '--restart', policy, 'busybox', 'sleep', '1000']);
        berth.ok(['kill', `killed-${policy}`]);
      }
      // The policy's first restart would come 100 ms after the exit: watch well over that.
      for (const policy of ['always', 'unless-stopped']) {
        const s = containerState(berth, `killed-${policy}`);
        assert.deepEqual([policy, s.Status, s.ExitCode, s.RestartCount], [policy, 'exited', 137, 0]);
      }
      await holdsFor(() => ['always', 'unless-stopped'].every((p) => {
        const s = containerState(berth, `killed-${p}`);
        return s.Status === 'exited' && !s.Restarting && s.RestartCount === 0;
      }), { what: 'killed containers stay exited', duration: 1000 });
      // A user's start puts the policy back in charge.
      berth.ok(['start', 'killed-always']);
      assert.equal(state('killed-always').Running, true);
    });

    it('other signals return at once; they stop the policy too unless a different stop signal is set', async () => {
      const script = 'trap "sleep 0.5; exit 3" TERM HUP; while :; do sleep 0.1; done';
      berth.ok(['run', '-d', '--name', 'termed', '--restart', 'always', 'busybox', 'sh', '-c', script]);
      berth.ok(['run', '-d', '--name', 'hupped', '--restart', 'always', '--stop-signal', 'USR1', 'busybox', 'sh', '-c', script]);
      berth.ok(['kill', '-s', 'TERM', 'termed']);
      assert.equal(state('termed').Running, true, 'kill -s TERM does not wait for the exit');
      berth.ok(['kill', '-s', 'HUP', 'hupped']);
      // dockerd: a signal other than the container's stop signal leaves the policy alone.
      const hupped = await waitForState(berth, 'hupped', (s) => s.RestartCount >= 1, { what: 'hupped to be restarted' });
      assert.equal(hupped.RestartCount, 1);
      assert.equal(berth.ok(['wait', 'termed']).trim(), '3');
      await holdsFor(() => {
        const s = containerState(berth, 'termed');
        return s.Status === 'exited' && !s.Restarting && s.RestartCount === 0;
      }, { what: 'termed stays exited', duration: 1000 });
    });
  });

  describe('exec', () => {
    it('a process that cannot start ends with 126 and the runtime message (on stdout, as dockerd writes it)', () => {
      const missing = berth.docker(['exec', 'host', 'no-such-command']);
      assert.equal(missing.code, 126);
      assert.equal(missing.stdout, 'OCI runtime exec failed: exec failed: unable to start container process: exec: "no-such-command": executable file not found in $PATH: unknown\r\n');
      const notExecutable = berth.docker(['exec', 'host', '/etc/passwd']);
      assert.equal(notExecutable.code, 126);
      assert.match(notExecutable.stdout, /exec: "\/etc\/passwd": permission denied: unknown/);
      const badDir = berth.docker(['exec', '-w', '/no/such/dir', 'host', 'pwd']);
      assert.equal(badDir.code, 126);
      assert.match(badDir.stdout, /chdir to cwd \("\/no\/such\/dir"\) set in config.json failed: no such file or directory/);
    });

    it('a health probe that cannot start counts as exit code -1 with the error, as dockerd records it', async () => {
      const body = { Image: 'busybox', Cmd: ['sleep', '1000'], Healthcheck: { Test: ['CMD', 'no-such-probe'], Interval: 500_000_000 } };
      assert.equal((await api(berth.socket, 'POST', '/containers/create?name=unprobed', JSON.stringify(body), json)).status, 201);
      berth.ok(['start', 'unprobed']);
      const log = (await waitForState(berth, 'unprobed', (s) => (s.Health?.Log.length ?? 0) > 0, { what: 'a probe result' })).Health!.Log;
      assert.equal(log[0].ExitCode, -1);
      assert.equal(log[0].Output, 'OCI runtime exec failed: exec failed: unable to start container process: exec: "no-such-probe": executable file not found in $PATH: unknown');
    });

    it('a detached start that cannot start the process answers 400 and records exit code 126', async () => {
      const id = await execCreate('host', { Cmd: ['no-such-command'] });
      const r = await api(berth.socket, 'POST', `/exec/${id}/start`, '{"Detach":true}', json);
      assert.equal(r.status, 400);
      assert.match(JSON.parse(r.body).message, /^OCI runtime exec failed: .*executable file not found in \$PATH: unknown$/);
      const info = await execInspect(id);
      assert.deepEqual([info.Running, info.ExitCode, info.Pid], [false, 126, 0]);
    });

    it('Detach: true answers an empty 200 at once; inspect is right before, during and after', async () => {
      // The process ends with 3 once the test creates /tmp/exec-go, after it saw it running.
      const id = await execCreate('host', { Cmd: ['sh', '-c', 'while [ ! -e /tmp/exec-go ]; do sleep 0.05; done; exit 3'] });
      const created = await execInspect(id);
      assert.deepEqual([created.Running, created.ExitCode, created.Pid], [false, null, 0]);
      const r = await rawRequest(berth.socket, 'POST', `/exec/${id}/start`, { body: '{"Detach":true}' });
      assert.match(r.head, /^HTTP\/1.1 200 OK\r\n/);
      assert.match(r.head, /\r\nContent-Length: 0(\r\n|$)/i);
      assert.equal(r.body.length, 0);
      const running = await execInspect(id);
      assert.deepEqual([running.Running, running.ExitCode], [true, null]);
      assert.ok(running.Pid > 0);
      berth.ok(['exec', 'host', 'touch', '/tmp/exec-go']);
      const done = await waitFor(async () => {
        const info = await execInspect(id);
        return info.Running ? undefined : info;
      }, { what: 'the exec to end' });
      assert.deepEqual([done.Running, done.ExitCode, done.Pid], [false, 3, running.Pid]);
    });

    it('output framing follows the Tty of the start request, not of the exec', async () => {
      const cmd = ['sh', '-c', 'echo out; sleep 0.1; echo err >&2'];
      // Created with a TTY, started without: multiplexed, everything in stdout frames.
      const ttyExec = await execCreate('host', { Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: true });
      const muxed = await rawRequest(berth.socket, 'POST', `/exec/${ttyExec}/start`, { body: '{"Tty":false}', upgrade: true });
      assert.match(muxed.head, /^HTTP\/1.1 101 UPGRADED/);
      const got = frames(muxed.body);
      assert.deepEqual([...new Set(got.map(([stream]) => stream))], [1]);
      assert.equal(got.map(([, text]) => text).join(''), 'out\r\nerr\r\n');
      // Created without a TTY, started with one: raw stdout (dockerd has no stderr then).
      const plainExec = await execCreate('host', { Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: false });
      const raw = await rawRequest(berth.socket, 'POST', `/exec/${plainExec}/start`, { body: '{"Tty":true}', upgrade: true });
      assert.equal(raw.body.toString(), 'out\n');
      // And docker-py's socket=True start of a TTY exec (no Tty in the start body) reads one frame.
      const pyExec = await execCreate('host', { Cmd: ['printf', 'yay, interactive exec!'], AttachStdout: true, AttachStderr: true, Tty: true });
      const py = await rawRequest(berth.socket, 'POST', `/exec/${pyExec}/start`, { body: '{"Tty":false,"Detach":false}', upgrade: true });
      assert.deepEqual(frames(py.body), [[1, 'yay, interactive exec!']]);
    });

    it('takes body fields in any case, as Go does (docker-py sends detachKeys)', async () => {
      const id = await execCreate('host', { cmd: ['cat'], attachStdin: true, attachStdout: true, tty: true, detachKeys: 'ctrl-p' });
      const info = await execInspect(id);
      assert.equal(info.ProcessConfig.tty, true);
      assert.equal(info.DetachKeys, Buffer.from([0x10]).toString('base64'), 'kept as bytes, shown in base64 as dockerd does');
      const out = await new Promise<string>((resolve) => {
        const c = connect(berth.socket);
        let text = '';
        let wrote = false;
        let detached = false;
        const body = '{"tty":true}';
        c.on('data', (d) => {
          text += d.toString('latin1');
          if (!wrote && text.includes('\r\n\r\n')) {
            wrote = true;
            c.write('sent\n');
          }
          // The terminal's echo and cat's copy: then ctrl-p alone detaches.
          if (wrote && !detached && (text.match(/sent\r\n/g) ?? []).length >= 2) {
            detached = true;
            c.write('\x10');
          }
        });
        const timer = setTimeout(() => c.destroy(), 10_000);
        c.on('close', () => {
          clearTimeout(timer);
          resolve(text);
        });
        c.write(`POST /exec/${id}/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      });
      assert.equal((out.split('\r\n\r\n')[1].match(/sent\r\n/g) ?? []).length, 2, out);
      assert.equal((await execInspect(id)).Running, true, 'ctrl-p alone detached; cat goes on');
    });
  });

  describe('attach with stream=0&logs=1', () => {
    it('returns what was logged and ends, upgraded or plain, running or exited', async () => {
      berth.ok(['run', '--name', 'said', 'busybox', 'sh', '-c', 'echo hello; echo oops >&2']);
      berth.ok(['run', '-d', '--name', 'saying', 'busybox', 'sh', '-c', 'echo hello; echo oops >&2; sleep 1000']);
      await waitForLog(berth, 'saying', 'oops\n');
      for (const name of ['said', 'saying']) {
        for (const upgrade of [true, false]) {
          const r = await rawRequest(berth.socket, 'POST', `/containers/${name}/attach?logs=1&stream=0&stdout=1&stderr=1`, { upgrade });
          assert.ok(r.ended, `${name} upgrade=${upgrade}: the daemon ends the response`);
          assert.match(r.head, upgrade ? /^HTTP\/1.1 101 UPGRADED/ : /^HTTP\/1.1 200 OK/);
          assert.deepEqual(frames(r.body), [
            [1, 'hello\n'],
            [2, 'oops\n'],
          ]);
        }
      }
    });

    it('over a websocket below API 1.42: binary frames, all streams whatever the query says', async () => {
      const c = JSON.parse((await api(berth.socket, 'POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; sleep 0.2; echo err >&2'] }), json)).body).Id;
      const ws = new WebSocket(`ws+unix://${berth.socket}:/v1.41/containers/${c}/attach/ws?stdout=1&stream=1&logs=1`);
      const messages: Array<[string, boolean]> = [];
      ws.on('message', (data: Buffer, isBinary: boolean) => messages.push([data.toString(), isBinary]));
      const closed = new Promise((resolve) => ws.once('close', resolve));
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      assert.equal((await api(berth.socket, 'POST', `/containers/${c}/start`)).status, 204);
      await closed;
      assert.deepEqual(messages, [
        ['out\n', true],
        ['err\n', true],
      ]);
    });
  });

  describe('docker commit', () => {
    it('commits (pausing by default) a container that has just exited or exits meanwhile', async () => {
      const image = JSON.parse(berth.ok(['image', 'inspect', 'busybox']))[0].Id;
      for (let i = 0; i < 5; i++) {
        // docker-py's test_commit: create, start, commit at once while `touch` ends.
        const id = JSON.parse((await api(berth.socket, 'POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['touch', '/test'] }), json)).body).Id;
        assert.equal((await api(berth.socket, 'POST', `/containers/${id}/start`)).status, 204);
        const r = await api(berth.socket, 'POST', `/commit?container=${id}&pause=1&changes=${encodeURIComponent('EXPOSE 8000')}`);
        assert.equal(r.status, 201, r.body);
        const committed = JSON.parse(berth.ok(['image', 'inspect', JSON.parse(r.body).Id]))[0];
        assert.equal(committed.Parent, image);
        assert.ok('8000/tcp' in committed.Config.ExposedPorts);
      }
      berth.ok(['run', '--name', 'gone', 'busybox', 'sh', '-c', 'echo kept > /kept']);
      berth.ok(['commit', 'gone', 'gone-image']);
      assert.equal(berth.ok(['run', '--rm', 'gone-image', 'cat', '/kept']), 'kept\n');
    });
  });
});
