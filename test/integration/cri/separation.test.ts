import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBerth, type Berth } from '../harness';
import { criClient, type CriClient } from './cri-client';

/** Kubernetes' containers are kept apart from the user's in the Docker API, yet an operator can see them. */

describe('Kubernetes containers beside the user’s', () => {
  let berth: Berth;
  let cri: CriClient;
  let podId: string;

  before(async () => {
    berth = await startBerth();
    cri = criClient(berth.criSocket);
    const config = { metadata: { name: 'apart', uid: 'uid-apart', namespace: 'default', attempt: 0 }, linux: { security_context: { namespace_options: { network: 'NODE' } } } };
    podId = (await cri.runtime.RunPodSandbox({ config })).pod_sandbox_id;
    await cri.runtime.StopPodSandbox({ pod_sandbox_id: podId }); // a stopped one: prune would take it if it could
  });
  after(async () => {
    cri?.close();
    await berth?.cleanup();
  });

  it('leaves them out of docker ps, prune and the counts, and lists them when the filter names their label', () => {
    const mine = berth.ok(['create', 'busybox', 'true']).trim();
    assert.deepEqual(berth.ok(['ps', '-aq', '--no-trunc']).trim().split('\n'), [mine]);
    assert.deepEqual(berth.ok(['ps', '-aq', '--no-trunc', '--filter', 'label=io.berth.namespace=k8s.io']).trim().split('\n'), [podId]);
    assert.match(berth.ok(['container', 'prune', '-f']), new RegExp(mine));
    assert.equal(berth.ok(['ps', '-aq', '--no-trunc', '--filter', 'label=io.berth.namespace']).trim(), podId);
    // By id or name a Kubernetes container answers as any other.
    assert.equal(berth.ok(['inspect', '--format', '{{.Name}}', podId]).trim(), '/k8s_POD_apart_default_uid-apart_0');
  });

  it('says so in docker info: the CRI socket, the count and how to list them', () => {
    const info = JSON.parse(berth.ok(['info', '--format', '{{json .}}']));
    assert.equal(info.Containers, 0);
    assert.ok(info.Labels.includes(`io.berth.cri.socket=unix://${berth.criSocket}`), info.Labels.join('\n'));
    assert.ok(info.Labels.some((l: string) => l.startsWith('io.berth.namespace.k8s.io=1 containers') && l.includes('--filter label=io.berth.namespace=k8s.io')), info.Labels.join('\n'));
    assert.match(berth.ok(['info']), /Labels:\n\s+io\.berth\.cri\.socket=/);
  });
});
