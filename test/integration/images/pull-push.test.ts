import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, DOCKER, startBerth, type Berth } from '../harness';
import { makeTlsFiles, REGISTRY_BIN, startRegistry, type TestRegistry } from '../registry-fixture';
import { holdsFor } from '../wait';
import { busyboxImage } from '../../fixtures/busybox-image';
import { saveTarball } from '../../fixtures/save-tarball';
import { registryEndpoint } from '../../../src/engine/registry/endpoint';
import { RegistryClient } from '../../../src/engine/registry/registry-client';

describe('docker push and docker pull with a real registry', { skip: !existsSync(REGISTRY_BIN) && 'docker-registry is not installed' }, () => {
  let berth: Berth;
  let registry: TestRegistry;
  before(async () => {
    berth = await startBerth();
    registry = await startRegistry();
  });
  after(async () => {
    await berth?.cleanup();
    await registry?.stop();
  });

  const inspect = (ref: string) => JSON.parse(berth.ok(['image', 'inspect', ref]))[0];

  it('pushes an image, and after removing it pulls it back with the same ID; by digest too', () => {
    const ref = `${registry.domain}/test/busybox:1`;
    const id = inspect('busybox').Id;
    berth.ok(['tag', 'busybox', ref]);
    const pushed = berth.ok(['push', ref]);
    assert.match(pushed, /Pushed/);
    const digest = /1: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(pushed)?.[1];
    assert.ok(digest, pushed);
    assert.match(berth.ok(['push', ref]), /Layer already exists/, 'a second push skips existing blobs');
    berth.ok(['rmi', ref, 'busybox']);
    assert.equal(berth.docker(['image', 'inspect', id]).code, 1, 'gone before the pull');
    const pulled = berth.ok(['pull', ref]);
    assert.match(pulled, /Pull complete/);
    assert.match(pulled, new RegExp(`Digest: ${digest}`));
    assert.match(pulled, /Status: Downloaded newer image for/);
    assert.equal(inspect(ref).Id, id);
    assert.deepEqual(inspect(ref).RepoDigests, [`${registry.domain}/test/busybox@${digest}`]);
    assert.equal(berth.ok(['run', '--rm', ref, 'echo', 'pulled']), 'pulled\n');
    assert.match(berth.ok(['pull', ref]), /Image is up to date/);
    const byDigest = `${registry.domain}/test/busybox@${digest}`;
    berth.ok(['pull', byDigest]);
    assert.equal(inspect(byDigest).Id, id);
    berth.ok(['tag', ref, 'busybox']); // for the tests below
  });

  it('mounts layers another repository of the registry holds instead of uploading them', () => {
    // busybox was pulled from test/busybox above: its layer is known to be there.
    const ref = `${registry.domain}/test/mounted:1`;
    berth.ok(['tag', 'busybox', ref]);
    const out = berth.ok(['push', ref]);
    assert.match(out, /Mounted from test\/busybox/);
    assert.doesNotMatch(out, /Pushed/);
    berth.ok(['rmi', ref]);
    berth.ok(['pull', ref]);
    assert.equal(berth.ok(['run', '--rm', ref, 'echo', 'mounted']), 'mounted\n');
  });

  /** The manifest the registry holds for `repo:tag` (Docker v2 schema 2 or OCI). */
  const registryManifest = async (repo: string, tag: string) => {
    const res = await fetch(`http://${registry.domain}/v2/${repo}/manifests/${tag}`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' } });
    return (await res.json()) as { layers: Array<{ mediaType: string; digest: string; size: number }> };
  };

  it('a committed image round-trips too, its new layer gzipped on the way (and kept so)', async () => {
    berth.ok(['run', '--name', 'src', 'busybox', 'sh', '-c', 'head -c 200000 /dev/zero > /zeros; echo changed > /changed']);
    const ref = `${registry.domain}/test/app:2`;
    berth.ok(['commit', 'src', ref]);
    const id = inspect(ref).Id;
    const diffId = (inspect(ref).RootFS.Layers as string[]).at(-1)!;
    const pushed = berth.ok(['push', ref]);
    assert.match(pushed, new RegExp(`${diffId.slice(7, 19)}: Pushed`), 'progress keyed by the short diff ID');
    const top = (await registryManifest('test/app', '2')).layers.at(-1)!;
    assert.equal(top.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    assert.ok(top.size < 100_000, `compressed: ${top.size} bytes`);
    // The compressed blob is what Berth keeps now: a second push finds it, a save carries it.
    assert.doesNotMatch(berth.ok(['push', `${registry.domain}/test/app:2`]), /Pushed/);
    const saved = join(tmpdir(), `berth-saved-${process.pid}.tar`);
    berth.ok(['save', '-o', saved, ref]);
    berth.ok(['rm', 'src']);
    berth.ok(['rmi', ref]);
    berth.ok(['load', '-i', saved]);
    rmSync(saved, { force: true });
    assert.equal(inspect(ref).Id, id);
    berth.ok(['rmi', ref]);
    berth.ok(['pull', ref]);
    assert.equal(inspect(ref).Id, id);
    assert.equal(berth.ok(['run', '--rm', ref, 'cat', '/changed']), 'changed\n');
  });

  /** What the registry serves for `repo:tag` to a client that accepts only `accept`. */
  const served = async (repo: string, tag: string, accept: string) => {
    const res = await fetch(`http://${registry.domain}/v2/${repo}/manifests/${tag}`, { headers: { Accept: accept } });
    assert.equal(res.status, 200, `${repo}:${tag}`);
    const body = (await res.json()) as { mediaType: string; config: { mediaType: string; digest: string; size: number }; layers: Array<{ mediaType: string; digest: string; size: number }> };
    return { contentType: res.headers.get('content-type'), ...body };
  };
  const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
  const OCI = 'application/vnd.oci.image.manifest.v1+json';

  it('pushes Docker images (loaded, built, committed, pulled as Docker) as Docker v2 schema 2, as dockerd does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-push-ctx-'));
    try {
      writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nRUN echo built > /built\n');
      berth.ok(['build', '-q', '-t', `${registry.domain}/fmt/built:1`, dir]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    berth.ok(['run', '--name', 'fmt-src', 'busybox', 'touch', '/committed']);
    berth.ok(['commit', 'fmt-src', `${registry.domain}/fmt/committed:1`]);
    berth.ok(['rm', 'fmt-src']);
    berth.ok(['tag', 'busybox', `${registry.domain}/fmt/loaded:1`]);
    for (const repo of ['fmt/loaded', 'fmt/built', 'fmt/committed']) {
      berth.ok(['push', `${registry.domain}/${repo}:1`]);
      const m = await served(repo, '1', DOCKER_V2);
      assert.equal(m.contentType, DOCKER_V2, repo);
      assert.equal(m.mediaType, DOCKER_V2, repo);
      assert.equal(m.config.mediaType, 'application/vnd.docker.container.image.v1+json', repo);
      for (const l of m.layers) assert.equal(l.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip', repo);
    }
    // Pulled as Docker, pushed elsewhere as Docker.
    berth.ok(['pull', `${registry.domain}/fmt/loaded:1`]);
    berth.ok(['tag', `${registry.domain}/fmt/loaded:1`, `${registry.domain}/fmt/repushed:1`]);
    berth.ok(['push', `${registry.domain}/fmt/repushed:1`]);
    assert.equal((await served('fmt/repushed', '1', DOCKER_V2)).mediaType, DOCKER_V2);
  });

  it('pushes OCI images (loaded from an OCI layout, pulled as OCI) as OCI', async () => {
    // An OCI image layout with no manifest.json (as skopeo or buildx write it).
    const tarball = join(tmpdir(), `berth-oci-layout-${process.pid}.tar`);
    const image = await busyboxImage('busybox:oci');
    image.config = { ...image.config, comment: 'oci' }; // another image ID than the Docker busybox
    writeFileSync(tarball, await saveTarball([image], { layout: 'oci', omitManifestJson: true, compressLayers: true }));
    try {
      berth.ok(['load', '-i', tarball]);
    } finally {
      rmSync(tarball, { force: true });
    }
    const ref = `${registry.domain}/fmt/oci:1`;
    berth.ok(['tag', 'busybox:oci', ref]);
    berth.ok(['push', ref]);
    const m = await served('fmt/oci', '1', OCI);
    assert.equal(m.mediaType, OCI);
    assert.equal(m.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    assert.deepEqual(m.layers.map((l) => l.mediaType), ['application/vnd.oci.image.layer.v1.tar+gzip']);
    // Pulled as OCI (removed first, so the record comes from the pull), pushed elsewhere as OCI.
    berth.ok(['rmi', ref, 'busybox:oci']);
    berth.ok(['pull', ref]);
    berth.ok(['tag', ref, `${registry.domain}/fmt/oci-again:1`]);
    berth.ok(['push', `${registry.domain}/fmt/oci-again:1`]);
    assert.equal((await served('fmt/oci-again', '1', OCI)).mediaType, OCI);
  });

  it('concurrent pulls of images that share layers download each layer once', async () => {
    berth.ok(['run', '--name', 'shared-src', 'busybox', 'sh', '-c', 'head -c 3000000 /dev/urandom > /shared']);
    const a = `${registry.domain}/test/shared-a:1`;
    const b = `${registry.domain}/test/shared-b:1`;
    berth.ok(['commit', 'shared-src', a]);
    berth.ok(['run', '--name', 'shared-src2', a, 'sh', '-c', 'echo b > /b']);
    berth.ok(['commit', 'shared-src2', b]);
    berth.ok(['push', a]);
    berth.ok(['push', b]);
    berth.ok(['rm', 'shared-src', 'shared-src2']);
    berth.ok(['rmi', b, a]);
    const pull = (ref: string) =>
      new Promise<string>((resolve) => {
        const p = spawn(DOCKER, ['-H', `unix://${berth.socket}`, 'pull', ref]);
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (out += d));
        p.on('close', (code) => resolve(`${out}\nexit ${code}`));
      });
    const [outA, outB] = await Promise.all([pull(a), pull(b)]);
    assert.match(outA, /exit 0$/);
    assert.match(outB, /exit 0$/);
    // Pull progress is keyed by the short blob digest (the gzipped layer's).
    const id = (await registryManifest('test/shared-a', '1')).layers.at(-1)!.digest.slice(7, 19);
    const completes = `${outA}\n${outB}`.split('\n').filter((l) => l.includes(id) && l.includes('Pull complete')).length;
    assert.equal(completes, 1, `${outA}\n---\n${outB}`);
    assert.equal(berth.ok(['run', '--rm', b, 'cat', '/b']), 'b\n');
  });

  it('pulls through a manifest list / OCI index, picking the platform (--platform)', async () => {
    const ref = `${registry.domain}/test/multi:1`;
    berth.ok(['tag', 'busybox', ref]);
    const pushed = berth.ok(['push', ref]);
    const digest = /digest: (sha256:[0-9a-f]{64}) size: (\d+)/.exec(pushed)!;
    const client = new RegistryClient(registryEndpoint(registry.domain), 'test/multi');
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digest[1], size: Number(digest[2]), platform: { os: 'linux', architecture: 's390x' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digest[1], size: Number(digest[2]), platform: { os: 'linux', architecture: 'amd64' } },
      ],
    }));
    const indexDigest = await client.putManifest('list', 'application/vnd.oci.image.index.v1+json', index);
    berth.ok(['rmi', ref]);
    const out = berth.ok(['pull', `${registry.domain}/test/multi:list`]);
    assert.match(out, new RegExp(`Digest: ${indexDigest}`), 'the index digest is the repo digest');
    assert.equal(JSON.parse(berth.ok(['image', 'inspect', `${registry.domain}/test/multi:list`]))[0].Id, JSON.parse(berth.ok(['image', 'inspect', 'busybox']))[0].Id);
    berth.ok(['pull', '--platform', 'linux/s390x', `${registry.domain}/test/multi:list`]);
    const none = berth.docker(['pull', '--platform', 'linux/riscv64', `${registry.domain}/test/multi:list`]);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /no matching manifest for linux\/riscv64/);
  });

  it('pulls Docker v2 schema 2 manifests and manifest lists', async () => {
    berth.ok(['tag', 'busybox', `${registry.domain}/test/schema2:1`]);
    berth.ok(['push', `${registry.domain}/test/schema2:1`]);
    const oci = (await registryManifest('test/schema2', '1')) as unknown as { config: { digest: string; size: number }; layers: Array<{ digest: string; size: number; mediaType: string }> };
    const client = new RegistryClient(registryEndpoint(registry.domain), 'test/schema2');
    const schema2 = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: oci.config.digest, size: oci.config.size },
      layers: oci.layers.map((l) => ({ mediaType: l.mediaType.endsWith('gzip') ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.docker.image.rootfs.diff.tar', digest: l.digest, size: l.size })),
    }));
    const schema2Digest = await client.putManifest('docker', 'application/vnd.docker.distribution.manifest.v2+json', schema2);
    const list = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
      manifests: [{ mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: schema2Digest, size: schema2.length, platform: { os: 'linux', architecture: 'amd64' } }],
    }));
    const listDigest = await client.putManifest('dockerlist', 'application/vnd.docker.distribution.manifest.list.v2+json', list);
    const busyboxId = JSON.parse(berth.ok(['image', 'inspect', 'busybox']))[0].Id;
    for (const [tag, digest] of [['docker', schema2Digest], ['dockerlist', listDigest]]) {
      const ref = `${registry.domain}/test/schema2:${tag}`;
      assert.match(berth.ok(['pull', ref]), new RegExp(`Digest: ${digest}`));
      assert.equal(JSON.parse(berth.ok(['image', 'inspect', ref]))[0].Id, busyboxId);
      assert.equal(berth.ok(['run', '--rm', ref, 'echo', tag]), `${tag}\n`);
    }
  });

  it('pull -a pulls every tag of the repository', () => {
    const repo = `${registry.domain}/test/alltags`;
    for (const tag of ['a', 'b']) {
      berth.ok(['tag', 'busybox', `${repo}:${tag}`]);
      berth.ok(['push', `${repo}:${tag}`]);
      berth.ok(['rmi', `${repo}:${tag}`]);
    }
    const out = berth.ok(['pull', '-a', repo]);
    assert.match(out, /a: Pulling from test\/alltags|a: Pulling from 127/);
    assert.match(out, new RegExp(`Status: (Downloaded newer image|Image is up to date) for ${repo}\n`));
    assert.deepEqual(berth.ok(['images', '--format', '{{.Tag}}', repo]).trim().split('\n').sort(), ['a', 'b'], berth.ok(['images', '-a']) + out);
    const none = berth.docker(['pull', '-a', `${registry.domain}/test/never-pushed`]);
    assert.notEqual(none.code, 0);
  });

  it('retries a layer download whose connection drops', async () => {
    const ref = `${registry.domain}/test/flaky:1`;
    berth.ok(['run', '--name', 'flaky-src', 'busybox', 'sh', '-c', 'head -c 2000000 /dev/urandom > /big']);
    berth.ok(['commit', 'flaky-src', ref]);
    berth.ok(['push', ref]);
    berth.ok(['rm', 'flaky-src']);
    berth.ok(['rmi', ref]);
    // A proxy in front of the registry that cuts the first layer download halfway.
    let cut = false;
    const proxy = createHttpServer((req, res) => {
      const upstream = httpRequest({ host: '127.0.0.1', port: Number(registry.domain.split(':')[1]), path: req.url, method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (!cut && req.method === 'GET' && /\/blobs\//.test(req.url ?? '') && Number(up.headers['content-length'] ?? 0) > 1_000_000) {
          cut = true;
          up.once('data', (chunk: Buffer) => {
            res.write(chunk);
            res.socket?.destroy();
            up.destroy();
          });
          return;
        }
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as { port: number }).port;
    try {
      // Not berth.ok: a blocking spawn would stall this process, and the proxy lives in it.
      const out = await new Promise<string>((resolve) => {
        const p = spawn(DOCKER, ['-H', `unix://${berth.socket}`, 'pull', `127.0.0.1:${port}/test/flaky:1`]);
        let text = '';
        p.stdout.on('data', (d) => (text += d));
        p.stderr.on('data', (d) => (text += d));
        p.on('close', () => resolve(text));
      });
      assert.ok(cut, 'the proxy did cut a download');
      assert.match(out, /Retrying in 1 second/);
      assert.match(out, /Status: Downloaded newer image/);
      assert.equal(berth.ok(['run', '--rm', `127.0.0.1:${port}/test/flaky:1`, 'sh', '-c', 'wc -c < /big']).trim(), '2000000');
    } finally {
      proxy.close();
    }
  });

  /**
   * A proxy in front of the registry that holds the first request `stall` picks (answering part of
   * it, or reading it and answering nothing) and counts every request; `held` resolves when it holds one, `released` when
   * Berth closed that request.
   */
  async function stallingProxy(stall: (req: IncomingMessage, upstreamLength: number) => 'head' | 'hold' | undefined) {
    let requests = 0;
    let holding = false;
    let onHeld!: () => void;
    let onReleased!: () => void;
    const held = new Promise<void>((r) => (onHeld = r));
    const released = new Promise<void>((r) => (onReleased = r));
    const hold = (req: IncomingMessage) => {
      holding = true;
      req.socket.once('close', onReleased);
      onHeld();
    };
    const proxy = createHttpServer((req, res) => {
      requests++;
      if (!holding && stall(req, 0) === 'hold') {
        // Read (so the socket notices when Berth closes it) but never answered.
        req.resume();
        return hold(req);
      }
      const upstream = httpRequest({ host: '127.0.0.1', port: Number(registry.domain.split(':')[1]), path: req.url, method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (!holding && stall(req, Number(up.headers['content-length'] ?? 0)) === 'head') {
          up.once('data', (chunk: Buffer) => {
            res.write(chunk);
            up.pause(); // the rest never comes
            hold(req);
          });
          return;
        }
        up.pipe(res);
      });
      // Berth closing a connection mid-request ends the proxied request too.
      upstream.on('error', () => res.destroy());
      req.on('error', () => upstream.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    return { domain: `127.0.0.1:${(proxy.address() as { port: number }).port}`, held, released, requests: () => requests, close: () => proxy.close() };
  }

  /** Starts a streaming API request and returns a function that drops the connection. */
  function startRequest(path: string): () => void {
    const req = httpRequest({ socketPath: berth.socket, method: 'POST', path, headers: { 'X-Registry-Auth': 'e30=' } }, (res) => res.resume());
    req.on('error', () => undefined);
    req.end();
    return () => req.destroy();
  }

  /** Fails when `p` does not settle within `ms`. */
  const within = <T>(p: Promise<T>, ms: number, what: string) =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms).unref())]);

  /**
   * After the client left, the daemon must not come back to the registry: its retries would
   * follow within a second (and its request timeout after 30 s), so a quiet stretch longer than
   * the first retry delay is the evidence.
   */
  const QUIET_MS = 2500;

  it('a client that goes away stops the pull: the download is dropped, nothing is retried or kept', async () => {
    const ref = `${registry.domain}/test/abort-pull:1`;
    berth.ok(['run', '--name', 'abort-pull-src', 'busybox', 'sh', '-c', 'head -c 4000000 /dev/urandom > /big']);
    berth.ok(['commit', 'abort-pull-src', ref]);
    berth.ok(['push', ref]);
    berth.ok(['rm', 'abort-pull-src']);
    berth.ok(['rmi', ref]);
    const proxy = await stallingProxy((req, length) => (req.method === 'GET' && /\/blobs\//.test(req.url ?? '') && length > 1_000_000 ? 'head' : undefined));
    try {
      const drop = startRequest(`/images/create?fromImage=${encodeURIComponent(`${proxy.domain}/test/abort-pull`)}&tag=1`);
      await within(proxy.held, 60_000, 'the layer download did not start');
      drop();
      await within(proxy.released, 10_000, 'Berth did not drop the download');
      const count = proxy.requests();
      await holdsFor(() => proxy.requests() === count, { what: 'no request after the client left', duration: QUIET_MS });
      assert.equal(berth.docker(['image', 'inspect', `${proxy.domain}/test/abort-pull:1`]).code, 1, 'nothing stored');
      assert.deepEqual(readdirSync(join(berth.dataRoot, 'image', 'tmp')), [], 'no leftovers');
    } finally {
      proxy.close();
    }
  });

  it('a client that goes away stops the push: the upload is dropped and nothing is retried or kept', async () => {
    const proxy = await stallingProxy((req) => (req.method === 'PATCH' || (req.method === 'PUT' && /\/blobs\/uploads\//.test(req.url ?? '')) ? 'hold' : undefined));
    try {
      const ref = `${proxy.domain}/test/abort-push:1`;
      berth.ok(['run', '--name', 'abort-push-src', 'busybox', 'sh', '-c', 'head -c 4000000 /dev/urandom > /big']);
      berth.ok(['commit', 'abort-push-src', ref]);
      berth.ok(['rm', 'abort-push-src']);
      const drop = startRequest(`/images/${encodeURIComponent(`${proxy.domain}/test/abort-push`)}/push?tag=1`);
      await within(proxy.held, 60_000, 'the layer upload did not start');
      drop();
      await within(proxy.released, 10_000, 'Berth did not drop the upload');
      const count = proxy.requests();
      await holdsFor(() => proxy.requests() === count, { what: 'no request after the client left', duration: QUIET_MS });
      assert.deepEqual(readdirSync(join(berth.dataRoot, 'image', 'tmp')), [], 'no compressed copy left behind');
      assert.deepEqual(inspect(ref).RepoDigests, [], 'no digest recorded');
      berth.ok(['rmi', ref]);
    } finally {
      proxy.close();
    }
  });

  it('rejects a tampered blob and stores nothing; unknown tags and unreachable registries fail clearly', async () => {
    const ref = `${registry.domain}/test/tamper:1`;
    berth.ok(['run', '--name', 'src2', 'busybox', 'sh', '-c', 'echo secret > /secret']);
    berth.ok(['commit', 'src2', ref]);
    berth.ok(['push', ref]);
    berth.ok(['rm', 'src2']);
    berth.ok(['rmi', ref]);
    // The top layer's blob is changed in the registry's storage.
    const hex = (await registryManifest('test/tamper', '1')).layers.at(-1)!.digest.slice(7);
    const data = join(registry.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    writeFileSync(data, 'not the layer');
    const r = berth.docker(['pull', ref]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /verification failed/);
    assert.equal(berth.docker(['image', 'inspect', ref]).code, 1, 'nothing stored');
    assert.equal(readdirSync(join(berth.dataRoot, 'image', 'tmp')).length, 0, 'no leftovers');
    const unknown = berth.docker(['pull', `${registry.domain}/test/busybox:nope`]);
    assert.match(unknown.stderr, new RegExp(`Error response from daemon: manifest for ${registry.domain}/test/busybox:nope not found: manifest unknown: manifest unknown`));
    const start = Date.now();
    const down = berth.docker(['pull', '127.0.0.1:1/x/y:1']);
    assert.match(down.stderr, /Error response from daemon: Get "http:\/\/127.0.0.1:1\/v2\/x\/y\/manifests\/1": dial tcp 127.0.0.1:1: connect: connection refused/);
    assert.ok(Date.now() - start < 5000);
    const bad = await api(berth.socket, 'POST', '/images/create?fromImage=UPPER&tag=1');
    assert.equal(bad.status, 400);
  });
});

describe('--registry-mirror for docker.io pulls', { skip: !existsSync(REGISTRY_BIN) && 'docker-registry is not installed' }, () => {
  let mirror: TestRegistry;
  let berth: Berth;
  before(async () => {
    mirror = await startRegistry();
    // The first mirror is down: it is skipped, the second one serves.
    berth = await startBerth({ extraArgs: ['--registry-mirror', 'http://127.0.0.1:1', '--registry-mirror', `http://${mirror.domain}`] });
  });
  after(async () => {
    await berth?.cleanup();
    await mirror?.stop();
  });

  it('pulls docker.io images from the mirror', () => {
    const id = JSON.parse(berth.ok(['image', 'inspect', 'busybox']))[0].Id;
    berth.ok(['tag', 'busybox', `${mirror.domain}/library/mirrored:1`]);
    berth.ok(['push', `${mirror.domain}/library/mirrored:1`]);
    berth.ok(['rmi', `${mirror.domain}/library/mirrored:1`]);
    const out = berth.ok(['pull', 'mirrored:1']);
    assert.match(out, /Status: Downloaded newer image for mirrored:1|Status: Image is up to date for mirrored:1/);
    assert.equal(JSON.parse(berth.ok(['image', 'inspect', 'mirrored:1']))[0].Id, id);
    const info = JSON.parse(berth.ok(['info', '--format', '{{json .RegistryConfig}}']));
    assert.deepEqual(info.Mirrors, ['http://127.0.0.1:1/', `http://${mirror.domain}/`]);
    assert.match(berth.ok(['info']), /Registry Mirrors:\n\s+http:\/\/127\.0\.0\.1:1\//);
  });
});

describe('HTTPS registries: certs dir CAs and client certificates, insecure loopback', { skip: !existsSync(REGISTRY_BIN) && 'docker-registry is not installed' }, () => {
  let berth: Berth;
  let registry: TestRegistry;
  let mtls: TestRegistry;
  let dir: string;
  let certsDir: string;
  let tls: ReturnType<typeof makeTlsFiles>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
    tls = makeTlsFiles(dir);
    registry = await startRegistry({ tls });
    mtls = await startRegistry({ tls: { ...tls, clientCa: tls.ca } });
    certsDir = join(dir, 'certs.d');
    berth = await startBerth({ extraArgs: ['--registry-certs-dir', certsDir] });
  });
  after(async () => {
    await berth?.cleanup();
    await registry?.stop();
    await mtls?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const certsFor = (domain: string, files: Record<string, string>) => {
    rmSync(join(certsDir, domain), { recursive: true, force: true });
    mkdirSync(join(certsDir, domain), { recursive: true });
    for (const [name, from] of Object.entries(files)) copyFileSync(from, join(certsDir, domain, name));
  };
  const roundTrip = (ref: string) => {
    const id = JSON.parse(berth.ok(['image', 'inspect', 'busybox']))[0].Id;
    berth.ok(['tag', 'busybox', ref]);
    berth.ok(['push', ref]);
    berth.ok(['rmi', ref]);
    berth.ok(['pull', ref]);
    assert.equal(JSON.parse(berth.ok(['image', 'inspect', ref]))[0].Id, id);
  };

  it("pushes and pulls over TLS verified with the registry's CA; a wrong CA is refused", () => {
    certsFor(registry.domain, { 'ca.crt': tls.ca });
    roundTrip(`${registry.domain}/tls/busybox:1`);
    // Another CA in the certs dir: the registry's certificate is not trusted.
    const other = mkdtempSync(join(dir, 'other-'));
    certsFor(registry.domain, { 'ca.crt': makeTlsFiles(other).ca });
    const r = berth.docker(['pull', `${registry.domain}/tls/busybox:1`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /certificate/);
  });

  it('without certificates a loopback registry is insecure, as with dockerd: unverified HTTPS', () => {
    rmSync(join(certsDir, registry.domain), { recursive: true, force: true });
    roundTrip(`${registry.domain}/tls/busybox:2`);
  });

  it('sends the client certificate from the certs dir to a registry that requires one', () => {
    certsFor(mtls.domain, { 'ca.crt': tls.ca });
    const refused = berth.docker(['push', `${mtls.domain}/mtls/busybox:1`]);
    assert.notEqual(refused.code, 0, 'no client certificate yet');
    certsFor(mtls.domain, { 'ca.crt': tls.ca, 'client.cert': tls.clientCert, 'client.key': tls.clientKey });
    roundTrip(`${mtls.domain}/mtls/busybox:1`);
  });
});
