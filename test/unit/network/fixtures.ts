/**
 * Fixtures for the network tests (real kernel, no mocks). A `NetSandbox` owns a temporary exec
 * and data root, a unique iptables chain prefix, bridge names `bt<hex>` and subnets in
 * leased 10.186.x.0/24 (see test/integration/network/free-subnet.ts), and tracks every plumbing, network, namespace and child process a test creates
 * so `cleanup()` can remove all of it even when the test failed. `hostSnapshot()` captures host
 * links, iptables rules and mounts to prove that nothing leaks.
 *
 * Traffic rule: tests talk only to loopback and to addresses on bridges they created; DNS
 * upstreams are a local server on 127.0.0.1 (`startUpstream`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import * as dnsPacket from 'dns-packet';
import { runCommand } from '../../../src/host/command';
import { CniNetworkPlumbing, type CniNetworkPlumbingOptions } from '../../../src/network/plumbing';
import type { AttachRequest, BridgeNetworkSpec } from '../../../src/network/types';
import { freeSubnet } from '../../integration/network/free-subnet';

export const silentLog = { debug: () => undefined, info: () => undefined, warn: () => undefined };

/** Runs a program (no shell); resolves with stdout. */
export async function sh(program: string, argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  return (await runCommand(program, argv, { timeoutMs: opts.timeoutMs ?? 20_000, input: opts.input })).stdout;
}

/** Runs a program inside a network namespace; resolves with stdout. */
export function inNetns(netnsPath: string, program: string, argv: string[], timeoutMs = 20_000): Promise<string> {
  return sh('nsenter', [`--net=${netnsPath}`, '--', program, ...argv], { timeoutMs });
}

/** Like inNetns but resolves with the exit status instead of throwing. */
export async function tryInNetns(netnsPath: string, program: string, argv: string[], timeoutMs = 20_000): Promise<{ ok: boolean; out: string }> {
  try {
    return { ok: true, out: await inNetns(netnsPath, program, argv, timeoutMs) };
  } catch (err) {
    return { ok: false, out: String((err as Error).message) };
  }
}

const SHARED_CNI_CHAINS = /^(CNI-FORWARD|CNI-ADMIN|CNI-HOSTPORT-DNAT|CNI-HOSTPORT-SETMARK|CNI-HOSTPORT-MASQ)$/;

/**
 * iptables-save reduced to user chains and rules. The shared top-level chains the portmap plugin
 * creates once per host (CNI-HOSTPORT-DNAT/SETMARK/MASQ, their jumps and fixed rules) are left
 * out: they are infrastructure of every CNI user and the plugin never deletes them. Per-container
 * chains and rules (CNI-DN-*, CNI-HOSTPORT-DNAT entries) are kept, so their leaks are seen.
 */
export function normalizeIptables(save: string): string[] {
  const out: string[] = [];
  for (const raw of save.split('\n')) {
    const line = raw.replace(/\s*\[\d+:\d+\]\s*$/, '').trim();
    if (!line || line.startsWith('#') || line.startsWith('*') || line === 'COMMIT') continue;
    if (/^:(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) /.test(line)) continue;
    const decl = /^:(\S+)/.exec(line);
    if (decl && SHARED_CNI_CHAINS.test(decl[1])) continue;
    const rule = /^-A (\S+) .*-j (\S+)$/.exec(line);
    if (rule && /^(PREROUTING|OUTPUT|POSTROUTING|FORWARD)$/.test(rule[1]) && SHARED_CNI_CHAINS.test(rule[2])) continue;
    if (/^-A CNI-HOSTPORT-(SETMARK|MASQ) /.test(line)) continue;
    if (/^-A CNI-FORWARD .*-j CNI-ADMIN$/.test(line)) continue;
    out.push(line);
  }
  return out.sort();
}

export interface HostLink {
  name: string;
  kind: string | undefined;
  master: string | undefined;
}

export interface HostSnapshot {
  links: HostLink[];
  iptables: string[];
  mounts: string[];
}

