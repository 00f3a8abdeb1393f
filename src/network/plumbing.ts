/**
 * `CniNetworkPlumbing`: the `NetworkPlumbing` facade on CNI. It wires the adapters (cni, ip,
 * iptables, netns) with the daemon-side services (embedded DNS, userland proxies, port
 * reservations). Kernel state (bridges, namespaces, rules, IPAM files) outlives the daemon;
 * what lives in this object (DNS listeners, proxies, reservations) is rebuilt by `init` and
 * `restorePorts`.
 *
 * On disk: `<execRoot>/netns/<containerId>` (nsfs bind mounts, the directory a private mount)
 * and `<dataRoot>/network/ipam/<network id>/` (host-local's allocations).
 *
 * One concern, kept in one file: the order of the plumbing's steps. The adapters and services
 * it wires are each in their own module; what stays here is what they share (the known
 * networks, the endpoints, the network queue, background releases) and the sequences over it
 * (attach, detach, release, init), which read best side by side.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ensureBridge, ownedNetworkId, ownerTag, removeBridge } from './bridge';
import { Cni, type CniConfList, type CniResult } from './cni';
import { buildConflist, cniNetworkName, endpointFromResult, mapAddError, PLACEHOLDER_MAPPING, portmapOnly } from './conflist';
import { hasDnsRedirect, installDnsRedirect, removeDnsRedirect } from './dns-redirect';
import { DnsServer } from './dns-server';
import { addressInUse, endpointExists, invalidParameter, NetworkPlumbingError } from './errors';
import { applyHostRules, hostChainNames, type HostChainNames } from './host-rules';
import { IpLink } from './ip-link';
import { listIpamNetworks, readAllocations, readCursors, removeAllocation, removeIpamNetwork, restoreCursors, type IpamAllocation } from './ipam-state';
import { Iptables } from './iptables';
import { NetnsTool } from './netns';
import { PortReservations } from './port-allocator';
import { startProxy, type PortProxy } from './port-proxy';
import { childLoopback, RootlessKitPorts } from './rootlesskit-ports';
import type { AttachRequest, BridgeNetworkSpec, DnsRecord, Endpoint, NetworkLog, NetworkPlumbing } from './types';
import { checkAttachRequest, checkNetworkSpec, checkStaticIp } from './validate';

export interface CniNetworkPlumbingOptions {
  execRoot: string;
  dataRoot: string;
  /** Directory of the CNI plugin binaries (default /usr/lib/cni). */
  cniPath?: string;
  /** Manage iptables (`--iptables`): Berth's forward/NAT chains and portmap's DNAT. */
  iptables: boolean;
  /** Serve published ports with the userland proxy (`--userland-proxy`). */
  userlandProxy: boolean;
  /** Resolvers the embedded DNS forwards to (`host` or `host:port`). */
  upstreamResolvers: string[];
  log: NetworkLog;
  /**
   * Prefix of Berth's iptables chains (`<prefix>-FORWARD`, ...). Default `BERTH-<6 hex digits
   * of the data root's hash>`, so two daemons on one host (or a daemon and its integration
   * tests) never rewrite each other's chains.
   */
  chainPrefix?: string;
  /** Per-upstream DNS timeout (default 2000 ms). */
  dnsUpstreamTimeoutMs?: number;
  /** Idle timeout of a UDP proxy flow (default 90 s). */
  udpProxyIdleMs?: number;
  /**
   * Rootless: rootlesskit's API socket. Published ports are then opened on the host by
   * rootlesskit and relayed to the userland proxy on the namespace's loopback (always on).
   */
  rootlessKitApiSocket?: string;
}

interface EndpointState {
  proxies: PortProxy[];
  /** rootlesskit's ids of the host ports published for this endpoint (rootless only). */
  rootlessKitPorts: number[];
}

/** A namespace whose endpoints are being released in the background (`releaseNetns`). */
interface Release {
  networks: ReadonlySet<string>;
  done: Promise<void>;
}

