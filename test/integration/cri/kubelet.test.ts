import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, startBerth, type Berth } from '../harness';
import { httpGet, waitFor } from '../wait';
import { criClient, type CriClient } from './cri-client';
import { CRI_TOOLS, kubeletSkipReason, startKubelet, waitForKubeletLog, type Kubelet } from './kubelet-fixture';
import { writePodNetwork, type PodNetwork } from './pod-network';

/**
 * Kubernetes' own kubelet (1.20.2, CRI runtime.v1alpha2, no API server) on Berth's CRI: a static
 * pod dropped into its folder runs (a busybox that logs a line a second and serves a port), its
 * log is where kubelet reads it, kubelet's runtime calls all succeed, and when the manifest goes
 * kubelet stops and removes the pod and nothing of it is left.
 */
const skip = kubeletSkipReason();

function crictl(socket: string, args: string[], timeoutMs = 60_000) {
  const r = spawnSync(join(CRI_TOOLS, 'crictl'), ['--runtime-endpoint', `unix://${socket}`, '--image-endpoint', `unix://${socket}`, '--timeout', '30s', ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * The static pod: a line a second on stdout and busybox httpd on `port` serving a marker page,
 * beside a container that exits at once.
 */
function manifest(name: string, port: number, hostNetwork: boolean): string {
  const script = `mkdir -p /www && echo hello-from-${name} > /www/index.html && httpd -p ${port} -h /www; i=0; while true; do i=$((i+1)); echo line $i; sleep 1; done`;
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      hostNetwork,
      terminationGracePeriodSeconds: 1,
      containers: [
        { name: 'logger', image: 'busybox:latest', imagePullPolicy: 'Never', command: ['/bin/sh', '-c', script], ports: [{ containerPort: port, protocol: 'TCP' }] },
        // Exits at once: kubelet reads its exit code and starts it again (restartPolicy Always).
        { name: 'once', image: 'busybox:latest', imagePullPolicy: 'Never', command: ['/bin/sh', '-c', 'echo ran once; exit 7'] },
      ],
    },
  });
}

/** kubelet 1.20 answers these with `E...` lines naming the CRI method when a runtime call fails. */
function failedRuntimeCalls(k: Kubelet): string[] {
  const log = readFileSync(k.logFile, 'utf8');
  return [...new Set(log.split('\n').filter((l) => /^E.*remote_(runtime|image)\.go/.test(l)))];
}

