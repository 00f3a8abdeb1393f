import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { startBerth, type Berth } from '../harness';
import { criClient, grpcCode, type CriClient } from './cri-client';

/** Pod sandboxes over the CRI: the infra container (Berth’s own pause image), metadata, filters, stop and remove. */

function podConfig(name: string, extra: object = {}) {
  return {
    metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 1 },
    hostname: name,
    log_directory: '',
    labels: { app: name, tier: 'test' },
    annotations: { 'example.com/note': `pod ${name}` },
    linux: {},
    ...extra,
  };
}

describe('CRI pod sandboxes', () => {
  let berth: Berth;
  let cri: CriClient;

  before(async () => {
    berth = await startBerth();
    cri = criClient(berth.criSocket);
  });
  after(async () => {
    cri?.close();
    await berth?.cleanup();
  });

  it('runs a host-network pod whose infra container holds its namespaces, and reports it', async () => {
    const config = podConfig('web', { linux: { security_context: { namespace_options: { network: 'NODE', pid: 'POD', ipc: 'POD' } } } });
    const { pod_sandbox_id: id } = await cri.runtime.RunPodSandbox({ config });
    assert.match(id, /^[0-9a-f]{64}$/);
    const { status: s } = await cri.runtime.PodSandboxStatus({ pod_sandbox_id: id });
    assert.equal(s.state, 'SANDBOX_READY');
    assert.deepEqual(s.metadata, config.metadata);
    assert.deepEqual(s.labels, config.labels);
    assert.deepEqual(s.annotations, config.annotations);
    assert.equal(s.linux.namespaces.options.network, 'NODE');
    assert.ok(BigInt(s.created_at) > BigInt(Date.now() - 600_000) * 1_000_000n);
    // The infra container is a real running container of the engine, named as kubelet's runtimes name it.
    const inspect = JSON.parse(berth.ok(['inspect', id]))[0];
    assert.equal(inspect.State.Running, true);
    assert.equal(inspect.Name, '/k8s_POD_web_default_uid-web_1');
    assert.equal(inspect.HostConfig.NetworkMode, 'host');

    // The same name again is refused while the first exists.
    await assert.rejects(cri.runtime.RunPodSandbox({ config }), (err) => grpcCode(err) === status.FAILED_PRECONDITION);

    await cri.runtime.StopPodSandbox({ pod_sandbox_id: id });
    await cri.runtime.StopPodSandbox({ pod_sandbox_id: id }); // idempotent
    assert.equal((await cri.runtime.PodSandboxStatus({ pod_sandbox_id: id })).status.state, 'SANDBOX_NOTREADY');
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: id });
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: id }); // already gone: fine
    await assert.rejects(cri.runtime.PodSandboxStatus({ pod_sandbox_id: id }), (err) => grpcCode(err) === status.NOT_FOUND);
    assert.equal(berth.docker(['inspect', id]).code, 1);
  });

  it('lists pods by id prefix, state and labels', async () => {
    const host = { linux: { security_context: { namespace_options: { network: 'NODE' } } } };
    const a = (await cri.runtime.RunPodSandbox({ config: podConfig('list-a', { ...host, labels: { app: 'a', tier: 'front' } }) })).pod_sandbox_id;
    const b = (await cri.runtime.RunPodSandbox({ config: podConfig('list-b', { ...host, labels: { app: 'b', tier: 'front' } }) })).pod_sandbox_id;
    await cri.runtime.StopPodSandbox({ pod_sandbox_id: b });
    const ids = async (filter: object) => (await cri.runtime.ListPodSandbox({ filter })).items.map((p: { id: string }) => p.id).sort();
    assert.deepEqual(await ids({ label_selector: { tier: 'front' } }), [a, b].sort());
    assert.deepEqual(await ids({ label_selector: { tier: 'front' }, state: { state: 'SANDBOX_READY' } }), [a]);
    assert.deepEqual(await ids({ state: { state: 'SANDBOX_NOTREADY' }, label_selector: { app: 'b' } }), [b]);
    assert.deepEqual(await ids({ id: a.slice(0, 12) }), [a]);
    const item = (await cri.runtime.ListPodSandbox({ filter: { id: a } })).items[0];
    assert.equal(item.metadata.name, 'list-a');
    assert.equal(item.labels.app, 'a');
    for (const id of [a, b]) await cri.runtime.RemovePodSandbox({ pod_sandbox_id: id });
  });

  it('answers the same through runtime.v1alpha2', async () => {
    const old = criClient(berth.criSocket, 'v1alpha2');
    try {
      const { pod_sandbox_id: id } = await old.runtime.RunPodSandbox({ config: podConfig('alpha', { linux: { security_context: { namespace_options: { network: 'NODE' } } } }) });
      const { status: s } = await old.runtime.PodSandboxStatus({ pod_sandbox_id: id });
      assert.equal(s.state, 'SANDBOX_READY');
      assert.equal(s.metadata.name, 'alpha');
      await old.runtime.StopPodSandbox({ pod_sandbox_id: id });
      await old.runtime.RemovePodSandbox({ pod_sandbox_id: id });
    } finally {
      old.close();
    }
  });
});

describe('Berth’s own pod infra image', () => {
  let berth: Berth;
  let cri: CriClient;

  before(async () => {
    berth = await startBerth({ busybox: false });
    cri = criClient(berth.criSocket);
  });
  after(async () => {
    cri?.close();
    await berth?.cleanup();
  });

  it('is made locally on first need, pinned, and ends on SIGTERM when the pod stops', async () => {
    const version = JSON.parse(berth.ok(['version', '--format', '{{json .Server}}'])).Version;
    const ref = `berth.local/pause:${version}`;
    assert.equal(berth.docker(['image', 'inspect', ref]).code, 1, 'not there before a pod needs it');
    const config = podConfig('own-pause', { linux: { security_context: { namespace_options: { network: 'NODE' } } } });
    const { pod_sandbox_id: id } = await cri.runtime.RunPodSandbox({ config });
    const image = JSON.parse(berth.ok(['image', 'inspect', ref]))[0];
    assert.deepEqual(image.Config.Entrypoint, ['/pause']);
    assert.equal(JSON.parse(berth.ok(['inspect', id]))[0].Config.Image, ref);
    assert.equal((await cri.image.ImageStatus({ image: { image: ref } })).image.pinned, true);
    await cri.runtime.StopPodSandbox({ pod_sandbox_id: id });
    // SIGTERM ended it (0), not the SIGKILL after the grace period (137).
    assert.equal(JSON.parse(berth.ok(['inspect', id]))[0].State.ExitCode, 0);
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: id });
  });
});
