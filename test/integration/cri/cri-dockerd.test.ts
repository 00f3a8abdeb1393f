import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, startBerth, type Berth } from '../harness';
import { waitFor } from '../wait';
import { CRI_TOOLS } from './cri-tools';

/**
 * Kubernetes' Docker shim (cri-dockerd) in front of Berth, driven with crictl as kubelet drives
 * it. The tools are built for these machines in ../shared/tools/cri beside the repository
 * (BERTH_CRI_TOOLS overrides); without them the suite is skipped.
 */
const TOOLS = CRI_TOOLS;
const missing = ['cri-dockerd', 'crictl'].filter((b) => !existsSync(join(TOOLS, b)));
const skip = missing.length ? `CRI tools not found in ${TOOLS} (missing ${missing.join(', ')}); set BERTH_CRI_TOOLS to their folder` : false;

const PAUSE = 'berth.local/pause:test';
const IMAGE = 'busybox:latest';

describe('cri-dockerd on Berth (crictl)', { skip }, () => {
  let berth: Berth;
  let shim: ChildProcess | undefined;
  let endpoint: string;
  let dir: string;
  let podId = '';
  let ctrId = '';

  const crictl = (args: string[], timeoutMs = 60_000) => {
    const r = spawnSync(join(TOOLS, 'crictl'), ['--runtime-endpoint', endpoint, '--image-endpoint', endpoint, '--timeout', '30s', ...args], { encoding: 'utf8', timeout: timeoutMs });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const ok = (args: string[]) => {
    const r = crictl(args);
    assert.equal(r.code, 0, `crictl ${args.join(' ')}: ${r.stderr}\n--- cri-dockerd:\n${shimLog.slice(-3000)}`);
    return r.stdout;
  };
  /** Polls `fn` until it returns a value (not undefined) or the deadline passes. */
  const until = <T>(what: string, fn: () => T | undefined, ms = 30_000): Promise<T> =>
    waitFor(() => {
      const v = fn();
      return v === undefined ? undefined : { v };
    }, { what, timeout: ms, interval: 200 }).then(
      (r) => r.v,
      (err: Error) => {
        throw new Error(`${err.message}\n--- cri-dockerd:\n${shimLog.slice(-3000)}`);
      },
    );
  let shimLog = '';

  before(async () => {
    berth = await startBerth();
    dir = join(berth.dir, 'cri');
    mkdirSync(join(dir, 'logs'), { recursive: true });
    // The infra ("pause") container must keep running until it is told to stop.
    const pause = berth.docker(['build', '-q', '-t', PAUSE, '-'], {
      input: `FROM ${IMAGE}\nENTRYPOINT ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]\n`,
      timeoutMs: 120_000,
    });
    assert.equal(pause.code, 0, pause.stderr);
    endpoint = `unix://${join(dir, 'cri.sock')}`;
    shim = spawn(
      join(TOOLS, 'cri-dockerd'),
      [
        '--container-runtime-endpoint', endpoint,
        '--docker-endpoint', berth.host,
        '--cri-dockerd-root-directory', join(dir, 'root'),
        '--pod-infra-container-image', PAUSE,
        '--streaming-bind-addr', `127.0.0.1:${await freePort()}`,
        '--network-plugin=',
        '--hairpin-mode', 'none',
      ],
      { env: { ...process.env, CRI_DOCKERD_MIN_OOM_ADJ: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    shim.stdout!.on('data', (d: Buffer) => (shimLog += d.toString()));
    shim.stderr!.on('data', (d: Buffer) => (shimLog += d.toString()));
    await until('cri-dockerd to answer', () => (crictl(['version'], 5_000).code === 0 ? true : undefined), 60_000);
  });

  after(async () => {
    if (shim && shim.exitCode === null) {
      if (podId) crictl(['rmp', '-f', podId]);
      shim.kill('SIGTERM');
      await new Promise((r) => (shim!.exitCode === null ? shim!.once('exit', r) : r(undefined)));
    }
    await berth?.cleanup();
  });

  it('runs a pod sandbox whose infra container carries the shim labels', () => {
    const pod = join(dir, 'pod.json');
    writeFileSync(pod, JSON.stringify({ metadata: { name: 'demo', namespace: 'default', uid: 'demo-uid', attempt: 0 }, labels: { tier: 'test' }, log_directory: join(dir, 'logs'), linux: {} }));
    podId = ok(['runp', pod]).trim();
    assert.match(podId, /^[0-9a-f]{64}$/);
    const status = JSON.parse(ok(['inspectp', podId]));
    assert.equal(status.status.state, 'SANDBOX_READY');
    assert.equal(status.status.metadata.name, 'demo');
    // On the Docker side: one running infra container, found by the labels the shim queries by.
    const infra = berth.ok(['ps', '-q', '--no-trunc', '--filter', 'label=io.kubernetes.docker.type=podsandbox', '--filter', 'label=tier=test']).trim();
    assert.equal(infra, podId);
    const [inspect] = JSON.parse(berth.ok(['inspect', podId]));
    assert.deepEqual(inspect.Config.Labels, { 'io.kubernetes.container.name': 'POD', 'io.kubernetes.docker.type': 'podsandbox', tier: 'test' });
    assert.equal(inspect.Config.Image, PAUSE);
    assert.equal(ok(['pods', '-q', '--label', 'tier=test']).trim(), podId);
    assert.equal(ok(['pods', '-q', '--label', 'tier=other']).trim(), '');
  });

  it('creates and starts a container and lists it by label', () => {
    const ctr = join(dir, 'ctr.json');
    writeFileSync(ctr, JSON.stringify({
      metadata: { name: 'echo' },
      image: { image: IMAGE },
      command: ['sh', '-c', 'i=0; while :; do echo line-$i; i=$((i+1)); sleep 0.2; done'],
      labels: { app: 'echo' },
      log_path: 'echo.log',
      linux: {},
    }));
    ctrId = ok(['create', podId, ctr, join(dir, 'pod.json')]).trim();
    ok(['start', ctrId]);
    assert.equal(ok(['ps', '-q', '--label', 'app=echo']).trim(), ctrId);
    assert.equal(ok(['ps', '-q', '--label', 'app=other']).trim(), '');
    assert.equal(ok(['ps', '-q', '--pod', podId]).trim(), ctrId);
    const status = JSON.parse(ok(['inspect', ctrId]));
    assert.equal(status.status.state, 'CONTAINER_RUNNING');
    assert.equal(status.status.labels.app, 'echo');
  });

  it('execs with output and exit codes', () => {
    assert.equal(ok(['exec', ctrId, 'sh', '-c', 'echo out-$((6*7))']), 'out-42\n');
    const failed = crictl(['exec', '-s', ctrId, 'sh', '-c', 'echo bad >&2; exit 4']);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /exited with 4/);
  });

  it('shows the logs, with timestamps on request', async () => {
    const logs = await until('three log lines', () => {
      const out = ok(['logs', ctrId]);
      return out.split('\n').length > 3 ? out : undefined;
    });
    assert.match(logs, /^line-0\nline-1\nline-2\n/);
    const stamped = ok(['logs', '-t', '--tail', '1', ctrId]);
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line-\d+\n$/);
  });

  it('reports container stats', async () => {
    const stats = JSON.parse(ok(['stats', '-o', 'json', ctrId])).stats;
    assert.equal(stats.length, 1);
    assert.equal(stats[0].attributes.id, ctrId);
    assert.ok(Number(stats[0].cpu.usageCoreNanoSeconds.value) > 0, JSON.stringify(stats[0].cpu));
    assert.ok(Number(stats[0].memory.workingSetBytes.value) > 0, JSON.stringify(stats[0].memory));
    // The shim survived its stats collector (it reads inspect's SizeRw).
    assert.equal(shim!.exitCode, null);
    assert.equal(crictl(['version']).code, 0);
  });

  it('answers image status and lists images with their sizes', () => {
    const [image] = JSON.parse(berth.ok(['image', 'inspect', IMAGE]));
    const status = JSON.parse(ok(['inspecti', IMAGE])).status;
    assert.equal(status.id, image.Id);
    assert.equal(Number(status.size), image.Size);
    assert.ok(status.repoTags.includes(IMAGE));
    const list = JSON.parse(ok(['images', '-o', 'json'])).images as Array<{ id: string; repoTags: string[] }>;
    assert.ok(list.some((i) => i.repoTags.includes(PAUSE)));
    assert.ok(list.some((i) => i.id === image.Id));
  });

  it('stops and removes the pod with its containers', () => {
    ok(['stopp', podId]);
    ok(['rmp', podId]);
    podId = '';
    assert.equal(ok(['ps', '-a', '-q']).trim(), '');
    assert.equal(berth.ok(['ps', '-aq']).trim(), '');
  });
});
