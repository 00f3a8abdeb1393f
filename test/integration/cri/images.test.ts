import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DOCKER, startBerth, type Berth } from '../harness';
import { REGISTRY_BIN, startRegistry, type TestRegistry } from '../registry-fixture';
import { criClient, type CriClient } from './cri-client';
import { CRI_TOOLS } from './cri-tools';

/** The CRI ImageService over the same store as the Docker API: what one face pulls, the other sees. */
const TOOLS = CRI_TOOLS;
const skip = !existsSync(REGISTRY_BIN) ? 'docker-registry is not installed' : !existsSync(join(TOOLS, 'crictl')) ? `crictl not found in ${TOOLS}` : false;

describe('CRI images', { skip }, () => {
  let berth: Berth;
  let cri: CriClient;
  let open: TestRegistry;
  let locked: TestRegistry;
  let configDir: string;

  const crictl = (args: string[]) => {
    const r = spawnSync(join(TOOLS, 'crictl'), ['--runtime-endpoint', `unix://${berth.criSocket}`, '--image-endpoint', `unix://${berth.criSocket}`, '--timeout', '30s', ...args], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `crictl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const idOf = (ref: string) => berth.ok(['image', 'inspect', '--format', '{{.Id}}', ref]).trim();

  before(async () => {
    configDir = mkdtempSync(join(tmpdir(), 'berth-cri-auth-'));
    [berth, open, locked] = await Promise.all([startBerth(), startRegistry(), startRegistry({ user: 'alice', password: 's3cret' })]);
    cri = criClient(berth.criSocket);
  });
  after(async () => {
    cri?.close();
    await berth?.cleanup();
    await open?.stop();
    await locked?.stop();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  it('lists and describes the Docker API’s images under their normalized names', async () => {
    const id = idOf('busybox');
    assert.match(crictl(['images']), /docker\.io\/library\/busybox\s+latest/);
    const inspected = JSON.parse(crictl(['inspecti', 'busybox']));
    assert.equal(inspected.status.id, id);
    assert.deepEqual(inspected.status.repoTags, ['docker.io/library/busybox:latest']);
    const { images } = await cri.image.ListImages({ filter: { image: { image: 'busybox:latest' } } });
    assert.deepEqual(images.map((i: { id: string }) => i.id), [id]);
    assert.ok(Number(images[0].size) > 0);
    assert.deepEqual(await cri.image.ImageStatus({ image: { image: 'no-such/image:1' } }), { image: null, info: {} });
  });

  it('pulls from a registry into the store `docker images` reads, with and without credentials', async () => {
    const plain = `${open.domain}/cri/plain:1`;
    berth.ok(['tag', 'busybox', plain]);
    berth.ok(['push', plain], { timeoutMs: 120_000 });
    berth.ok(['rmi', plain]);
    const { image_ref: ref } = await cri.image.PullImage({ image: { image: plain } });
    assert.equal(ref, idOf(plain));

    const secret = `${locked.domain}/cri/secret:1`;
    const env = { ...berth.env, DOCKER_CONFIG: configDir };
    const login = spawnSync(DOCKER, ['login', '-u', 'alice', '--password-stdin', locked.domain], { env, input: 's3cret\n', encoding: 'utf8' });
    assert.equal(login.status, 0, login.stderr);
    berth.ok(['tag', 'busybox', secret]);
    const push = spawnSync(DOCKER, ['push', secret], { env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(push.status, 0, push.stderr);
    berth.ok(['rmi', secret]);
    await assert.rejects(cri.image.PullImage({ image: { image: secret } }), /unauthorized|no basic auth credentials|authentication required/i);
    await cri.image.PullImage({ image: { image: secret }, auth: { username: 'alice', password: 's3cret' } });
    assert.equal(berth.ok(['images', '-q', secret]).trim().length > 0, true);
    berth.ok(['rmi', secret]);
    await cri.image.PullImage({ image: { image: secret }, auth: { auth: Buffer.from('alice:s3cret').toString('base64') } });
    assert.equal(idOf(secret), idOf('busybox'));
  });

  it('removes an image by name (idempotently) and reports the image filesystem', async () => {
    const name = 'cri-remove-me:1';
    berth.ok(['tag', 'busybox', name]);
    crictl(['rmi', name]);
    assert.equal(berth.docker(['image', 'inspect', name]).code, 1);
    await cri.image.RemoveImage({ image: { image: name } });
    const { image_filesystems: fs } = await cri.image.ImageFsInfo({});
    assert.equal(fs[0].fs_id.mountpoint, join(berth.dataRoot, 'image'));
    assert.ok(Number(fs[0].used_bytes.value) > 0);
    assert.ok(Number(fs[0].inodes_used.value) > 0);
  });

  it('answers through runtime.v1alpha2 too', async () => {
    const old = criClient(berth.criSocket, 'v1alpha2');
    try {
      const { image } = await old.image.ImageStatus({ image: { image: 'busybox' } });
      assert.equal(image.id, idOf('busybox'));
    } finally {
      old.close();
    }
  });
});