export async function hostSnapshot(): Promise<HostSnapshot> {
  const json = JSON.parse(await sh('ip', ['-j', '-d', 'link', 'show'])) as Array<{ ifname: string; master?: string; linkinfo?: { info_kind?: string } }>;
  const links = json.map((l) => ({ name: l.ifname, kind: l.linkinfo?.info_kind, master: l.master })).sort((a, b) => a.name.localeCompare(b.name));
  const iptables = normalizeIptables(await sh('iptables-save', []));
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4])
    .sort();
  return { links, iptables, mounts };
}

export interface NetSandbox {
  dir: string;
  tag: string;
  chainPrefix: string;
  /** A new plumbing over this sandbox's roots (tracked for close/cleanup). */
  plumbing(opts?: Partial<CniNetworkPlumbingOptions>): CniNetworkPlumbing;
  /** A network spec with a fresh bridge name and a leased subnet 10.186.<n>.0/24 (tracked). */
  network(overrides?: Partial<BridgeNetworkSpec>): BridgeNetworkSpec;
  /** Every network spec handed out so far. */
  readonly networks: readonly BridgeNetworkSpec[];
  /** A long-running process inside a netns (killed at cleanup); resolves once it prints `ready`. */
  spawnIn(netnsPath: string, program: string, argv: string[]): Promise<ChildProcess>;
  /** Starts netns-servers.js (`http PORT TEXT`, `halfclose PORT`, `udpecho PORT`) inside a netns. */
  serve(netnsPath: string, ...args: string[]): Promise<ChildProcess>;
  cleanup(): Promise<void>;
}

