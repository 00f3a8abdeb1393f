/**
 * The SOCK_SEQPACKET client (native addon) against a peer written in python3, which opens such
 * sockets natively: message boundaries, end(), errors, close() with writes pending.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SeqpacketSocket } from '../../../src/runtime/seqpacket-socket';

// Accepts one client; answers each message m with b'\x02' + m; after the client's shutdown(WR)
// sends b'\x03bye' and closes.
const PEER = `
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(1)
print('ready', flush=True)
c, _ = s.accept()
while True:
    m = c.recv(65536)
    if not m:
        break
    c.send(b'\\x02' + m)
c.send(b'\\x03bye')
c.close()
`;

async function startPeer(path: string): Promise<ChildProcess> {
  const peer = spawn('python3', ['-c', PEER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(peer.stdout!, 'data');
  return peer;
}

function connect(path: string): Promise<SeqpacketSocket> {
  const sock = new SeqpacketSocket();
  return new Promise((resolve, reject) => {
    sock.once('connect', () => resolve(sock));
    sock.once('error', reject);
    sock.connect(path);
  });
}

describe('SeqpacketSocket', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-seqpacket-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps message boundaries both ways, reports writes, and sees the end after end()', async () => {
    const path = join(dir, 'echo');
    const peer = await startPeer(path);
    const sock = await connect(path);
    const received: Buffer[] = [];
    sock.on('data', (m: Buffer) => received.push(m));
    const ended = once(sock, 'end');
    const big = Buffer.alloc(20000, 'x');
    const written: Array<Error | undefined> = [];
    // Write reports and received messages come from two threads: either may arrive first.
    let allWritten!: () => void;
    const writesReported = new Promise<void>((r) => (allWritten = r));
    for (const m of [Buffer.from('one'), Buffer.from('two'), big]) {
      sock.write(m, (err) => {
        if (written.push(err) === 3) allWritten();
      });
    }
    sock.end();
    await Promise.all([ended, writesReported]);
    sock.close();
    await once(peer, 'exit');
    assert.deepEqual(written, [undefined, undefined, undefined]);
    assert.deepEqual(received.map((m) => m.length), [4, 4, 20001, 4]);
    assert.equal(received[0].toString(), '\x02one');
    assert.equal(received[1].toString(), '\x02two');
    assert.ok(received[2].subarray(1).equals(big));
    assert.equal(received[3].toString(), '\x03bye');
  });

  it('fails to connect to a path nobody listens on, with the reason', async () => {
    await assert.rejects(connect(join(dir, 'nobody')), /connect: No such file or directory/);
  });

  it('close() fails the writes not yet sent and emits close once; later calls do nothing', async () => {
    const path = join(dir, 'closing');
    const peer = await startPeer(path);
    const sock = await connect(path);
    const closed = once(sock, 'close');
    let calls = 0;
    sock.close();
    sock.write(Buffer.from('late'), (err) => {
      calls++;
      assert.match(String(err), /closed/);
    });
    sock.close();
    await closed;
    assert.equal(calls, 1);
    await once(peer, 'exit');
  });
});
