import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { freePort, startBerth, type Berth } from '../harness';
import { httpGet, waitFor } from '../wait';
import { criClient, grpcCode, type CriClient } from './cri-client';
import { writePodNetwork, type PodNetwork } from './pod-network';
import { CRI_TOOLS } from './cri-tools';

/**
 * The CRI streaming server driven by crictl (client-go's SPDY executor and port-forwarder, as
 * kubelet uses them): exec with separate streams, stdin, exit codes and a TTY; attach; and
 * port-forward into a CNI pod's network namespace. The RPCs' checks through the grpc client.
 */
const TOOLS = CRI_TOOLS;
const CRICTL = join(TOOLS, 'crictl');
const skip = existsSync(CRICTL) ? false : `crictl not found in ${TOOLS}; set BERTH_CRI_TOOLS to its folder`;
const hasScript = spawnSync('script', ['--version']).status === 0;
const PAUSE = 'berth.test/pause:streaming';

describe('CRI streaming: Exec, Attach, PortForward', { skip }, () => {
  let berth: Berth;
  let cri: CriClient;
  let pod: { id: string; config: object };
  let sleeper: string;
  let net: PodNetwork;

  const crictlArgs = (args: string[]) => ['--runtime-endpoint', `unix://${berth.criSocket}`, '--image-endpoint', `unix://${berth.criSocket}`, '--timeout', '20s', ...args];
  function crictl(args: string[], input?: string) {
    const r = spawnSync(CRICTL, crictlArgs(args), { encoding: 'utf8', timeout: 60_000, input: input ?? '' });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  const podConfig = (name: string) => ({
    metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 },
    hostname: name,
    log_directory: join(berth.dir, 'pod-logs', name),
    labels: {},
    annotations: {},
  });

  async function startCtr(name: string, extra: object) {
    const { container_id: id } = await cri.runtime.CreateContainer({
      pod_sandbox_id: pod.id,
      config: { metadata: { name, attempt: 0 }, image: { image: 'busybox:latest' }, log_path: `${name}.log`, labels: {}, annotations: {}, ...extra },
      sandbox_config: pod.config,
    });
    await cri.runtime.StartContainer({ container_id: id });
    return id as string;
  }

  before(async () => {
    berth = await startBerth({ extraArgs: ['--pod-infra-image', PAUSE] });
    berth.ok(['build', '-q', '-t', PAUSE, '-'], { input: `FROM busybox:latest\nENTRYPOINT ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]\n`, timeoutMs: 120_000 });
    cri = criClient(berth.criSocket);
    net = writePodNetwork(berth, 'streams');
    const config = podConfig('streams');
    const { pod_sandbox_id } = await cri.runtime.RunPodSandbox({ config });
    pod = { id: pod_sandbox_id, config };
    sleeper = await startCtr('sleeper', { command: ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'] });
  });
  after(async () => {
    cri?.close();
    await berth?.cleanup();
    net?.remove();
  });

  it('execs with stdout and stderr apart, and reports the exit code', () => {
    const ok = crictl(['exec', sleeper, 'sh', '-c', 'echo to-out; echo to-err >&2']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'to-out\n');
    assert.equal(ok.stderr, 'to-err\n');
    const failed = crictl(['exec', sleeper, 'sh', '-c', 'echo before; exit 3']);
    assert.notEqual(failed.code, 0);
    assert.equal(failed.stdout, 'before\n');
    assert.match(failed.stderr, /command terminated with exit code 3/);
  });

  it('passes stdin through and closes it at the client’s EOF', () => {
    const r = crictl(['exec', '-i', sleeper, 'sh', '-c', 'cat; echo "[eof]"'], 'line one\nline two\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'line one\nline two\n[eof]\n');
    const big = 'x'.repeat(300_000);
    const count = crictl(['exec', '-i', sleeper, 'wc', '-c'], big);
    assert.equal(count.code, 0, count.stderr);
    assert.equal(count.stdout.trim(), String(big.length));
    // The command ends while the client still sends: the session ends all the same.
    const endless = [CRICTL, ...crictlArgs(['exec', '-i', sleeper, 'head', '-c', '5'])].map((a) => `'${a}'`).join(' ');
    const early = spawnSync('sh', ['-c', `yes | ${endless}`], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(early.status, 0, early.stderr);
    assert.equal(early.stdout, 'y\ny\ny');
    const out = spawnSync(CRICTL, crictlArgs(['exec', sleeper, 'head', '-c', '3000000', '/dev/zero']), { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
    assert.equal(out.status, 0, String(out.stderr));
    assert.equal(out.stdout.length, 3_000_000);
  });

  it('kills an exec whose client went away, as containerd does', async () => {
    const client = spawn(CRICTL, crictlArgs(['exec', sleeper, 'sh', '-c', 'echo started; exec sleep 4242']), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    client.stdout.on('data', (d) => (out += d));
    await waitFor(() => out.includes('started'), { what: 'the exec to start' });
    const ps = async () => Buffer.from((await cri.runtime.ExecSync({ container_id: sleeper, cmd: ['ps', '-o', 'args'], timeout: 10 })).stdout).toString();
    assert.match(await ps(), /sleep 4242/);
    client.kill('SIGKILL');
    await waitFor(async () => !/sleep 4242/.test(await ps()), { what: 'the orphaned exec to be killed' });
  });

  it('reports a command that cannot start as an error', () => {
    const r = crictl(['exec', sleeper, 'no-such-command']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no-such-command/);
  });

  it('execs with a TTY (crictl exec -it, in a pty from script) and passes the terminal size', { skip: hasScript ? false : 'script(1) not installed' }, () => {
    const cmd = [CRICTL, ...crictlArgs(['exec', '-it', sleeper, 'sh', '-c', 'tty; stty size; echo done'])].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', `stty rows 33 cols 111; ${cmd}`, '/dev/null'], { encoding: 'utf8', timeout: 60_000, input: '' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    assert.match(r.stdout, /33 111/);
    assert.match(r.stdout, /done/);
  });

  it('attaches to a container’s stdin and output', async () => {
    const id = await startCtr('reader', { command: ['sh', '-c', 'while read l; do echo "got $l"; done; echo "stdin closed"'], stdin: true, stdin_once: true });
    const r = crictl(['attach', '-i', id], 'a\nb\n');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /got a\ngot b\n/);
    await waitFor(async () => (await cri.runtime.ContainerStatus({ container_id: id })).status.state === 'CONTAINER_EXITED', { what: 'the attached container to exit at stdin EOF' });
  });

  it('attaches to a container with a TTY (crictl attach -it, in a pty from script)', { skip: hasScript ? false : 'script(1) not installed' }, async () => {
    const id = await startCtr('ttyreader', { command: ['sh', '-c', 'while read l; do echo "got $l on $(tty)"; [ "$l" = quit ] && exit 0; done'], stdin: true, tty: true });
    const cmd = [CRICTL, ...crictlArgs(['attach', '-it', id])].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000, input: 'hello\nquit\n' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /got hello on \/dev\/pts\/\d+/);
    await waitFor(async () => (await cri.runtime.ContainerStatus({ container_id: id })).status.state === 'CONTAINER_EXITED', { what: 'the container to exit after "quit"' });
  });

  it('forwards a port into the pod’s network namespace (a CNI pod, the server on its loopback only)', async () => {
    await startCtr('httpd', { command: ['sh', '-c', 'mkdir -p /www && echo "hello from the pod" > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www'] });
    const port = await freePort();
    const pf = spawn(CRICTL, crictlArgs(['port-forward', pod.id, `${port}:8080`]), { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    pf.stdout.on('data', (d) => (output += d));
    pf.stderr.on('data', (d) => (output += d));
    try {
      await waitFor(() => output.includes('Forwarding from'), { what: `crictl port-forward to listen (output: ${output})` });
      const body = await waitFor(() => httpGet(`http://127.0.0.1:${port}/index.html`), { what: 'the page through the forward' });
      assert.equal(body, 'hello from the pod\n');
      // Several connections over the one SPDY session.
      const again = await Promise.all([1, 2, 3].map(() => httpGet(`http://127.0.0.1:${port}/index.html`)));
      assert.deepEqual(again, Array(3).fill('hello from the pod\n'));
    } finally {
      pf.kill();
    }
  });

  it('forwards a port of a host-network pod (kubelet’s hostNetwork static pods)', async () => {
    const config = { ...podConfig('hostnet'), linux: { security_context: { namespace_options: { network: 'NODE', pid: 'POD', ipc: 'POD' } } } };
    const { pod_sandbox_id: hostPod } = await cri.runtime.RunPodSandbox({ config });
    const target = await freePort();
    const { container_id: id } = await cri.runtime.CreateContainer({
      pod_sandbox_id: hostPod,
      config: { metadata: { name: 'httpd', attempt: 0 }, image: { image: 'busybox:latest' }, log_path: 'hostnet-httpd.log', command: ['sh', '-c', `mkdir -p /www && echo host-network > /www/index.html && exec httpd -f -p 127.0.0.1:${target} -h /www`], linux: config.linux },
      sandbox_config: config,
    });
    await cri.runtime.StartContainer({ container_id: id });
    const port = await freePort();
    const pf = spawn(CRICTL, crictlArgs(['port-forward', hostPod, `${port}:${target}`]), { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    pf.stdout.on('data', (d) => (output += d));
    pf.stderr.on('data', (d) => (output += d));
    try {
      await waitFor(() => output.includes('Forwarding from'), { what: `crictl port-forward to listen (output: ${output})` });
      assert.equal(await waitFor(() => httpGet(`http://127.0.0.1:${port}/index.html`), { what: 'the page through the forward' }), 'host-network\n');
    } finally {
      pf.kill();
      await cri.runtime.StopPodSandbox({ pod_sandbox_id: hostPod });
      await cri.runtime.RemovePodSandbox({ pod_sandbox_id: hostPod });
    }
  });

  it('reports a port nothing listens on through the forward’s error stream', async () => {
    const port = await freePort();
    const pf = spawn(CRICTL, crictlArgs(['port-forward', pod.id, `${port}:9`]), { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    pf.stdout.on('data', (d) => (output += d));
    pf.stderr.on('data', (d) => (output += d));
    const exited = new Promise((done) => pf.once('close', done));
    try {
      await waitFor(() => output.includes('Forwarding from'), { what: `crictl port-forward to listen (output: ${output})` });
      await assert.rejects(httpGet(`http://127.0.0.1:${port}/`));
      await waitFor(() => /error forwarding port 9 to pod [0-9a-f]{64}, uid : failed to connect to localhost:9 .*connection refused/.test(output), { what: `the forward's error (output: ${output})` });
      // client-go drops the whole session after a forward's error; crictl ends with it.
      await exited;
    } finally {
      pf.kill();
    }
  });

  it('checks requests as containerd does and serves each URL once', async () => {
    const code = (p: Promise<unknown>) => p.then(() => 'OK', grpcCode);
    assert.equal(await code(cri.runtime.Exec({ container_id: 'nope', cmd: ['true'], stdout: true })), status.NOT_FOUND);
    assert.equal(await code(cri.runtime.Exec({ container_id: sleeper, cmd: ['true'], tty: true, stderr: true })), status.INVALID_ARGUMENT);
    assert.equal(await code(cri.runtime.Exec({ container_id: sleeper, cmd: ['true'] })), status.INVALID_ARGUMENT);
    assert.equal(await code(cri.runtime.Attach({ container_id: 'nope', stdout: true })), status.NOT_FOUND);
    assert.equal(await code(cri.runtime.PortForward({ pod_sandbox_id: 'nope', port: [80] })), status.NOT_FOUND);
    const done = await startCtr('done', { command: ['true'] });
    await waitFor(async () => (await cri.runtime.ContainerStatus({ container_id: done })).status.state === 'CONTAINER_EXITED', { what: 'a container to exit' });
    await assert.rejects(cri.runtime.Exec({ container_id: done, cmd: ['true'], stdout: true }), (err: Error) => grpcCode(err) === status.FAILED_PRECONDITION && /container is in CONTAINER_EXITED state/.test(err.message));
    assert.equal(await code(cri.runtime.Attach({ container_id: done, stdout: true })), status.FAILED_PRECONDITION);
    const { url } = await cri.runtime.Exec({ container_id: sleeper, cmd: ['true'], stdout: true });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]+$/);
    const first = await upgrade(url);
    assert.equal(first.status, 101);
    assert.equal(first.headers['x-stream-protocol-version'], 'v4.channel.k8s.io');
    assert.equal((await upgrade(url)).status, 404);
    const v1alpha2 = criClient(berth.criSocket, 'v1alpha2');
    try {
      const r = await v1alpha2.runtime.PortForward({ pod_sandbox_id: pod.id, port: [8080] });
      assert.match(r.url, /\/portforward\//);
    } finally {
      v1alpha2.close();
    }
  });
});

/** The first answer to a SPDY upgrade of `url`; the connection is then dropped. */
function upgrade(url: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolveAnswer, reject) => {
    const req = request(url, { method: 'POST', headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' } });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolveAnswer({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.on('response', (res) => {
      res.resume();
      resolveAnswer({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.on('error', reject);
    req.end();
  });
}