export class CniNetworkPlumbing implements NetworkPlumbing {
  readonly upstreamResolvers: readonly string[];
  private readonly opts: Readonly<CniNetworkPlumbingOptions>;
  private readonly log: NetworkLog;
  private readonly netnsDir: string;
  private readonly ipamDir: string;
  private readonly owner: string;
  private readonly chains: HostChainNames;
  private readonly cni: Cni;
  private readonly ip = new IpLink();
  private readonly hostIptables = new Iptables();
  private readonly hostIp6tables = new Iptables({ family: 6 });
  /** Whether Berth's ip6tables chains may exist (true at start: a previous run may have left them). */
  private ip6RulesWritten = true;
  private readonly netns = new NetnsTool();
  private readonly dns: DnsServer;
  private readonly ports = new PortReservations();
  private readonly rootlessKit: RootlessKitPorts | undefined;
  private readonly networks = new Map<string, BridgeNetworkSpec>();
  private readonly endpoints = new Map<string, EndpointState>();
  /** Background releases by namespace path; each entry removes itself when done. */
  private readonly releases = new Map<string, Release>();
  private netnsDirReady: Promise<void> | undefined;
  /** init, ensureNetwork and removeNetwork run one at a time (bridges, rules, DNS listeners). */
  private networkQueue: Promise<void> = Promise.resolve();

  constructor(opts: CniNetworkPlumbingOptions) {
    this.opts = Object.freeze({ ...opts, upstreamResolvers: [...opts.upstreamResolvers] });
    this.log = opts.log;
    this.upstreamResolvers = Object.freeze([...opts.upstreamResolvers]);
    this.netnsDir = join(resolve(opts.execRoot), 'netns');
    this.ipamDir = join(resolve(opts.dataRoot), 'network', 'ipam');
    this.owner = ownerTag(opts.dataRoot);
    this.chains = hostChainNames(opts.chainPrefix ?? `BERTH-${this.owner.slice(0, 6).toUpperCase()}`);
    this.cni = new Cni({ cniPath: opts.cniPath ?? '/usr/lib/cni' });
    this.rootlessKit = opts.rootlessKitApiSocket ? new RootlessKitPorts(opts.rootlessKitApiSocket) : undefined;
    this.dns = new DnsServer({ upstreams: this.upstreamResolvers, upstreamTimeoutMs: opts.dnsUpstreamTimeoutMs, log: opts.log });
  }

  init(live: { networks: BridgeNetworkSpec[]; netnsPaths: string[] }): Promise<void> {
    return this.serialized(() => this.initNow(live));
  }

  ensureNetwork(spec: BridgeNetworkSpec): Promise<void> {
    return this.serialized(() => this.ensureNetworkNow(spec));
  }

  removeNetwork(spec: BridgeNetworkSpec): Promise<void> {
    return this.serialized(() => this.removeNetworkNow(spec));
  }

  private async initNow(live: { networks: BridgeNetworkSpec[]; netnsPaths: string[] }): Promise<void> {
    live.networks.forEach(checkNetworkSpec);
    const liveIds = new Set(live.networks.map((n) => n.id));
    const liveNetns = new Set(live.netnsPaths.map((p) => resolve(p)));
    const liveContainers = new Set([...liveNetns].filter((p) => dirname(p) === this.netnsDir).map((p) => p.slice(this.netnsDir.length + 1)));

    await this.ensureNetnsDir();
    for (const name of await readdir(this.netnsDir)) {
      const path = join(this.netnsDir, name);
      if (liveNetns.has(path)) continue;
      this.log.info({ netns: path }, 'removing stale network namespace');
      await this.netns.remove(path);
    }
    for (const link of await this.ip.list()) {
      const id = ownedNetworkId(this.owner, link);
      if (id === undefined || liveIds.has(id)) continue;
      this.log.info({ network: id, bridge: link.name }, 'removing stale bridge');
      await this.ip.delete(link.name);
    }
    for (const name of await listIpamNetworks(this.ipamDir)) {
      if (liveIds.has(name)) continue;
      // Endpoints left on a network that is gone: drop their port rules, then the whole directory.
      for (const alloc of await readAllocations(this.ipamDir, name)) {
        const inv = { containerId: alloc.containerId, netnsPath: join(this.netnsDir, alloc.containerId), ifname: alloc.ifname || 'eth0' };
        await this.cni.del(portmapOnly(name), { ...inv, runtimeConfig: { portMappings: [PLACEHOLDER_MAPPING] } }).catch((err) => this.log.warn({ err, network: name }, 'CNI DEL of stale endpoint failed'));
      }
      await removeIpamNetwork(this.ipamDir, name);
    }

    this.networks.clear();
    for (const spec of live.networks) {
      await ensureBridge(this.ip, this.owner, spec);
      this.networks.set(spec.id, spec);
    }
    await this.applyRules();
    for (const spec of live.networks) {
      await this.releaseStaleAllocations(spec, liveContainers);
      // One network whose DNS port is taken must not keep the daemon from starting.
      if (spec.dns) await this.dns.listen(spec.id, spec.gateway, spec.subnet).catch((err) => this.log.warn({ err, network: spec.id }, 'embedded DNS unavailable'));
    }
  }

