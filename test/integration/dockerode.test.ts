import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { startBerth, type Berth } from './harness';
import { waitFor } from './wait';

describe('dockerode drives Berth', () => {
  let berth: Berth;
  let docker: Docker;
  before(async () => {
    berth = await startBerth();
    docker = new Docker({ socketPath: berth.socket });
  });
  after(async () => {
    await berth?.cleanup();
  });

  it('pings, lists images and reads version', async () => {
    assert.equal(String(await docker.ping()), 'OK');
    const images = await docker.listImages();
    assert.ok(images.some((i) => i.RepoTags?.includes('busybox:latest')));
    const v = await docker.version();
    assert.equal(v.ApiVersion, '1.51');
  });

  it('creates, attaches, starts, waits and removes a container', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 4'], name: 'dockerode-1' });
    const stream = await c.attach({ stream: true, stdout: true, stderr: true, hijack: true });
    const out = new PassThrough();
    const err = new PassThrough();
    const chunks = { out: '', err: '' };
    out.on('data', (d) => (chunks.out += d));
    err.on('data', (d) => (chunks.err += d));
    docker.modem.demuxStream(stream, out, err);
    const ended = new Promise((r) => stream.on('end', r));
    const waited = c.wait({ condition: 'next-exit' });
    await c.start();
    assert.equal((await waited).StatusCode, 4);
    await ended;
    assert.equal(chunks.out, 'out\n');
    assert.equal(chunks.err, 'err\n');
    const info = await c.inspect();
    assert.equal(info.State.ExitCode, 4);
    assert.equal(info.Name, '/dockerode-1');
    await c.remove();
    await assert.rejects(c.inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
  });

  it('reads logs of a detached container and lists it with filters', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo hello-logs; sleep 30'], Labels: { app: 'dockerode' } });
    await c.start();
    const buf = await waitFor(async () => {
      const b = (await c.logs({ stdout: true, stderr: true })) as unknown as Buffer;
      return b.length > 0 ? b : undefined;
    }, { what: 'the log line' });
    // Multiplexed: 8-byte header then the line.
    assert.equal(buf[0], 1);
    assert.equal(buf.subarray(8).toString(), 'hello-logs\n');
    const list = await docker.listContainers({ filters: { label: ['app=dockerode'] } });
    assert.equal(list.length, 1);
    assert.equal(list[0].State, 'running');
    await c.stop({ t: 1 });
    await c.remove();
  });
});
