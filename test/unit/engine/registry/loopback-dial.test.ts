import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { httpCall } from '../../../../src/engine/registry/http';
import { dialLoopbackVia, loopbackDialTarget } from '../../../../src/engine/registry/loopback-dial';

describe('loopback dial hook (rootless registries)', () => {
  afterEach(() => dialLoopbackVia(undefined));

  it('leaves every name alone until a rootless daemon sets it', () => {
    assert.equal(loopbackDialTarget('localhost'), undefined);
    assert.equal(loopbackDialTarget('127.0.0.1'), undefined);
  });

  it('redirects loopback names only', () => {
    dialLoopbackVia('10.0.2.2');
    for (const name of ['localhost', 'LOCALHOST', 'localhost.', 'registry.localhost', '127.0.0.1', '127.1.2.3', '[::1]', '::1'])
      assert.equal(loopbackDialTarget(name), '10.0.2.2', name);
    for (const name of ['10.0.2.2', 'registry.example.com', 'localhost.example.com', '128.0.0.1', '[::2]', 'mylocalhost'])
      assert.equal(loopbackDialTarget(name), undefined, name);
  });

  let server: Server | undefined;
  afterEach(() => server?.close());

  it('dials the target but sends the name as typed', async () => {
    // The "host's loopback" here is 127.0.0.2: a request that dialled localhost itself would be refused.
    server = createServer((req, res) => res.end(`${req.headers.host} ${req.url}`));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.2', () => r()));
    const port = (server.address() as AddressInfo).port;
    dialLoopbackVia('127.0.0.2');
    const res = await httpCall(`http://localhost:${port}/v2/`, { method: 'GET', timeoutMs: 5000 });
    assert.equal(await res.text(), `localhost:${port} /v2/`);
  });
});