  private async ensureNetworkNow(spec: BridgeNetworkSpec): Promise<void> {
    checkNetworkSpec(spec);
    await ensureBridge(this.ip, this.owner, spec);
    this.networks.set(spec.id, spec);
    await this.applyRules();
    if (spec.dns) await this.dns.listen(spec.id, spec.gateway, spec.subnet);
  }

  private async removeNetworkNow(spec: BridgeNetworkSpec): Promise<void> {
    await this.released((r) => r.networks.has(spec.id));
    await this.dns.unlisten(spec.id);
    this.dns.forgetNetwork(spec.id);
    for (const [key, state] of this.endpoints) {
      if (!key.endsWith(`/${spec.id}`)) continue;
      await this.closeEndpoint(key, state);
    }
    this.networks.delete(spec.id);
    await this.applyRules();
    await removeBridge(this.ip, this.owner, spec);
    await removeIpamNetwork(this.ipamDir, cniNetworkName(spec));
  }

  async createNetns(containerId: string): Promise<string> {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(containerId)) throw invalidParameter(`invalid container id: ${containerId}`);
    await this.ensureNetnsDir();
    const path = join(this.netnsDir, containerId);
    // A restart of the same container reuses the path (and CNI's container id): its last run first.
    await this.released((r) => r === this.releases.get(path));
    if (!(await this.netns.isMounted(path))) await this.netns.create(path);
    return path;
  }

  async adoptNetns(containerId: string, pid: number): Promise<string> {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(containerId)) throw invalidParameter(`invalid container id: ${containerId}`);
    if (!Number.isInteger(pid) || pid <= 0) throw invalidParameter(`invalid pid: ${pid}`);
    await this.ensureNetnsDir();
    const path = join(this.netnsDir, containerId);
    await this.released((r) => r === this.releases.get(path));
    if (await this.netns.isMounted(path)) await this.netns.remove(path);
    await this.netns.adopt(path, `/proc/${pid}/ns/net`);
    return path;
  }

  async removeNetns(netnsPath: string): Promise<void> {
    const path = resolve(netnsPath);
    if (dirname(path) !== this.netnsDir) throw invalidParameter(`not a Berth network namespace: ${netnsPath}`);
    await this.netns.remove(path);
  }

  async setSysctls(netnsPath: string, values: Record<string, string>): Promise<void> {
    const path = resolve(netnsPath);
    if (dirname(path) !== this.netnsDir) throw invalidParameter(`not a Berth network namespace: ${netnsPath}`);
    if (Object.keys(values).length) await this.netns.setSysctls(path, values);
  }

  async attach(req: AttachRequest): Promise<Endpoint> {
    checkAttachRequest(req);
    const onNetwork = (r: Release) => r.networks.has(req.network.id);
    // A static address may belong to a run whose release is still under way.
    if (req.ip || req.ip6) await this.released(onNetwork);
    try {
      return await this.attachOnce(req);
    } catch (err) {
      if (!(err instanceof NetworkPlumbingError && err.kind === 'no-addresses' && [...this.releases.values()].some(onNetwork))) throw err;
      await this.released(onNetwork);
      return this.attachOnce(req);
    }
  }

  private async attachOnce(req: AttachRequest): Promise<Endpoint> {
    const spec = req.network;
    if (!this.networks.has(spec.id)) await this.ensureNetwork(spec);
    const key = endpointKey(req);
    const mappings = spec.internal ? [] : req.portMappings;
    if (mappings.some((m) => m.hostPort === 0)) throw invalidParameter('host port 0: allocate one with allocateHostPort first');
    const allocations = await readAllocations(this.ipamDir, cniNetworkName(spec));
    // A second ADD for the same interface would fail, and its rollback would tear down the first.
    if (allocations.some((a) => a.containerId === req.containerId && a.ifname === req.ifname)) {
      throw endpointExists(req.containerId, req.ifname, spec.name);
    }
    try {
      for (const m of mappings) this.ports.reserve(key, m);
      if (req.ip) this.checkStaticIpFree(spec, allocations, req.ip);
      if (req.ip6) this.checkStaticIpFree(spec, allocations, req.ip6);
    } catch (err) {
      this.ports.release(key);
      throw err;
    }

    const list = this.conflist(spec, !!req.ip || !!req.ip6, mappings.length > 0);
    const staticIps = [req.ip, req.ip6].filter((a): a is string => !!a);
    let result: CniResult;
    const cursors = staticIps.length ? await readCursors(this.ipamDir, cniNetworkName(spec)) : undefined;
    try {
      result = await this.cni.add(list, {
        containerId: req.containerId,
        netnsPath: req.netnsPath,
        ifname: req.ifname,
        runtimeConfig: {
          ...(req.mac ? { mac: req.mac } : {}),
          ...(staticIps.length ? { ips: staticIps } : {}),
          ...(this.opts.iptables && mappings.length
            ? { portMappings: mappings.map((m) => ({ hostPort: m.hostPort, containerPort: m.containerPort, protocol: m.protocol, ...(m.hostIp && m.hostIp !== '0.0.0.0' ? { hostIP: m.hostIp } : {}) })) }
            : {}),
        },
      });
    } catch (err) {
      this.ports.release(key);
      await this.cniDel(list, req).catch(() => undefined);
      throw mapAddError(err, req);
    } finally {
      if (cursors) await restoreCursors(this.ipamDir, cniNetworkName(spec), cursors).catch((err) => this.log.warn({ err, network: spec.id }, 'cannot restore IPAM cursors'));
    }

    try {
      const endpoint = endpointFromResult(result, req);
      for (const ll of req.linkLocalIps ?? []) await this.netns.addAddress(req.netnsPath, req.ifname, linkLocalCidr(ll));
      if (spec.dns) await this.pointResolver(req.netnsPath, req.ifname, spec.gateway, endpoint.ip);
      const state: EndpointState = { proxies: [], rootlessKitPorts: [] };
      this.endpoints.set(key, state);
      await this.startProxies(state, req, endpoint.ip);
      this.log.debug({ container: req.containerId, network: spec.id, ifname: req.ifname, ip: endpoint.ip }, 'endpoint attached');
      return endpoint;
    } catch (err) {
      await this.detach(req).catch((e) => this.log.warn({ err: e, container: req.containerId }, 'rollback of attach failed'));
      throw err;
    }
  }

  async detach(req: AttachRequest): Promise<void> {
    const key = endpointKey(req);
    const state = this.endpoints.get(key);
    if (state) await this.closeEndpoint(key, state);
    this.ports.release(key);
    const spec = req.network;
    const redirected = spec.dns && (await this.netns.isMounted(req.netnsPath)) && (await removeDnsRedirect(req.netnsPath, spec.gateway));
    // The request's mappings are the endpoint's (callers pass the container's live ports).
    await this.cniDel(this.conflist(spec, false, req.portMappings.length > 0), req);
    if (redirected) await this.repointResolver(req);
    this.log.debug({ container: req.containerId, network: spec.id, ifname: req.ifname }, 'endpoint detached');
  }

  async releaseNetns(netnsPath: string, endpoints: AttachRequest[]): Promise<void> {
    const path = resolve(netnsPath);
    if (dirname(path) !== this.netnsDir) throw invalidParameter(`not a Berth network namespace: ${netnsPath}`);
    for (const req of endpoints) {
      const key = endpointKey(req);
      const state = this.endpoints.get(key);
      if (state) await this.closeEndpoint(key, state);
      this.ports.release(key);
    }
    const chains = endpoints.map((req) => ({ req, list: this.conflist(req.network, false, req.portMappings.length > 0) }));
    const work = this.deleteEndpoints(path, chains);
    // With published ports, a next container may take the same host port at once: portmap's
    // rules for this one must be gone before then (the first matching DNAT rule wins).
    if (chains.some(({ list }) => list.plugins.some((p) => p.type === 'portmap'))) return work;
    const release: Release = {
      networks: new Set(endpoints.map((r) => r.network.id)),
      done: work.then(
        () => undefined,
        (err) => this.log.warn({ err, netns: path }, 'releasing a network namespace failed'),
      ),
    };
    this.releases.set(path, release);
    void release.done.finally(() => {
      if (this.releases.get(path) === release) this.releases.delete(path);
    });
  }

  /**
   * CNI DEL of every endpoint, then the namespace. The DNS redirect inside it is not undone (it
   * goes with the namespace). The first failure is thrown after everything was tried.
   */
  private async deleteEndpoints(path: string, chains: Array<{ req: AttachRequest; list: CniConfList }>): Promise<void> {
    let first: unknown;
    for (const { req, list } of chains) {
      await this.cniDel(list, req).catch((err) => {
        first ??= err;
      });
    }
    await this.netns.remove(path).catch((err) => {
      first ??= err;
    });
    if (first) throw first;
  }

  /** Waits for the background releases `which` selects. */
  private async released(which: (r: Release) => boolean): Promise<void> {
    await Promise.all([...this.releases.values()].filter(which).map((r) => r.done));
  }

  async restorePorts(req: AttachRequest, endpoint: Endpoint): Promise<void> {
    checkAttachRequest(req);
    if (!this.networks.has(req.network.id)) await this.ensureNetwork(req.network);
    const key = endpointKey(req);
    const old = this.endpoints.get(key);
    if (old) await this.closeEndpoint(key, old);
    this.ports.release(key);
    const mappings = req.network.internal ? [] : req.portMappings;
    const state: EndpointState = { proxies: [], rootlessKitPorts: [] };
    this.endpoints.set(key, state);
    try {
      for (const m of mappings) this.ports.reserve(key, m);
      await this.startProxies(state, req, endpoint.ip);
    } catch (err) {
      await this.closeEndpoint(key, state);
      this.ports.release(key);
      throw err;
    }
  }

  allocateHostPort(protocol: 'tcp' | 'udp', hostIp: string): Promise<number> {
    return this.ports.allocate(protocol, hostIp);
  }

  setDnsRecords(networkId: string, records: DnsRecord[]): void {
    this.dns.setRecords(networkId, records);
  }

  async close(): Promise<void> {
    await this.released(() => true);
    for (const [key, state] of this.endpoints) await this.closeEndpoint(key, state);
    await this.dns.close();
  }

  /**
   * `portmap`: whether the chain needs portmap at all. An endpoint without published ports skips
   * it on ADD and DEL alike (it had nothing to do, and its process cost 30–100 ms each way).
   */
  private conflist(spec: BridgeNetworkSpec, wholeSubnet: boolean, portmap: boolean): CniConfList {
    return buildConflist(spec, { ipamDir: this.ipamDir, iptables: this.opts.iptables && portmap, wholeSubnet });
  }

  /**
   * CNI DEL. portmap's DEL returns early unless `portMappings` is non-empty, although it then
   * removes the container's rules by chain name and ignores the mappings: pass the request's
   * mappings, or one placeholder when they are unknown (after a restart, on disconnect).
   */
  private cniDel(list: CniConfList, req: AttachRequest): Promise<void> {
    const portMappings = req.portMappings.length
      ? req.portMappings.map((m) => ({ hostPort: m.hostPort || 1, containerPort: m.containerPort, protocol: m.protocol }))
      : [PLACEHOLDER_MAPPING];
    return this.cni.del(list, { containerId: req.containerId, netnsPath: req.netnsPath, ifname: req.ifname, runtimeConfig: { portMappings } });
  }

  private async startProxies(state: EndpointState, req: AttachRequest, containerIp: string): Promise<void> {
    const rk = this.rootlessKit;
    // Rootless: rootlesskit relays the host port to the namespace's loopback, which only the proxy serves.
    if ((!this.opts.userlandProxy && !rk) || req.network.internal) return;
    for (const m of req.portMappings) {
      // The host side first: a port another program holds on the host fails here, in dockerd's words.
      if (rk) state.rootlessKitPorts.push(await rk.add({ protocol: m.protocol, hostIp: m.hostIp, hostPort: m.hostPort, childPort: m.hostPort }));
      const hostIp = rk ? childLoopback(m.hostIp) : m.hostIp;
      const proxy = await startProxy(
        { protocol: m.protocol, hostIp, hostPort: m.hostPort, containerIp, containerPort: m.containerPort },
        { log: this.log, udpIdleMs: this.opts.udpProxyIdleMs },
      );
      state.proxies.push(proxy);
    }
  }

  private async closeEndpoint(key: string, state: EndpointState): Promise<void> {
    this.endpoints.delete(key);
    this.ports.release(key);
    await Promise.all(state.proxies.map((p) => p.close()));
    state.proxies = [];
    const ids = state.rootlessKitPorts;
    state.rootlessKitPorts = [];
    for (const id of ids) {
      // At shutdown rootlesskit may already be gone (and its ports with it).
      await this.rootlessKit?.remove(id).catch((err) => this.log.warn({ err, id }, 'cannot remove a published port from rootlesskit'));
    }
  }

  /** Makes 127.0.0.11 in the namespace reach this gateway, unless another network already serves it. */
  private async pointResolver(netnsPath: string, ifname: string, gateway: string, containerIp: string): Promise<void> {
    if (await hasDnsRedirect(netnsPath)) return;
    await installDnsRedirect(this.netns, { netnsPath, ifname, gateway, containerIp });
  }

  /** After leaving the network that served 127.0.0.11: hand it to another DNS network of the container. */
  private async repointResolver(req: AttachRequest): Promise<void> {
    for (const spec of this.networks.values()) {
      if (!spec.dns || spec.id === req.network.id) continue;
      const alloc = (await readAllocations(this.ipamDir, cniNetworkName(spec))).find((a) => a.containerId === req.containerId && !a.ip.includes(':'));
      if (!alloc) continue;
      await this.pointResolver(req.netnsPath, alloc.ifname, spec.gateway, alloc.ip);
      return;
    }
  }

  private checkStaticIpFree(spec: BridgeNetworkSpec, allocations: readonly IpamAllocation[], ip: string): void {
    checkStaticIp(spec, ip);
    if (allocations.some((a) => a.ip === ip)) throw addressInUse(ip);
  }

  /** At start: allocations of containers that no longer exist are released (CNI DEL cleans portmap too). */
  private async releaseStaleAllocations(spec: BridgeNetworkSpec, liveContainers: ReadonlySet<string>): Promise<void> {
    for (const alloc of await readAllocations(this.ipamDir, cniNetworkName(spec))) {
      if (liveContainers.has(alloc.containerId)) continue;
      this.log.info({ network: spec.id, container: alloc.containerId, ip: alloc.ip }, 'releasing stale address');
      const req: AttachRequest = {
        containerId: alloc.containerId,
        netnsPath: join(this.netnsDir, alloc.containerId),
        ifname: alloc.ifname || 'eth0',
        network: spec,
        portMappings: [],
      };
      // Its mappings are unknown: portmap runs with a placeholder and removes whatever it made.
      await this.cniDel(this.conflist(spec, false, true), req).catch((err) => this.log.warn({ err, network: spec.id }, 'CNI DEL of stale endpoint failed'));
      await removeAllocation(this.ipamDir, cniNetworkName(spec), alloc.ip);
    }
  }

  /** Rewrites Berth's host chains from the known networks (callers hold the network queue). */
  private async applyRules(): Promise<void> {
    if (!this.opts.iptables) return;
    await applyHostRules(this.hostIptables, this.chains, [...this.networks.values()]);
    // The IPv6 side of dual-stack networks gets the same forwarding, isolation and NAT rules.
    const v6 = [...this.networks.values()].flatMap((n) => (n.ipv6 ? [{ ...n, subnet: n.ipv6.subnet, gateway: n.ipv6.gateway, dns: false }] : []));
    if (!v6.length && !this.ip6RulesWritten) return;
    try {
      await applyHostRules(this.hostIp6tables, this.chains, v6);
    } catch (err) {
      // Without dual-stack networks this is only cleanup: a host without ip6tables must still work.
      if (v6.length) throw err;
      this.log.warn({ err }, 'cannot clean up ip6tables chains');
    }
    this.ip6RulesWritten = v6.length > 0;
  }

  private serialized(fn: () => Promise<void>): Promise<void> {
    const run = this.networkQueue.then(fn);
    this.networkQueue = run.catch(() => undefined);
    return run;
  }

  private ensureNetnsDir(): Promise<void> {
    this.netnsDirReady ??= (async () => {
      await mkdir(this.netnsDir, { recursive: true, mode: 0o700 });
      await this.netns.ensurePrivateMountDir(this.netnsDir);
    })().catch((err) => {
      this.netnsDirReady = undefined;
      throw err;
    });
    return this.netnsDirReady;
  }
}

/** dockerd puts link-local addresses on the interface as /16 (IPv4) or /64 (IPv6). */
function linkLocalCidr(ip: string): string {
  return ip.includes(':') ? `${ip}/64` : `${ip}/16`;
}

function endpointKey(req: AttachRequest): string {
  return `${req.containerId}/${req.network.id}`;
}
