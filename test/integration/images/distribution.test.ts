import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { api, startBerth, type Berth } from '../harness';
import { REGISTRY_BIN, startRegistry, type TestRegistry } from '../registry-fixture';
import { registryEndpoint } from '../../../src/engine/registry/endpoint';
import { RegistryClient } from '../../../src/engine/registry/registry-client';

/** The CLI's X-Registry-Auth header: base64url JSON credentials. */
const authHeader = (username: string, password: string) => ({
  'X-Registry-Auth': Buffer.from(JSON.stringify({ username, password })).toString('base64url'),
});

describe('GET /distribution/{name}/json answers from the registry', { skip: !existsSync(REGISTRY_BIN) && 'docker-registry is not installed' }, () => {
  let berth: Berth;
  let registry: TestRegistry;
  let locked: TestRegistry;
  before(async () => {
    [berth, registry, locked] = await Promise.all([startBerth(), startRegistry(), startRegistry({ user: 'alice', password: 's3cret' })]);
  });
  after(async () => {
    await berth?.cleanup();
    await registry?.stop();
    await locked?.stop();
  });

  const distribution = async (name: string, headers: Record<string, string> = {}) => {
    const res = await api(berth.socket, 'GET', `/v1.41/distribution/${name}/json`, undefined, headers);
    return { status: res.status, body: JSON.parse(res.body) as Record<string, unknown> & { message?: string } };
  };

  it('gives the pushed manifest\'s descriptor and the image platform, by tag and by digest', async () => {
    const ref = `${registry.domain}/test/dist:1`;
    berth.ok(['tag', 'busybox', ref]);
    const pushed = /1: digest: (sha256:[0-9a-f]{64}) size: (\d+)/.exec(berth.ok(['push', ref]));
    assert.ok(pushed);
    const byTag = await distribution(ref);
    assert.equal(byTag.status, 200);
    const descriptor = byTag.body.Descriptor as { mediaType: string; digest: string; size: number };
    assert.equal(descriptor.digest, pushed[1]);
    assert.equal(descriptor.size, Number(pushed[2]));
    assert.match(descriptor.mediaType, /^application\/vnd\.(oci\.image|docker\.distribution)\.manifest\.v\d\+json$/);
    assert.deepEqual(byTag.body.Platforms, [{ architecture: 'amd64', os: 'linux' }]);
    const byDigest = await distribution(`${registry.domain}/test/dist@${pushed[1]}`);
    assert.equal(byDigest.status, 200);
    assert.deepEqual(byDigest.body, byTag.body);
  });

  it('lists every platform of an index', async () => {
    const ref = `${registry.domain}/test/dist-multi:1`;
    berth.ok(['tag', 'busybox', ref]);
    const pushed = /digest: (sha256:[0-9a-f]{64}) size: (\d+)/.exec(berth.ok(['push', ref]))!;
    const entry = (platform: object) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: pushed[1], size: Number(pushed[2]), platform });
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [entry({ os: 'linux', architecture: 'amd64' }), entry({ os: 'linux', architecture: 'arm', variant: 'v7' })],
      }),
    );
    const client = new RegistryClient(registryEndpoint(registry.domain), 'test/dist-multi');
    const indexDigest = await client.putManifest('list', 'application/vnd.oci.image.index.v1+json', index);
    const res = await distribution(`${registry.domain}/test/dist-multi:list`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      Descriptor: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: indexDigest, size: index.length },
      Platforms: [
        { architecture: 'amd64', os: 'linux' },
        { architecture: 'arm', os: 'linux', variant: 'v7' },
      ],
    });
  });

  it('answers as dockerd for unknown tags, bad names and image IDs', async () => {
    assert.deepEqual(await distribution(`${registry.domain}/test/dist:nope`), { status: 404, body: { message: 'manifest unknown: manifest unknown' } });
    assert.deepEqual(await distribution(`${registry.domain}/test/never-pushed:1`).then((r) => r.status), 404);
    assert.equal((await distribution('INVALID')).status, 400);
    assert.match((await distribution('INVALID')).body.message ?? '', /^invalid reference format/);
    const id = await distribution(`sha256:${'1'.repeat(64)}`);
    assert.deepEqual([id.status, id.body.message], [400, 'no manifest found for full image ID']);
    assert.equal((await api(berth.socket, 'GET', '/v1.29/distribution/busybox/json')).status, 404, 'added in API 1.30');
  });

  it('uses X-Registry-Auth as pull does: 401 without it, the registry\'s answer with it', async () => {
    const ref = `${locked.domain}/test/private:1`;
    const anonymous = await distribution(ref);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.body.message ?? '', /unauthorized|authentication required/);
    assert.deepEqual(await distribution(ref, authHeader('alice', 's3cret')), { status: 404, body: { message: 'manifest unknown: manifest unknown' } });
    assert.equal((await distribution(ref, authHeader('alice', 'wrong'))).status, 401);
  });
});
