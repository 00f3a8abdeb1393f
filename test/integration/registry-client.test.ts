import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registryEndpoint } from '../../src/engine/registry/endpoint';
import { RegistryClient } from '../../src/engine/registry/registry-client';
import { REGISTRY_BIN, startRegistry, type TestRegistry } from './registry-fixture';

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('registry client against a real registry', { skip: !existsSync(REGISTRY_BIN) && 'docker-registry is not installed' }, () => {
  let open: TestRegistry;
  let locked: TestRegistry;
  let dir: string;
  before(async () => {
    open = await startRegistry();
    locked = await startRegistry({ user: 'alice', password: 's3cret' });
    dir = mkdtempSync(join(tmpdir(), 'berth-regclient-'));
  });
  after(async () => {
    await open?.stop();
    await locked?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const manifestFor = (config: Buffer, layer: Buffer) =>
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(layer), size: layer.length }],
      }),
    );

  it('pushes blobs and a manifest, then pulls them back by tag and by digest, verified', async () => {
    const client = new RegistryClient(registryEndpoint(open.domain), 'test/app');
    const layer = Buffer.alloc(4096, 7);
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const layerFile = join(dir, 'layer');
    writeFileSync(layerFile, layer);
    assert.equal(await client.hasBlob(digestOf(layer)), false);
    await client.uploadBlob(digestOf(layer), { path: layerFile });
    await client.uploadBlob(digestOf(config), { bytes: config });
    assert.equal(await client.hasBlob(digestOf(layer)), true);
    const manifest = manifestFor(config, layer);
    const pushed = await client.putManifest('v1', 'application/vnd.oci.image.manifest.v1+json', manifest);
    assert.equal(pushed, digestOf(manifest));
    const byTag = await client.manifest('v1');
    assert.deepEqual([byTag.digest, byTag.mediaType], [digestOf(manifest), 'application/vnd.oci.image.manifest.v1+json']);
    assert.equal((await client.manifest(digestOf(manifest))).bytes.toString(), manifest.toString());
    assert.deepEqual(await client.blobBytes(digestOf(config)), config);
    let progress = 0;
    assert.equal(await client.blobToFile(digestOf(layer), join(dir, 'pulled'), (n) => (progress = n)), 4096);
    assert.equal(progress, 4096);
    assert.deepEqual(readFileSync(join(dir, 'pulled')), layer);
    // Another repository mounts the blob instead of uploading it.
    const other = new RegistryClient(registryEndpoint(open.domain), 'test/other');
    assert.deepEqual(await other.mountBlob(digestOf(layer), 'test/app'), { mounted: true });
    // A blob the source lacks: the registry opens an upload session instead, which the upload uses.
    const missing = Buffer.from('not in test/app');
    const failed = await other.mountBlob(digestOf(missing), 'test/app');
    assert.equal(failed.mounted, false);
    assert.ok(failed.location);
    await other.uploadBlob(digestOf(missing), { bytes: missing }, failed.location);
    assert.deepEqual(await other.blobBytes(digestOf(missing)), missing);
    await assert.rejects(client.manifest('nope'), { name: 'NotFoundError', message: /manifest unknown/ });
  });

  it('never keeps a blob whose bytes do not match its digest', async () => {
    const client = new RegistryClient(registryEndpoint(open.domain), 'test/tamper');
    const blob = Buffer.from('original content');
    await client.uploadBlob(digestOf(blob), { bytes: blob });
    const hex = digestOf(blob).slice(7);
    writeFileSync(join(open.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data'), 'tampered content');
    const target = join(dir, 'tampered');
    await assert.rejects(client.blobToFile(digestOf(blob), target), { message: /verification failed/ });
    assert.equal(existsSync(target), false);
    await assert.rejects(client.blobBytes(digestOf(blob)), { message: /verification failed/ });
  });

  it('answers basic-auth challenges with credentials, and fails clearly without them', async () => {
    const blob = Buffer.from('private');
    await assert.rejects(new RegistryClient(registryEndpoint(locked.domain), 'team/app').uploadBlob(digestOf(blob), { bytes: blob }), { name: 'UnauthorizedError', message: /unauthorized/ });
    await assert.rejects(new RegistryClient(registryEndpoint(locked.domain), 'team/app', { username: 'alice', password: 'wrong' }).hasBlob(digestOf(blob)), { name: 'UnauthorizedError' });
    const alice = new RegistryClient(registryEndpoint(locked.domain), 'team/app', { username: 'alice', password: 's3cret' });
    await alice.uploadBlob(digestOf(blob), { bytes: blob });
    assert.deepEqual(await alice.blobBytes(digestOf(blob)), blob);
  });

  it('fails fast with a clear message when the registry cannot be reached', async () => {
    const start = Date.now();
    await assert.rejects(new RegistryClient(registryEndpoint('127.0.0.1:1'), 'x/y').manifest('latest'), { name: 'UnavailableError', message: /dial tcp 127.0.0.1:1: connect: connection refused/ });
    assert.ok(Date.now() - start < 2000);
  });

  it('tries https then http for loopback and --insecure-registry hosts, https only otherwise; docker.io is registry-1', () => {
    const insecure = (domain: string, list: string[] = []) => {
      const e = registryEndpoint(domain, list);
      return [e.base, e.fallbackBase, e.tls.skipVerify];
    };
    assert.deepEqual(insecure('127.0.0.1:5000'), ['https://127.0.0.1:5000', 'http://127.0.0.1:5000', true]);
    assert.deepEqual(insecure('localhost:5000'), ['https://localhost:5000', 'http://localhost:5000', true]);
    assert.deepEqual(insecure('reg.example:5000'), ['https://reg.example:5000', undefined, undefined]);
    assert.deepEqual(insecure('reg.example:5000', ['reg.example:5000']), ['https://reg.example:5000', 'http://reg.example:5000', true]);
    assert.deepEqual(insecure('10.1.2.3:5000', ['10.0.0.0/8']), ['https://10.1.2.3:5000', 'http://10.1.2.3:5000', true]);
    assert.equal(registryEndpoint('docker.io').base, 'https://registry-1.docker.io');
  });
});
