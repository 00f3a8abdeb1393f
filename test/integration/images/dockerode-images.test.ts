import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { startBerth, type Berth } from '../harness';
import { REGISTRY_BIN, startRegistry, type TestRegistry } from '../registry-fixture';

/** Images through dockerode: registry auth in its authconfig, progress streams, save/load, history, prune. */
describe('dockerode: images with a registry', { skip: !existsSync(REGISTRY_BIN) && 'docker-registry is not installed' }, () => {
  let berth: Berth;
  let docker: Docker;
  let registry: TestRegistry;
  const auth = { username: 'bob', password: 'hunter2' };
  before(async () => {
    berth = await startBerth();
    docker = new Docker({ socketPath: berth.socket });
    registry = await startRegistry({ user: auth.username, password: auth.password });
  });
  after(async () => {
    await berth?.cleanup();
    await registry?.stop();
  });

  /** Runs a progress stream to its end; the messages, or the first errorDetail as an error. */
  const follow = (stream: NodeJS.ReadableStream) =>
    new Promise<Array<Record<string, unknown>>>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, out: Array<Record<string, unknown>>) => (err ? reject(err) : resolve(out))));

  it('pushes with an authconfig, pulls it back, and refuses without one', async () => {
    const repo = `${registry.domain}/dockerode/box`;
    await docker.getImage('busybox').tag({ repo, tag: '1' });
    const image = docker.getImage(`${repo}:1`);
    const pushed = await follow(await image.push({ authconfig: { ...auth, serveraddress: registry.domain } }));
    const aux = pushed.find((m) => m.aux)?.aux as { Tag: string; Digest: string; Size: number };
    assert.equal(aux.Tag, '1');
    assert.match(aux.Digest, /^sha256:[0-9a-f]{64}$/);
    const id = (await image.inspect()).Id;
    await image.remove();
    // Refused before the progress stream starts: an HTTP 401, as dockerd answers.
    await assert.rejects(docker.pull(`${repo}:1`).then(follow), (err: Error & { statusCode?: number }) => err.statusCode === 401 && /unauthorized/.test(err.message));
    const pulled = await follow(await docker.pull(`${repo}:1`, { authconfig: { ...auth, serveraddress: registry.domain } }));
    assert.ok(pulled.some((m) => m.status === `Status: Downloaded newer image for ${repo}:1`), JSON.stringify(pulled));
    assert.equal((await docker.getImage(`${repo}:1`).inspect()).Id, id);
    assert.deepEqual((await docker.getImage(`${repo}:1`).inspect()).RepoDigests, [`${repo}@${aux.Digest}`]);
  });

  it('saves and loads through streams, reads history, prunes and removes with noprune', async () => {
    const saved: Buffer[] = [];
    for await (const chunk of await docker.getImage('busybox').get()) saved.push(chunk as Buffer);
    const id = (await docker.getImage('busybox').inspect()).Id;
    await docker.getImage('busybox').tag({ repo: 'reloaded', tag: 'x' });
    await docker.getImage('reloaded:x').remove();
    const { PassThrough } = await import('node:stream');
    const input = new PassThrough();
    input.end(Buffer.concat(saved));
    const loaded = await follow(await docker.loadImage(input));
    assert.ok(loaded.some((m) => String(m.stream ?? '').includes('Loaded image: busybox:latest')), JSON.stringify(loaded));
    assert.equal((await docker.getImage('busybox').inspect()).Id, id);
    const history = (await docker.getImage('busybox').history()) as Array<{ Id: string; Size: number }>;
    assert.equal(history[0].Id, id);

    // A child committed from a tagged parent: removing the child with noprune keeps the untagged parent.
    const c1 = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo 1 > /one'], HostConfig: { NetworkMode: 'none' } });
    await c1.start();
    await c1.wait();
    const parent = (await c1.commit({ repo: 'dockerode/parent', tag: '1' })) as { Id: string };
    const c2 = await docker.createContainer({ Image: 'dockerode/parent:1', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
    const child = (await c2.commit({ repo: 'dockerode/child', tag: '1' })) as { Id: string };
    await c1.remove();
    await c2.remove();
    await docker.getImage('dockerode/parent:1').remove();
    const removed = (await docker.getImage('dockerode/child:1').remove({ noprune: true })) as Array<{ Deleted?: string }>;
    assert.deepEqual(removed.filter((r) => r.Deleted === child.Id || r.Deleted === parent.Id).map((r) => r.Deleted), [child.Id]);
    assert.equal((await docker.getImage(parent.Id).inspect()).Id, parent.Id, 'noprune keeps the parent');
    const pruned = await docker.pruneImages();
    assert.ok((pruned.ImagesDeleted ?? []).some((r: { Deleted?: string }) => r.Deleted === parent.Id), JSON.stringify(pruned));
  });
});
