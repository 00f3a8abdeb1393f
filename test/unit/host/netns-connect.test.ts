import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { PassThrough, Duplex } from 'node:stream';
import { connectInNetns, NETNS_CONNECT_PATH } from '../../../src/host/netns-connect';

/** The connector entering this process's own network namespace (setns needs root). */
const skip = !existsSync(NETNS_CONNECT_PATH) ? `${NETNS_CONNECT_PATH} not built (npm run build)` : process.getuid?.() !== 0 ? 'entering a network namespace needs root' : false;
const OWN_NETNS = '/proc/self/ns/net';

/** A duplex whose written side is collected and whose readable side is fed by `input`. */
function peer(input: string[]): { stream: Duplex; received: Promise<string> } {
  const incoming = new PassThrough();
  const chunks: Buffer[] = [];
  let done!: (s: string) => void;
  const received = new Promise<string>((resolve) => (done = resolve));
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
    final(cb) {
      done(Buffer.concat(chunks).toString());
      cb();
    },
  });
  incoming.on('data', (d) => stream.push(d));
  incoming.on('end', () => stream.push(null));
  for (const i of input) incoming.write(i);
  incoming.end();
  return { stream, received };
}

async function listen(onConnection: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

test('relays both ways: the client’s end half-closes, the answer still comes back', { skip }, async () => {
  const { server, port } = await listen((socket) => {
    let body = '';
    socket.on('data', (d) => (body += d));
    socket.on('end', () => socket.end(`got ${body.length} bytes: ${body.slice(0, 9)}`));
  });
  try {
    const { stream, received } = peer(['hello ', 'world']);
    await connectInNetns(OWN_NETNS, port, stream);
    assert.equal(await received, 'got 11 bytes: hello wor');
  } finally {
    server.close();
  }
});

test('a port nothing listens on, and a namespace that is not there, are errors with the reason', { skip }, async () => {
  const { server, port } = await listen(() => undefined);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await assert.rejects(connectInNetns(OWN_NETNS, port, peer([]).stream), new RegExp(`failed to connect to localhost:${port} .*IPv4: dial tcp4 127\\.0\\.0\\.1:${port}: connect: connection refused`));
  await assert.rejects(connectInNetns('/proc/no-such-pid/ns/net', port, peer([]).stream), /opening network namespace \/proc\/no-such-pid\/ns\/net: No such file or directory/);
});
