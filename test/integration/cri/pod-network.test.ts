import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status as grpcStatus } from '@grpc/grpc-js';
import { freePort, startBerth, type Berth } from '../harness';
import { waitFor } from '../wait';
import { criClient, grpcCode, type CriClient } from './cri-client';
import { writePodNetwork, type PodNetwork } from './pod-network';

/** Pods on kubelet's CNI network: the address, port mappings, DNS, teardown and a berthd restart. */

describe('CRI pod network', () => {
  let berth: Berth;
  let cri: CriClient;
  let net: PodNetwork | undefined;
  let logRoot: string;

  const podConfig = (name: string, extra: object = {}) => ({
    metadata: { name, uid: `uid-${name}`, namespace: 'net', attempt: 0 },
    hostname: `host-${name}`,
    log_directory: join(logRoot, name),
    linux: {},
    ...extra,
  });
  /** A pod serving `index.html` saying `text` on port 80 (busybox httpd in a CRI container). */
  async function webPod(name: string, text: string, extra: object = {}) {
    const config = podConfig(name, extra);
    const { pod_sandbox_id: podId } = await cri.runtime.RunPodSandbox({ config });
    const script = `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`;
    const { container_id: id } = await cri.runtime.CreateContainer({
      pod_sandbox_id: podId,
      config: { metadata: { name: 'web', attempt: 0 }, image: { image: 'busybox:latest' }, command: ['sh', '-c', script], log_path: 'web.log', linux: {} },
      sandbox_config: config,
    });
    await cri.runtime.StartContainer({ container_id: id });
    return { podId, id, config };
  }
  const ipOf = async (podId: string) => (await cri.runtime.PodSandboxStatus({ pod_sandbox_id: podId })).status.network.ip as string;
  const fetch = (url: string) => spawnSync('wget', ['-q', '-T', '2', '-O', '-', url], { encoding: 'utf8' }).stdout ?? '';
  const exec = async (id: string, cmd: string[]) => Buffer.from((await cri.runtime.ExecSync({ container_id: id, cmd, timeout: 10 })).stdout).toString();

  before(async () => {
    logRoot = mkdtempSync(join(tmpdir(), 'berth-cri-logs-'));
    berth = await startBerth();
    cri = criClient(berth.criSocket);
  });
  after(async () => {
    cri?.close();
    await berth?.cleanup();
    net?.remove();
    rmSync(logRoot, { recursive: true, force: true });
  });

  it('refuses a pod network while kubelet’s CNI directory is empty, leaving nothing behind', async () => {
    await assert.rejects(cri.runtime.RunPodSandbox({ config: podConfig('early') }), (err) => grpcCode(err) === grpcStatus.UNAVAILABLE && /cni config uninitialized/.test(String(err)));
    assert.equal(berth.ok(['ps', '-aq', '--filter', 'label=io.berth.namespace=k8s.io']).trim(), '');
  });

  it('gives a pod an address on the CNI bridge, its port mapping, DNS config and hostname', async () => {
    net = writePodNetwork(berth);
    const hostPort = await freePort();
    const dns = { servers: ['10.96.0.10'], searches: ['net.svc.cluster.local', 'svc.cluster.local'], options: ['ndots:5'] };
    const pod = await webPod('web', 'hello-from-pod', { port_mappings: [{ protocol: 'TCP', container_port: 80, host_port: hostPort, host_ip: '' }], dns_config: dns });
    const ip = await ipOf(pod.podId);
    assert.ok(ip.startsWith(net.subnet.replace(/0\/24$/, '')), `${ip} in ${net.subnet}`);
    assert.equal(await waitFor(() => (fetch(`http://${ip}/`).includes('hello-from-pod') ? 'ok' : undefined), { what: 'the pod to serve' }), 'ok');
    // kubelet's hostPort, through the portmap plugin, on the host's address on the pod bridge.
    assert.match(fetch(`http://${net.gateway}:${hostPort}/`), /hello-from-pod/);
    const resolv = await exec(pod.id, ['cat', '/etc/resolv.conf']);
    assert.match(resolv, /^nameserver 10\.96\.0\.10$/m);
    assert.match(resolv, /^search net\.svc\.cluster\.local svc\.cluster\.local$/m);
    assert.match(resolv, /^options ndots:5$/m);
    assert.equal((await exec(pod.id, ['hostname'])).trim(), 'host-web');
    assert.match(await exec(pod.id, ['ip', '-4', 'addr', 'show', 'eth0']), new RegExp(`inet ${ip.replace(/\./g, '\\.')}/24`));

    await cri.runtime.StopPodSandbox({ pod_sandbox_id: pod.podId });
    assert.equal(await ipOf(pod.podId), '');
    assert.equal(spawnSync('ip', ['-o', 'link', 'show', 'master', net.bridge], { encoding: 'utf8' }).stdout.trim(), '', 'the pod’s veth is gone');
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod.podId });
  });

  it('keeps a pod running with its address across a berthd restart, then tears it down', async () => {
    net ??= writePodNetwork(berth);
    const pod = await webPod('survivor', 'still-here');
    const ip = await ipOf(pod.podId);
    await waitFor(() => (fetch(`http://${ip}/`).includes('still-here') ? 'ok' : undefined), { what: 'the pod to serve' });
    await berth.restart();
    cri.close();
    cri = criClient(berth.criSocket);
    const { status } = await cri.runtime.PodSandboxStatus({ pod_sandbox_id: pod.podId });
    assert.equal(status.state, 'SANDBOX_READY');
    assert.equal(status.network.ip, ip);
    assert.equal((await cri.runtime.ContainerStatus({ container_id: pod.id })).status.state, 'CONTAINER_RUNNING');
    assert.match(fetch(`http://${ip}/`), /still-here/);
    await cri.runtime.StopPodSandbox({ pod_sandbox_id: pod.podId });
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod.podId });
    assert.equal(spawnSync('ip', ['-o', 'link', 'show', 'master', net.bridge], { encoding: 'utf8' }).stdout.trim(), '');
  });
});
