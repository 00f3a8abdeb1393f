import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import pino from 'pino';
import { RstStatus } from '../../../src/cri/streaming/spdy-frames';
import { RequestCache } from '../../../src/cri/streaming/request-cache';
import { statusReport, type RemoteCommandIo } from '../../../src/cri/streaming/remote-command';
import { startStreamingServer, parseListenAddress, type StreamingRuntime, type StreamingServer } from '../../../src/cri/streaming/streaming-server';
import { TerminalSizeDecoder, type TerminalSize } from '../../../src/cri/streaming/terminal-size';
import { SpdyTestClient } from './spdy-test-client';

const log = pino({ level: 'silent' });

async function withServer(runtime: Partial<StreamingRuntime>, fn: (server: StreamingServer, port: number) => Promise<void>): Promise<void> {
  const full: StreamingRuntime = {
    exec: async () => ({ exitCode: 0 }),
    attach: async () => ({ exitCode: 0 }),
    portForward: async () => undefined,
    ...runtime,
  };
  const server = await startStreamingServer({ address: '127.0.0.1:0', runtime: full, log });
  try {
    await fn(server, Number(new URL(server.baseUrl).port));
  } finally {
    await server.close();
  }
}

const pathOf = (url: string) => new URL(url).pathname;
const readAll = (s: NodeJS.ReadableStream) =>
  new Promise<string>((resolve) => {
    let text = '';
    s.on('data', (d: Buffer) => (text += d));
    s.on('end', () => resolve(text));
  });

