/**
 * A standalone kubelet (Kubernetes 1.20.2 from ../shared/tools/cri, CRI runtime.v1alpha2) driving
 * a test daemon's CRI socket: static pods from a folder, no API server. Everything it keeps lives
 * in a folder of the test, except what this build writes to fixed places (its pod log root, the
 * /var/log/containers links, the device-plugin socket); `cleanup()` removes exactly the entries
 * it made there, its mounts, and any iptables chain it added.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, type Berth } from '../harness';
import { waitFor, waitForHttp } from '../wait';
import { CRI_TOOLS } from './cri-tools';

export { CRI_TOOLS };
export const KUBELET = join(CRI_TOOLS, 'kubelet');

/**
 * Where kubelet writes outside its --root-dir: this build's pod log root and links
 * (/tmp/cri/kubelet-test/..., upstream /var/log/pods and /var/log/containers), the device-plugin
 * folder, and upstream defaults the flags below move but an older build could still use.
 */
const SHARED_ROOTS = ['/tmp/cri', '/var/log/pods', '/var/log/containers', '/var/lib/kubelet', '/usr/libexec/kubernetes'];

/** Why the kubelet test cannot run here, or false. */
export function kubeletSkipReason(): string | false {
  if (!existsSync(KUBELET)) return `kubelet not found in ${CRI_TOOLS}; set BERTH_CRI_TOOLS to its folder`;
  if (!existsSync(join(CRI_TOOLS, 'crictl'))) return `crictl not found in ${CRI_TOOLS}`;
  if (process.getuid?.() !== 0) return 'kubelet needs root';
  return false;
}

export interface Kubelet {
  readonly dir: string;
  readonly staticPodPath: string;
  readonly rootDir: string;
  readonly nodeName: string;
  readonly resolvConf: string;
  readonly logFile: string;
  /** The last lines of kubelet's log, for failure messages. */
  log(lines?: number): string;
  /** SIGTERM and wait; kubelet leaves its pods to the runtime. */
  stop(): Promise<void>;
  /** KUBE-* iptables chains that appeared since kubelet started (`table/chain`). */
  newChains(): string[];
  /** Entries kubelet made outside its folder (log root, links, device plugins) still there. */
  newSharedEntries(): string[];
  /** stop(), then unmount and remove what kubelet made (the daemon's pods are the test's). */
  cleanup(): Promise<void>;
}

/** Every path under `roots` (not following links), to tell later which entries are new. */
function snapshot(roots: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const walk = (p: string) => {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    seen.add(p);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  roots.forEach(walk);
  return seen;
}

/** Removes what exists under `roots` now and was not in `before`, outermost new entry first. */
function removeNew(roots: readonly string[], before: Set<string>): void {
  for (const p of snapshot(roots)) {
    if (before.has(p) || (!existsSync(p) && !isLink(p))) continue;
    rmSync(p, { recursive: true, force: true });
  }
}

const isLink = (p: string) => {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

/** The KUBE-* chains of every table (kubelet's canary and util chains), as `table/chain`. */
function kubeChains(): Set<string> {
  const out = new Set<string>();
  for (const table of ['filter', 'nat', 'mangle']) {
    const r = spawnSync('iptables', ['-w', '-t', table, '-S'], { encoding: 'utf8' });
    for (const l of (r.stdout ?? '').split('\n')) if (l.startsWith('-N KUBE-')) out.add(`${table}/${l.slice(3)}`);
  }
  return out;
}

function removeChains(chains: Iterable<string>): void {
  for (const tc of chains) {
    const [table, chain] = tc.split('/');
    const rules = spawnSync('iptables', ['-w', '-t', table, '-S'], { encoding: 'utf8' }).stdout ?? '';
    for (const l of rules.split('\n')) if (l.startsWith('-A ') && l.endsWith(`-j ${chain}`)) spawnSync('iptables', ['-w', '-t', table, '-D', ...l.slice(3).split(' ')]);
    spawnSync('iptables', ['-w', '-t', table, '-F', chain]);
    spawnSync('iptables', ['-w', '-t', table, '-X', chain]);
  }
}

function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m]);
}

