/**
 * A pod's container from nothing to running over the CRI, as kubelet asks for it:
 * RunPodSandbox + CreateContainer + StartContainer, Berth's own CRI side by side with
 * containerd's CRI plugin (Debian's containerd, with its own config, socket and root under the
 * session dir) where it is installed. Both run pods on a bridge conflist of their own in their
 * own CNI directory; the pod is torn down (untimed) after each sample.
 *   node dist/bench/cri.js [N] [--runtime runc]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { parseBenchArgs, runBench } from './cli';
import { BerthDaemon, DOCKER_CLI } from './daemons';
import { Session } from './session';
import { median } from './stats';
import { loadCriServices } from '../src/cri/proto-load';

const CONTAINERD = '/usr/bin/containerd';
const CNI_BIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];
const PAUSE = 'bench.local/pause:1';
const WARMUP = 2;

type Call = (method: string, req: object) => Promise<Record<string, unknown>>;

/** A promisified runtime.v1 RuntimeService client on a unix socket. */
function criClient(socket: string): { call: Call; close(): void } {
  const Runtime = grpc.makeGenericClientConstructor(loadCriServices('v1').runtime, 'RuntimeService');
  const client = new Runtime(`unix://${socket}`, grpc.credentials.createInsecure());
  const call: Call = (method, req) =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, (r: object, cb: (e: Error | null, res: Record<string, unknown>) => void) => void>)[method];
      fn.call(client, req, (err, res) => (err ? reject(new Error(`${method}: ${err.message}`)) : resolve(res)));
    });
  return { call, close: () => client.close() };
}

function bridgeConflist(name: string, bridge: string, subnet: string): string {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name,
    plugins: [
      { type: 'bridge', bridge, isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: `${subnet}.0/24` }]], dataDir: undefined } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  });
}

/** Debian's containerd with only its CRI plugin in use, on its own socket and root. */
class ContainerdCri {
  readonly socket: string;
  private proc?: ChildProcess;

  constructor(
    private readonly dir: string,
    private readonly cniDir: string,
  ) {
    this.socket = join(dir, 'containerd.sock');
  }