export async function makeNetSandbox(): Promise<NetSandbox> {
  const tag = randomBytes(3).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), `berth-net-${tag}-`));
  const chainPrefix = `BT${tag.toUpperCase()}`;
  const plumbings: CniNetworkPlumbing[] = [];
  const networks: BridgeNetworkSpec[] = [];
  const children: ChildProcess[] = [];
  let subnetCounter = 0;
  const sandbox: NetSandbox = {
    dir,
    tag,
    chainPrefix,
    networks,
    plumbing(opts = {}) {
      const p = new CniNetworkPlumbing({
        execRoot: join(dir, 'exec'),
        dataRoot: join(dir, 'data'),
        iptables: true,
        userlandProxy: true,
        upstreamResolvers: [],
        log: silentLog,
        chainPrefix,
        ...opts,
      });
      plumbings.push(p);
      return p;
    },
    network(overrides = {}) {
      const n = subnetCounter++;
      // Leased: no route on the host and no other test process (the integration tests' daemons
      // run at the same time) uses it.
      const prefix = freeSubnet(186).replace(/\.0\/24$/, '');
      const id = randomBytes(32).toString('hex');
      const spec: BridgeNetworkSpec = {
        id,
        name: `net-${tag}-${n}`,
        bridge: `bt${tag}${n}`,
        subnet: `${prefix}.0/24`,
        gateway: `${prefix}.1`,
        internal: false,
        ipMasq: true,
        dns: true,
        ...overrides,
      };
      networks.push(spec);
      return spec;
    },
    async spawnIn(netnsPath, program, argv) {
      const child = spawn('nsenter', [`--net=${netnsPath}`, '--', program, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`${program} did not get ready: ${out}`)), 10_000);
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('ready')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`${program} exited with ${code}: ${out}`));
        });
      });
      return child;
    },
    async serve(netnsPath, ...args) {
      return sandbox.spawnIn(netnsPath, process.execPath, [join(__dirname, 'netns-servers.js'), ...args]);
    },
    async cleanup() {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      for (const p of plumbings) await p.close().catch(() => undefined);
      // Everything below is a fallback for a test that failed half-way.
      const p = plumbings[0] ?? sandbox.plumbing();
      await p.init({ networks: [], netnsPaths: [] }).catch(() => undefined);
      await p.close().catch(() => undefined);
      for (const n of networks) await runCommand('ip', ['link', 'del', n.bridge]).catch(() => undefined);
      for (const table of ['filter', 'nat']) {
        for (const [chain, jumpFrom] of [[`${chainPrefix}-INPUT`, 'INPUT'], [`${chainPrefix}-FORWARD`, 'FORWARD'], [`${chainPrefix}-POSTROUTING`, 'POSTROUTING']]) {
          await runCommand('iptables', ['-w', '-t', table, '-D', jumpFrom, '-j', chain]).catch(() => undefined);
        }
        for (const chain of [`${chainPrefix}-INPUT`, `${chainPrefix}-FORWARD`, `${chainPrefix}-ISOLATION`, `${chainPrefix}-POSTROUTING`]) {
          await runCommand('iptables', ['-w', '-t', table, '-F', chain]).catch(() => undefined);
          await runCommand('iptables', ['-w', '-t', table, '-X', chain]).catch(() => undefined);
        }
      }
      await runCommand('umount', ['--lazy', join(dir, 'exec', 'netns')]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return sandbox;
}

/** A DNS server on 127.0.0.1:<random> that answers every A query with `answerIp` and logs queries. */
export interface Upstream {
  address: string;
  queries: Array<{ name: string; type: string }>;
  close(): Promise<void>;
}

export async function startUpstream(answerIp = '10.199.254.254'): Promise<Upstream> {
  const socket = dgram.createSocket('udp4');
  const queries: Upstream['queries'] = [];
  socket.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions?.[0];
    if (!question) return;
    queries.push({ name: question.name, type: question.type });
    const answers: dnsPacket.Answer[] = question.type === 'A' ? [{ type: 'A', name: question.name, ttl: 60, data: answerIp }] : [];
    socket.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export function request(containerId: string, netnsPath: string, network: BridgeNetworkSpec, extra: Partial<AttachRequest> = {}): AttachRequest {
  return { containerId, netnsPath, ifname: 'eth0', network, portMappings: [], ...extra };
}

/**
 * What in a snapshot diff is this sandbox's: its bridges, veths without a master or enslaved to
 * its bridges (others' endpoints hang off others' bridges), iptables lines naming its chains,
 * bridges, network ids or subnets, and mounts under its directory. Other programs (another
 * daemon, other test files) may change the host meanwhile; their changes are not leaks of ours.
 */
function attributedLeaks(sb: NetSandbox, before: HostSnapshot, after: HostSnapshot): { links: string[]; iptables: string[]; mounts: string[] } {
  const bridges = new Set(sb.networks.map((n) => n.bridge));
  const oldLinks = new Set(before.links.map((l) => l.name));
  const links = after.links
    .filter((l) => !oldLinks.has(l.name))
    .filter((l) => bridges.has(l.name) || l.name.startsWith(`bt${sb.tag}`) || (l.kind === 'veth' && (!l.master || bridges.has(l.master))))
    .map((l) => l.name);
  const needles = [sb.chainPrefix, ...sb.networks.flatMap((n) => [n.bridge, n.id, `${n.subnet.split('.').slice(0, 3).join('.')}.`])];
  const oldRules = new Set(before.iptables);
  const iptables = after.iptables.filter((l) => !oldRules.has(l) && needles.some((n) => l.includes(n)));
  const oldMounts = new Set(before.mounts);
  const netnsDir = join(sb.dir, 'exec', 'netns');
  const mounts = after.mounts.filter((m) => !oldMounts.has(m) && m.startsWith(sb.dir) && m !== netnsDir);
  return { links, iptables, mounts };
}

/** Runs `fn` in a fresh sandbox and asserts it left nothing of its own on the host. */
export async function leakChecked(t: TestContext, fn: (sb: NetSandbox) => Promise<void>): Promise<void> {
  const before = await hostSnapshot();
  const sb = await makeNetSandbox();
  try {
    await fn(sb);
    let leaks = attributedLeaks(sb, before, await hostSnapshot());
    // A veth another program is creating has no master for a moment: look again before failing.
    for (let i = 0; i < 10 && leaks.links.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      leaks = attributedLeaks(sb, before, await hostSnapshot());
    }
    assert.deepEqual(leaks, { links: [], iptables: [], mounts: [] }, 'the test leaked host state');
    t.diagnostic(`no leaked links, iptables rules or mounts (host: ${before.links.length} links, ${before.iptables.length} iptables lines before)`);
  } finally {
    await sb.cleanup();
  }
}