/** Cgroups (any controller, any parent) named after one of `ids`. */
function cgroupsOf(ids: string[]): string[] {
  const r = spawnSync('find', ['/sys/fs/cgroup', '-maxdepth', '5', '-type', 'd', '(', ...ids.flatMap((id, i) => [...(i ? ['-o'] : []), '-name', id]), ')'], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').filter(Boolean);
}

// A pod on its own network (the CNI bridge of writePodNetwork, reached at its IP from here), and
// one on the node's network as kubelet's own static pods (control plane) usually are.
for (const hostNetwork of [false, true]) describe(`kubelet 1.20 runs a static pod on Berth’s CRI (${hostNetwork ? 'host network' : 'pod network'})`, { skip, timeout: 900_000 }, () => {
  let berth: Berth;
  let net: PodNetwork | undefined;
  let kubelet: Kubelet;
  let cri: CriClient;
  const name = `logger-${randomBytes(3).toString('hex')}`;
  let podName: string;
  let port: number;
  let podId: string;
  let containerId: string;

  before(async () => {
    // The pods' infra containers run Berth's own pause image (nothing to pull, as kubelet expects).
    berth = await startBerth();
    // kubelet waits for NetworkReady (a CNI config) even for a pod on the host's network.
    net = writePodNetwork(berth, 'kubelet');
    cri = criClient(berth.criSocket);
    kubelet = await startKubelet(berth);
    podName = `${name}-${kubelet.nodeName}`;
    port = await freePort();
  });
  after(async () => {
    await kubelet?.cleanup();
    // Whatever a failed step left: the pods are the daemon's, kubelet is gone.
    if (cri) {
      for (const p of (await cri.runtime.ListPodSandbox({}).catch(() => ({ items: [] }))).items) {
        await cri.runtime.StopPodSandbox({ pod_sandbox_id: p.id }).catch(() => undefined);
        await cri.runtime.RemovePodSandbox({ pod_sandbox_id: p.id }).catch(() => undefined);
      }
      cri.close();
    }
    await berth?.cleanup();
    net?.remove();
  });

  it('starts the pod of a manifest dropped into staticPodPath', async () => {
    writeFileSync(join(kubelet.staticPodPath, `${name}.json`), manifest(name, port, hostNetwork));
    const running = await waitFor(
      async () => (await cri.runtime.ListContainers({ filter: { state: { state: 'CONTAINER_RUNNING' }, label_selector: { 'io.kubernetes.pod.name': podName, 'io.kubernetes.container.name': 'logger' } } })).containers[0],
      { what: `kubelet to run ${podName}'s container`, timeout: 180_000, interval: 500 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- kubelet ---\n${kubelet.log()}\n--- berthd ---\n${berth.log()}`);
    });
    containerId = running.id;
    podId = running.pod_sandbox_id;
    assert.equal(running.metadata.name, 'logger');
    assert.equal(running.labels['io.kubernetes.container.name'], 'logger');

    const { status: pod } = await cri.runtime.PodSandboxStatus({ pod_sandbox_id: podId });
    assert.equal(pod.state, 'SANDBOX_READY');
    assert.equal(pod.metadata.name, podName);
    assert.equal(pod.metadata.namespace, 'default');
    assert.equal(pod.labels.app, name);
    assert.equal(pod.labels['io.kubernetes.pod.uid'], pod.metadata.uid);
    // crictl, a second client, sees the same pod and container.
    assert.equal(crictl(berth.criSocket, ['pods', '-q', '--name', podName]).stdout.trim(), podId);
    assert.match(crictl(berth.criSocket, ['ps', '-q', '--pod', podId, '--name', '^logger$']).stdout, new RegExp(`^${containerId}$`, 'm'));
    await waitForKubeletLog(kubelet, new RegExp(`ContainerStarted.*${containerId}`), 'kubelet to see the container start');
  });

  it('writes the container log in the CRI format at the path kubelet gave, and crictl logs reads it', async () => {
    const { status } = await cri.runtime.ContainerStatus({ container_id: containerId });
    const { status: pod } = await cri.runtime.PodSandboxStatus({ pod_sandbox_id: podId });
    // kubelet's layout: <pod log root>/<namespace>_<pod>_<uid>/<container>/<restart count>.log
    assert.equal(dirname(dirname(status.log_path)).split('/').pop(), `default_${podName}_${pod.metadata.uid}`);
    assert.match(status.log_path, /\/logger\/0\.log$/);
    const lines = await waitFor(
      () => {
        const found = existsSync(status.log_path) ? readFileSync(status.log_path, 'utf8').match(/^\S+ stdout F line \d+$/gm) : null;
        return found && found.length >= 2 ? found : undefined;
      },
      { what: `two log lines in ${status.log_path}`, timeout: 30_000, interval: 200 },
    );
    assert.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) stdout F line 1$/);
    const logs = crictl(berth.criSocket, ['logs', '--tail', '50', containerId]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /^line 1$/m);
  });

  it('restarts a container that exited, with its exit code and one log per attempt', async () => {
    // kubelet's first back-off is 10 s; it keeps only the last exited attempt, so look at that one.
    const exited = await waitFor(
      async () => {
        const all = (await cri.runtime.ListContainers({ filter: { pod_sandbox_id: podId, label_selector: { 'io.kubernetes.container.name': 'once' } } })).containers;
        if (all.length < 2) return undefined;
        const done = all.filter((c: { state: string }) => c.state === 'CONTAINER_EXITED').sort((a: { metadata: { attempt: number } }, b: { metadata: { attempt: number } }) => b.metadata.attempt - a.metadata.attempt)[0];
        return done ? (await cri.runtime.ContainerStatus({ container_id: done.id })).status : undefined;
      },
      { what: 'kubelet to start "once" a second time', timeout: 90_000, interval: 500 },
    );
    assert.equal(exited.exit_code, 7);
    assert.equal(exited.reason, 'Error');
    assert.match(exited.log_path, new RegExp(`/once/${exited.metadata.attempt}\\.log$`));
    assert.match(readFileSync(exited.log_path, 'utf8'), /^\S+ stdout F ran once$/m);
  });

  it('runs a command in the container (crictl exec --sync) and serves the pod’s port', async () => {
    const r = crictl(berth.criSocket, ['exec', '-s', containerId, 'sh', '-c', `echo in-$(hostname); wget -qO- 127.0.0.1:${port}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^in-/m);
    assert.match(r.stdout, new RegExp(`^hello-from-${name}$`, 'm'));
    // The pod's DNS is kubelet's: the servers and search domains of its resolvConf.
    const resolv = crictl(berth.criSocket, ['exec', '-s', containerId, 'cat', '/etc/resolv.conf']);
    assert.equal(resolv.code, 0, resolv.stderr);
    assert.match(resolv.stdout, /^nameserver 127\.0\.0\.53$/m);
    assert.match(resolv.stdout, /^search berth\.test$/m);
    const failing = await cri.runtime.ExecSync({ container_id: containerId, cmd: ['sh', '-c', 'echo oops >&2; exit 3'], timeout: 10 });
    assert.equal(failing.exit_code, 3);
    assert.equal(Buffer.from(failing.stderr).toString(), 'oops\n');
    // From outside the pod: loopback on the host's network, else the pod's address on its bridge.
    const ip: string = (await cri.runtime.PodSandboxStatus({ pod_sandbox_id: podId })).status.network?.ip ?? '';
    if (!hostNetwork) assert.equal(ip.split('.').slice(0, 3).join('.'), net!.subnet.split('.').slice(0, 3).join('.'));
    const url = `http://${hostNetwork ? '127.0.0.1' : ip}:${port}/`;
    assert.equal((await waitFor(() => httpGet(url), { what: url, timeout: 15_000, interval: 200 })).trim(), `hello-from-${name}`);
  });

  it('execs into the container through the streaming server (crictl exec, with stdin)', () => {
    const r = crictl(berth.criSocket, ['exec', containerId, 'sh', '-c', 'echo streamed-$((6*7))']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'streamed-42\n');
    const piped = spawnSync(join(CRI_TOOLS, 'crictl'), ['--runtime-endpoint', `unix://${berth.criSocket}`, 'exec', '-i', containerId, 'tr', 'a-z', 'A-Z'], { input: 'through stdin\n', encoding: 'utf8', timeout: 60_000 });
    assert.equal(piped.status, 0, piped.stderr);
    assert.equal(piped.stdout, 'THROUGH STDIN\n');
  });

  it('forwards a loopback port to the pod’s port (crictl port-forward)', async () => {
    const local = await freePort();
    const fwd = spawn(join(CRI_TOOLS, 'crictl'), ['--runtime-endpoint', `unix://${berth.criSocket}`, 'port-forward', podId, `${local}:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    fwd.stdout!.on('data', (d) => (out += d));
    fwd.stderr!.on('data', (d) => (out += d));
    try {
      const body = await waitFor(() => httpGet(`http://127.0.0.1:${local}/`), { what: `the forwarded port ${local}`, timeout: 30_000, interval: 200 }).catch((err: Error) => {
        throw new Error(`${err.message}\n--- crictl port-forward ---\n${out}`);
      });
      assert.equal(body.trim(), `hello-from-${name}`);
      // A second connection over the same forward.
      assert.equal((await httpGet(`http://127.0.0.1:${local}/`)).trim(), `hello-from-${name}`);
    } finally {
      fwd.kill('SIGTERM');
    }
  });

  it('made every runtime call kubelet needed without an error', () => {
    assert.deepEqual(failedRuntimeCalls(kubelet), []);
  });

  it('stops and removes the pod when its manifest goes, its logs and cgroups with it', async () => {
    const { status } = await cri.runtime.ContainerStatus({ container_id: containerId });
    const podLogDir = dirname(dirname(status.log_path));
    rmSync(join(kubelet.staticPodPath, `${name}.json`));
    await waitForKubeletLog(kubelet, new RegExp(`SyncLoop \\(REMOVE, "file"\\): "${podName}_default`), 'kubelet to drop the pod');
    // kubelet stops the pod at once and removes it at its next garbage collection (every minute).
    await waitFor(async () => (await cri.runtime.ListPodSandbox({ filter: { label_selector: { 'io.kubernetes.pod.name': podName } } })).items.length === 0, {
      what: `kubelet to remove ${podName}`,
      timeout: 240_000,
      interval: 1000,
    });
    assert.deepEqual((await cri.runtime.ListContainers({ filter: { pod_sandbox_id: podId } })).containers, []);
    assert.equal(berth.docker(['inspect', containerId]).code, 1);
    assert.equal(berth.docker(['inspect', podId]).code, 1);
    assert.deepEqual(cgroupsOf([podId, containerId]), []);
    await waitFor(() => !existsSync(podLogDir), { what: `kubelet to remove ${podLogDir}`, timeout: 60_000, interval: 500 });
    // kubelet's pod worker may still stop a sandbox its garbage collector has just removed: that
    // NotFound is containerd's answer too (and kubelet's own race); anything else is a failure.
    assert.deepEqual(
      failedRuntimeCalls(kubelet).filter((l) => !/StopPodSandbox "[0-9a-f]+" from runtime service failed: rpc error: code = NotFound/.test(l)),
      [],
    );
  });

  it('leaves no mount, iptables chain or file of kubelet behind once stopped', async () => {
    await kubelet.stop();
    assert.deepEqual(kubelet.newChains(), []);
    await kubelet.cleanup();
    assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${kubelet.dir}`), false);
    assert.equal(existsSync(kubelet.dir), false);
    assert.deepEqual(kubelet.newSharedEntries(), []);
  });
});