/** The KubeletConfiguration of a node that leaves the host's settings alone (README of the tools). */
function kubeletConfig(k: { staticPodPath: string; resolvConf: string; port: number; healthzPort: number }): string {
  return JSON.stringify(
    {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      staticPodPath: k.staticPodPath,
      // Look at the folder every second (default 20 s) so the test waits for kubelet, not a timer.
      fileCheckFrequency: '1s',
      cgroupDriver: 'cgroupfs',
      cgroupsPerQOS: false,
      enforceNodeAllocatable: [],
      failSwapOn: false,
      makeIPTablesUtilChains: false,
      protectKernelDefaults: false,
      // This machine has no CAP_SYS_RESOURCE: kubelet may not lower its own score.
      oomScoreAdj: 0,
      address: '127.0.0.1',
      port: k.port,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: k.healthzPort,
      resolvConf: k.resolvConf,
      authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
      authorization: { mode: 'AlwaysAllow' },
    },
    null,
    2,
  );
}

/** Starts kubelet on `berth`'s CRI socket and waits for its /healthz. */
export async function startKubelet(berth: Berth): Promise<Kubelet> {
  const dir = join(berth.dir, 'kubelet');
  const staticPodPath = join(dir, 'manifests');
  const rootDir = join(dir, 'root');
  const resolvConf = join(dir, 'resolv.conf');
  const logFile = join(dir, 'kubelet.log');
  const nodeName = `berth-node-${randomBytes(3).toString('hex')}`;
  mkdirSync(staticPodPath, { recursive: true });
  // A nameserver only the pod's resolv.conf will show (nothing resolves through it).
  writeFileSync(resolvConf, 'nameserver 127.0.0.53\nsearch berth.test\n');
  const [port, healthzPort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'kubelet.yaml'), kubeletConfig({ staticPodPath, resolvConf, port, healthzPort }));

  const sharedBefore = snapshot(SHARED_ROOTS);
  const chainsBefore = kubeChains();
  const fd = openSync(logFile, 'a');
  let proc: ChildProcess | undefined = spawn(
    KUBELET,
    [
      `--config=${join(dir, 'kubelet.yaml')}`,
      '--container-runtime=remote',
      `--container-runtime-endpoint=unix://${berth.criSocket}`,
      `--root-dir=${rootDir}`,
      `--cert-dir=${join(dir, 'pki')}`,
      `--volume-plugin-dir=${join(dir, 'volume-plugins')}`,
      `--seccomp-profile-root=${join(dir, 'seccomp')}`,
      `--hostname-override=${nodeName}`,
      '-v=2',
    ],
    { stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  const log = (lines = 40) => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n') : '');

  const stop = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  const kubelet: Kubelet = {
    dir,
    staticPodPath,
    rootDir,
    nodeName,
    resolvConf,
    logFile,
    log,
    stop,
    newChains: () => [...kubeChains()].filter((c) => !chainsBefore.has(c)),
    newSharedEntries: () => [...snapshot(SHARED_ROOTS)].filter((p) => !sharedBefore.has(p)),
    cleanup: async () => {
      await stop();
      unmountUnder(dir);
      removeNew(SHARED_ROOTS, sharedBefore);
      removeChains(kubelet.newChains());
      rmSync(dir, { recursive: true, force: true });
    },
  };

  const exited = new Promise<never>((_, reject) => proc!.once('exit', (code) => reject(new Error(`kubelet exited with ${code}:\n${log()}`))));
  try {
    await Promise.race([waitForHttp(`http://127.0.0.1:${healthzPort}/healthz`, { what: 'kubelet’s /healthz', timeout: 120_000, interval: 200 }), exited]);
  } catch (err) {
    await kubelet.cleanup();
    throw err;
  }
  proc.removeAllListeners('exit');
  return kubelet;
}

/** Waits until kubelet's log matches `re` (its own account of what it did). */
export function waitForKubeletLog(k: Kubelet, re: RegExp, what: string, timeout = 60_000): Promise<string> {
  return waitFor(() => (existsSync(k.logFile) ? re.exec(readFileSync(k.logFile, 'utf8'))?.[0] : undefined), { what, timeout, interval: 200 });
}