  async start(busyboxTar: string, pauseTar: string): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const config = join(this.dir, 'config.toml');
    writeFileSync(
      config,
      [
        'version = 2',
        `root = "${join(this.dir, 'root')}"`,
        `state = "${join(this.dir, 'state')}"`,
        '[grpc]',
        `  address = "${this.socket}"`,
        '[plugins."io.containerd.grpc.v1.cri"]',
        `  sandbox_image = "${PAUSE}"`,
        '  stream_server_address = "127.0.0.1"',
        '  stream_server_port = "0"',
        // This machine lacks CAP_SYS_RESOURCE: kubelet's runtimes may not lower oom_score_adj.
        '  restrict_oom_score_adj = true',
        '  [plugins."io.containerd.grpc.v1.cri".cni]',
        `    bin_dir = "${CNI_BIN_DIRS.find(existsSync) ?? CNI_BIN_DIRS[0]}"`,
        `    conf_dir = "${this.cniDir}"`,
        '',
      ].join('\n'),
    );
    this.proc = spawn(CONTAINERD, ['--config', config], { stdio: ['ignore', 'ignore', 'ignore'], detached: true });
    for (let i = 0; i < 300 && !existsSync(this.socket); i++) await new Promise((r) => setTimeout(r, 100));
    if (!existsSync(this.socket)) throw new Error('containerd did not start');
    for (const tar of [busyboxTar, pauseTar]) {
      const r = spawnSync('ctr', ['--address', this.socket, '-n', 'k8s.io', 'images', 'import', tar], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ctr images import ${tar}: ${r.stderr}`);
    }
  }

  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    const exited = new Promise((resolve) => this.proc!.once('exit', resolve));
    this.proc.kill('SIGTERM');
    await exited;
    // Shims outlive containerd by design; theirs are found by the socket path they were given.
    spawnSync('pkill', ['-f', `containerd-shim.*${this.socket}`]);
  }
}

interface Phases {
  sandbox: number;
  create: number;
  start: number;
}

/** One pod with one container to running; its phases in ms. The pod is removed afterwards. */
async function onePod(call: Call, n: number, logDir: string): Promise<Phases> {
  const metadata = { name: `bench-${n}`, uid: `uid-${process.pid}-${n}`, namespace: 'bench', attempt: 0 };
  const sandboxConfig = { metadata, hostname: `bench-${n}`, log_directory: logDir, linux: {} };
  const t0 = performance.now();
  const { pod_sandbox_id: podId } = (await call('RunPodSandbox', { config: sandboxConfig })) as { pod_sandbox_id: string };
  const t1 = performance.now();
  const { container_id: id } = (await call('CreateContainer', {
    pod_sandbox_id: podId,
    config: { metadata: { name: 'sleeper', attempt: 0 }, image: { image: 'busybox:latest' }, command: ['sleep', '3600'], log_path: `sleeper-${n}.log`, linux: {} },
    sandbox_config: sandboxConfig,
  })) as { container_id: string };
  const t2 = performance.now();
  await call('StartContainer', { container_id: id });
  const t3 = performance.now();
  await call('StopPodSandbox', { pod_sandbox_id: podId });
  await call('RemovePodSandbox', { pod_sandbox_id: podId });
  return { sandbox: t1 - t0, create: t2 - t1, start: t3 - t2 };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--runtime');
  const runtime = at >= 0 ? argv.splice(at, 2)[1] : undefined;
  const opts = parseBenchArgs(argv, 'usage: node dist/bench/cri.js [N] [--runtime runc|crun]', 20, {});
  const session = new Session('berth');
  try {
    const berthCni = join(session.dir, 'berth-cni');
    mkdirSync(berthCni, { recursive: true });
    writeFileSync(join(berthCni, '10-bench.conflist'), bridgeConflist('bench-berth', session.net.bridgeName(), session.net.subnet('10.199')));
    session.daemons.splice(0, session.daemons.length, new BerthDaemon(join(session.dir, 'berth'), session.net, 'berth', ['--cni-conf-dir', berthCni, ...(runtime ? ['--default-runtime', runtime] : [])]));
    await session.startDaemons();
    const berth = session.daemons[0];
    const clients: Array<{ name: string; call: Call; close(): void; logDir: string }> = [];
    const berthClient = criClient(join(session.dir, 'berth', 'exec', 'cri.sock'));
    clients.push({ name: 'berth', ...berthClient, logDir: join(session.dir, 'berth-logs') });

    if (existsSync(CONTAINERD) && existsSync(DOCKER_CLI)) {
      const cniDir = join(session.dir, 'containerd-cni');
      mkdirSync(cniDir, { recursive: true });
      writeFileSync(join(cniDir, '10-bench.conflist'), bridgeConflist('bench-containerd', session.net.bridgeName(), session.net.subnet('10.199')));
      // containerd's infra image: a sleeper built by Berth and saved for containerd to import.
      const ctx = join(session.dir, 'pause-ctx');
      mkdirSync(ctx, { recursive: true });
      writeFileSync(join(ctx, 'Dockerfile'), `FROM busybox:latest\nENTRYPOINT ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]\n`);
      await berth.dockerOk(['build', '-q', '-t', PAUSE, ctx], 120_000);
      const pauseTar = join(session.dir, 'pause.tar');
      await berth.dockerOk(['save', '-o', pauseTar, PAUSE]);
      const containerd = new ContainerdCri(join(session.dir, 'containerd'), cniDir);
      session.atCleanup(() => containerd.stop());
      await containerd.start(session.tarball, pauseTar);
      clients.push({ name: 'containerd', ...criClient(containerd.socket), logDir: join(session.dir, 'containerd-logs') });
    } else {
      console.log('containerd is not installed (Debian: apt-get install containerd); measuring Berth alone');
    }

    const samples = new Map<string, Phases[]>(clients.map((c) => [c.name, []]));
    let n = 0;
    for (let i = 0; i < WARMUP + opts.runs; i++) {
      const order = i % 2 === 0 ? clients : [...clients].reverse();
      for (const c of order) {
        session.check();
        const phases = await onePod(c.call, n++, c.logDir);
        if (i >= WARMUP) samples.get(c.name)!.push(phases);
      }
      process.stdout.write(`\rrun ${i + 1}/${WARMUP + opts.runs}`);
    }
    process.stdout.write('\n');
    for (const c of clients) c.close();

    console.log(`RunPodSandbox + CreateContainer + StartContainer, ${opts.runs} pods each after ${WARMUP} warm-up, alternating; medians in ms`);
    const total = (p: Phases) => p.sandbox + p.create + p.start;
    for (const [name, list] of samples) {
      const m = (f: (p: Phases) => number) => median(list.map(f)).toFixed(1);
      console.log(`${name.padEnd(11)} total ${m(total).padStart(7)}   sandbox ${m((p) => p.sandbox).padStart(7)}   create ${m((p) => p.create).padStart(7)}   start ${m((p) => p.start).padStart(7)}`);
    }
    if (samples.has('containerd')) {
      const ratio = median(samples.get('berth')!.map(total)) / median(samples.get('containerd')!.map(total));
      console.log(`ratio berth/containerd: ${ratio.toFixed(2)}`);
    }
    return 0;
  } finally {
    await session.cleanup();
  }
}

if (require.main === module) runBench(main);