test('exec over v4: streams by type, stdin to EOF, stdout and stderr, the exit code as a Status, then FIN and GOAWAY', async () => {
  let seen: RemoteCommandIo | undefined;
  await withServer(
    {
      exec: async (id, cmd, io) => {
        seen = io;
        assert.equal(id, 'c1');
        const input = await readAll(io.stdin!);
        io.stdout!.write(`out:${input}`);
        io.stderr!.write('err');
        return { exitCode: 3, command: cmd };
      },
    },
    async (server, port) => {
      const url = server.urlFor({ kind: 'exec', containerId: 'c1', cmd: ['sh', '-c', 'exit 3'], opts: { stdin: true, stdout: true, stderr: true, tty: false } });
      assert.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${port}/exec/[A-Za-z0-9_-]{11}$`));
      const { client, head } = await SpdyTestClient.upgrade(port, pathOf(url), ['v4.channel.k8s.io', 'v3.channel.k8s.io']);
      try {
        assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
        assert.match(head, /\r\nUpgrade: SPDY\/3\.1\r\n/i);
        assert.match(head, /\r\nX-Stream-Protocol-Version: v4\.channel\.k8s\.io\r\n/i);
        const error = await client.open({ streamtype: 'error' });
        const stdin = await client.open({ streamtype: 'stdin' });
        const stdout = await client.open({ streamtype: 'stdout' });
        const stderr = await client.open({ streamtype: 'stderr' });
        await client.until(() => client.frames.filter((f) => f.type === 'syn_reply').length === 4, 'four replies');
        assert.deepEqual(client.frames.filter((f) => f.type === 'syn_reply').map((f) => [(f as { streamId: number }).streamId, f.headers]), [[1, {}], [3, {}], [5, {}], [7, {}]]);
        client.data(stdin, 'abc');
        client.data(stdin, '', true);
        await client.until(() => client.received(error).fin, 'the error stream to end');
        assert.deepEqual(client.received(stdout), { text: 'out:abc', fin: true });
        assert.deepEqual(client.received(stderr), { text: 'err', fin: true });
        assert.deepEqual(JSON.parse(client.received(error).text), {
          metadata: {},
          status: 'Failure',
          message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
          reason: 'NonZeroExitCode',
          details: { causes: [{ reason: 'ExitCode', message: '3' }] },
        });
        await client.until(() => client.frames.some((f) => f.type === 'goaway'), 'GOAWAY');
        await client.until(() => client.ended, 'the server to end the connection');
        assert.equal(seen?.tty, false);
      } finally {
        client.close();
      }
    },
  );
});

test('exec with a TTY over v3: a resize stream is awaited too, sizes reach the command, a failure is plain text', async () => {
  const sizes: TerminalSize[] = [];
  let gotFirst!: () => void;
  const firstSeen = new Promise<void>((resolve) => (gotFirst = resolve));
  await withServer(
    {
      exec: async (_id, _cmd, io) => {
        const first = await io.firstSize(5000);
        if (first) sizes.push(first);
        gotFirst();
        await new Promise<void>((resolve) => io.resizes.once('resize', (s: TerminalSize) => (sizes.push(s), resolve())));
        io.stdout!.write('tty output');
        return { error: new Error('boom') };
      },
    },
    async (server, port) => {
      const url = server.urlFor({ kind: 'exec', containerId: 'c', cmd: ['sh'], opts: { stdin: false, stdout: true, stderr: false, tty: true } });
      const { client } = await SpdyTestClient.upgrade(port, pathOf(url), ['v3.channel.k8s.io', 'v2.channel.k8s.io']);
      try {
        const error = await client.open({ streamtype: 'error' });
        const stdout = await client.open({ streamtype: 'stdout' });
        const resize = await client.open({ streamtype: 'resize' });
        client.data(resize, '{"Width":80,"Height":24}\n{"Wid');
        await firstSeen;
        client.data(resize, 'th":100,"Height":40}\n');
        await client.until(() => client.received(error).fin, 'the error stream to end');
        assert.deepEqual(sizes, [{ width: 80, height: 24 }, { width: 100, height: 40 }]);
        assert.equal(client.received(stdout).text, 'tty output');
        assert.equal(client.received(error).text, 'Internal error occurred: error executing command in container: boom');
      } finally {
        client.close();
      }
    },
  );
});

test('a URL serves once; unknown tokens are 404; the protocol must be negotiated', async () => {
  await withServer({}, async (server, port) => {
    const url = server.urlFor({ kind: 'attach', containerId: 'c', opts: { stdin: false, stdout: true, stderr: false, tty: false } });
    const none = await rawUpgrade(port, pathOf(url), undefined);
    assert.equal(none.status, 400);
    assert.match(none.body, /X-Stream-Protocol-Version is required/);
    // The token was spent by that attempt, as kubelet's cache spends it.
    assert.equal((await rawUpgrade(port, pathOf(url), 'v4.channel.k8s.io')).status, 404);
    const url2 = server.urlFor({ kind: 'attach', containerId: 'c', opts: { stdin: false, stdout: true, stderr: false, tty: false } });
    const wrong = await rawUpgrade(port, pathOf(url2), 'v9.channel.k8s.io');
    assert.equal(wrong.status, 403);
    assert.deepEqual(wrong.headers['x-accepted-stream-protocol-versions'], 'v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io');
    assert.equal((await rawUpgrade(port, '/exec/nonsense', 'v4.channel.k8s.io')).status, 404);
    // A token of another kind does not open this endpoint.
    const pf = server.urlFor({ kind: 'portforward', podSandboxId: 'p' });
    assert.equal((await rawUpgrade(port, pathOf(pf).replace('portforward', 'exec'), 'v4.channel.k8s.io')).status, 404);
  });
});

test('port-forward pairs error and data streams by requestID, refuses bad ones, reports failures on the error stream', async () => {
  await withServer(
    {
      portForward: async (pod, port, stream) => {
        assert.equal(pod, 'pod1');
        if (port === 1) throw new Error('nothing listens');
        const input = await readAll(stream);
        stream.end(`${port}:${input}`);
      },
    },
    async (server, port) => {
      const url = server.urlFor({ kind: 'portforward', podSandboxId: 'pod1' });
      const { client, head } = await SpdyTestClient.upgrade(port, pathOf(url), ['portforward.k8s.io']);
      try {
        assert.match(head, /X-Stream-Protocol-Version: portforward\.k8s\.io/i);
        const bad = await client.open({ streamtype: 'data', port: '0', requestid: '9' });
        const noType = await client.open({ port: '80', requestid: '9' });
        await client.until(() => client.frames.filter((f) => f.type === 'rst_stream').length === 2, 'two resets');
        assert.deepEqual(client.frames.filter((f) => f.type === 'rst_stream').map((f) => [(f as { streamId: number }).streamId, (f as { status: number }).status]), [[bad, RstStatus.CANCEL], [noType, RstStatus.CANCEL]]);
        // Two forwards interleaved on one session, and a ping on the way.
        const e0 = await client.open({ streamtype: 'error', port: '8080', requestid: '0' });
        const e1 = await client.open({ streamtype: 'error', port: '9090', requestid: '1' });
        const d1 = await client.open({ streamtype: 'data', port: '9090', requestid: '1' });
        const d0 = await client.open({ streamtype: 'data', port: '8080', requestid: '0' });
        client.send({ type: 'ping', id: 7 });
        client.data(d0, 'zero', true);
        client.data(d1, 'one', true);
        await client.until(() => [e0, e1, d0, d1].every((id) => client.received(id).fin), 'both forwards to end');
        assert.deepEqual(client.received(d0), { text: '8080:zero', fin: true });
        assert.deepEqual(client.received(d1), { text: '9090:one', fin: true });
        assert.equal(client.received(e0).text, '');
        assert.ok(client.frames.some((f) => f.type === 'ping' && f.id === 7), 'ping echoed');
        const e2 = await client.open({ streamtype: 'error', port: '1', requestid: '2' });
        await client.open({ streamtype: 'data', port: '1', requestid: '2' });
        await client.until(() => client.received(e2).fin, 'the failed forward to end');
        assert.equal(client.received(e2).text, 'error forwarding port 1 to pod pod1, uid : nothing listens');
      } finally {
        client.close();
      }
    },
  );
});

test('the request cache: one use per token, gone after a minute', () => {
  let now = 1000;
  const cache = new RequestCache<string>(60_000, () => now);
  const a = cache.insert('a');
  const b = cache.insert('b');
  assert.notEqual(a, b);
  assert.equal(cache.consume(a), 'a');
  assert.equal(cache.consume(a), undefined);
  now += 60_000;
  assert.equal(cache.consume(b), undefined);
});

test('status reports per protocol version', () => {
  assert.equal(statusReport('v4.channel.k8s.io', { exitCode: 0 }), '{"metadata":{},"status":"Success"}');
  assert.equal(statusReport('v3.channel.k8s.io', { exitCode: 0 }), undefined);
  assert.equal(statusReport('v2.channel.k8s.io', { exitCode: 2, command: ['false'] }), 'command terminated with non-zero exit code: error executing command [false], exit code 2');
});

test('terminal sizes are cut out of the resize stream however it is chunked', () => {
  const d = new TerminalSizeDecoder();
  assert.deepEqual(d.push(Buffer.from('{"Width":1,')), []);
  assert.deepEqual(d.push(Buffer.from('"Height":2}\n{"Width":3,"Height":4}{"Width":-1,"Height":4}\n{"Width":5,"Height":6}')), [
    { width: 1, height: 2 },
    { width: 3, height: 4 },
    { width: 5, height: 6 },
  ]);
});

test('listen addresses: host:port, [v6]:port, :port', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListenAddress('[::1]:10010'), { host: '::1', port: 10010 });
  assert.deepEqual(parseListenAddress(':10010'), { host: undefined, port: 10010 });
  assert.throws(() => parseListenAddress('localhost'), /want host:port/);
});

function rawUpgrade(port: number, path: string, protocol: string | undefined): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' };
    if (protocol) headers['X-Stream-Protocol-Version'] = protocol;
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
