/** Container networking: network mode, namespace, endpoints and /etc files of a container (see ContainerNetworking). */
import type { Logger } from 'pino';
import type { EventSink } from '../events/event-log';
import type { AttachRequest, BridgeNetworkSpec, Endpoint } from '../../network/types';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError } from '../../errors';
import { hostsFile, readHostResolvConf, resolvConfFile } from './etc-files';
import { ContainerLinks, editEtcFile, linkHostsLine } from './container-links';
import { linkEnv, linkName } from './legacy-links';
import { checkEndpoint, checkExposedPorts, checkPortBindings, emptyEndpoint, parseNetworkMode, type EndpointRequest, type NetworkInfo } from './network-plan';
import type { ContainerRecords } from './container-records';
import { clearLive, Endpoints, type Plumbing } from './endpoints';
import type { ContainerConfig, ContainerNetworkState, ContainerRecord, EndpointSettings, HostConfig } from './types';

/** What container networking needs from the network service. */
export interface NetworkDirectory {
  get(ref: string): NetworkInfo | Promise<NetworkInfo>;
  specOf(n: NetworkInfo): BridgeNetworkSpec;
  /** `--bridge none`: there is no default bridge, and its containers get a loopback only (dockerd). */
  readonly defaultBridgeDisabled?: boolean;
}

export interface NetworkSetup {
  /** Namespace to join: our own (bridge), another container's (container:), none = runtime creates one. */
  netnsPath?: string;
  hostNetwork: boolean;
  /**
   * `container:<x>`: the id of x, whose network namespace this one joins and whose /etc/hosts,
   * /etc/hostname and /etc/resolv.conf it uses, as dockerd does (Kubernetes rewrites the pod's
   * resolv.conf in the infra container and expects every container of the pod to see it).
   */
  sharedWith?: string;
  /**
   * /etc/hosts. In bridge mode it names the container's own address, so it settles once the
   * endpoints are attached; it rejects (after undoing the setup) when an attach fails.
   */
  hosts: Promise<string>;
  resolvConf: string;
  hostname: string;
  /** Legacy link variables (`<ALIAS>_PORT`, ...), before the container's own Env. */
  env: string[];
  /**
   * With `netnsFromRuntime`: the runtime makes the namespace; call this with the created
   * container's pid (undefined: the create failed) and the endpoints are attached in it.
   */
  adoptNetns?: (pid: number | undefined) => void;
}

export interface ContainerNetworkingDeps {
  plumbing: Plumbing;
  networks: NetworkDirectory;
  log: Logger;
  /**
   * Every record (DNS names, shared namespaces), lookup, the per-container lock, and each
   * container's /etc/hosts and /etc/resolv.conf on the host (bind-mounted while it runs).
   */
  records: ContainerRecords;
  events?: EventSink;
}

const shortId = (id: string) => id.slice(0, 12);

/**
 * A container's network life: its networks planned at create, its namespace and endpoints while
 * it runs with the /etc files that go with them, and `docker network connect/disconnect`. One
 * endpoint's attachment, ports and DNS names are endpoints.ts's; legacy links container-links.ts's.
 */
export class ContainerNetworking {
  readonly links: ContainerLinks;
  readonly endpoints: Endpoints;

  constructor(private readonly deps: ContainerNetworkingDeps) {
    this.links = new ContainerLinks(deps);
    this.endpoints = new Endpoints(deps);
  }

  /**
   * Checks a create request's networking and returns the container's endpoints-to-be. A network
   * that does not exist yet is kept by the name asked for: as with dockerd, the container is
   * created and its start fails with `network <name> not found` (the CLI takes a 404 at create
   * for a missing image and would try to pull it).
   */
  async plan(config: ContainerConfig, hostConfig: HostConfig, networkingConfig: unknown): Promise<ContainerNetworkState> {
    const mode = parseNetworkMode(hostConfig.NetworkMode);
    if (!hostConfig.NetworkMode || hostConfig.NetworkMode === 'default') hostConfig.NetworkMode = 'bridge';
    checkExposedPorts(config.ExposedPorts);
    checkPortBindings(hostConfig.PortBindings);
    const state: ContainerNetworkState = { networks: {}, ports: {} };
    const requests = ((networkingConfig as { EndpointsConfig?: Record<string, EndpointRequest> } | undefined)?.EndpointsConfig ?? {}) as Record<string, EndpointRequest>;
    if (mode.kind === 'container') {
      this.deps.records.get(mode.ref);
      return state;
    }
    const links = this.links.plan(hostConfig.Links ?? [], mode);
    if (links.length) state.links = links;
    const primaryRef = mode.kind === 'bridge' ? mode.primary : mode.kind;
    const primary = await this.find(primaryRef);
    // The CLI keys the primary endpoint by the mode it sent (`default` for the default bridge).
    const isPrimary = (ref: string) => ref === primaryRef || ref === 'default' || (!!primary && (ref === primary.Name || ref === primary.Id));
    const primaryReq = Object.entries(requests).find(([ref]) => isPrimary(ref))?.[1] ?? {};
    const entries: Array<[string, EndpointRequest]> = [[primaryRef, { ...primaryReq }]];
    if (!entries[0][1].MacAddress && typeof config.MacAddress === 'string' && config.MacAddress) entries[0][1].MacAddress = config.MacAddress;
    for (const [ref, req] of Object.entries(requests)) if (!isPrimary(ref)) entries.push([ref, req ?? {}]);
    for (const [ref, req] of entries) {
      const n = ref === primaryRef ? primary : await this.find(ref);
      if (!n) {
        state.networks[ref] = emptyEndpoint('', req);
        continue;
      }
      if (mode.kind !== 'bridge' && n.Id !== primary?.Id) throw new InvalidParameterError(`container cannot be connected to multiple networks with one of the networks in ${mode.kind} mode`);
      checkEndpoint(n, req, n.Name === 'bridge');
      state.networks[n.Name] = emptyEndpoint(n.Id, req);
    }
    return state;
  }

  /** A network by reference, or undefined when there is none (yet). */
  private async find(ref: string): Promise<NetworkInfo | undefined> {
    try {
      return await this.deps.networks.get(ref);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * Sets up networking for a starting container; undoes its own work if a step fails. In
   * bridge mode it returns once the namespace exists and attaches the endpoints in the
   * background (`hosts` settles when they are up), so the runtime can create the container
   * meanwhile. `dnsOnGateway`: the runtime keeps the container's loopback to itself, so the
   * embedded DNS is named by its gateway address rather than 127.0.0.11 (gVisor).
   */
  /** `net.*` sysctls of a container's own namespace, written from the host (see NetworkPlumbing). */
  setSysctls(netnsPath: string, values: Record<string, string>): Promise<void> {
    return this.deps.plumbing.setSysctls(netnsPath, values);
  }

  /**
   * `netnsFromRuntime` (userns-remap): the runtime makes the network namespace inside the
   * container's user namespace, and the endpoints are attached once it exists (`adoptNetns`).
   */
  async setup(c: ContainerRecord, opts: { dnsOnGateway?: boolean; netnsFromRuntime?: boolean } = {}): Promise<NetworkSetup> {
    const mode = parseNetworkMode(c.hostConfig.NetworkMode);
    const hostResolv = await readHostResolvConf();
    const hostname = c.config.Hostname || shortId(c.id);
    const resolvOpts = { dns: c.hostConfig.Dns ?? [], dnsSearch: c.hostConfig.DnsSearch ?? [], dnsOptions: c.hostConfig.DnsOptions ?? [] };
    const extraHosts = c.hostConfig.ExtraHosts ?? [];
    if (mode.kind === 'host') {
      // dockerd copies the host's file unless --dns, --dns-search or --dns-option ask for more (a
      // node-network pod's dns_config); the host's own resolvers stay, loopback ones included.
      const custom = resolvOpts.dns.length + resolvOpts.dnsSearch.length + resolvOpts.dnsOptions.length > 0;
      const resolvConf = custom ? resolvConfFile(hostResolv, { ...resolvOpts, dns: resolvOpts.dns.length ? resolvOpts.dns : hostResolv.nameservers, embeddedDns: false }) : hostResolv.raw;
      return { hostNetwork: true, hostname, hosts: Promise.resolve(hostsFile({ hostname, extraHosts })), resolvConf, env: [] };
    }
    const loopbackOnly = (): NetworkSetup => ({
      hostNetwork: false,
      hostname,
      hosts: Promise.resolve(hostsFile({ hostname, extraHosts })),
      resolvConf: resolvConfFile(hostResolv, { ...resolvOpts, embeddedDns: false }),
      env: [],
    });
    if (mode.kind === 'none') return loopbackOnly();
    if (mode.kind === 'container') {
      const other = this.deps.records.get(mode.ref);
      if (!other.state.Running) throw new ConflictError(`cannot join network namespace of a non running container: container ${other.id} is not running`);
      const netnsPath = other.network?.netnsPath ?? `/proc/${other.state.Pid}/ns/net`;
      const ip = Object.values(other.network?.networks ?? {})[0]?.IPAddress || undefined;
      const sharedHostname = other.config.Hostname || shortId(other.id);
      // As dockerd, the joined container's name resolution is shared: its DNS settings and extra hosts.
      const otherResolv = { dns: other.hostConfig.Dns ?? [], dnsSearch: other.hostConfig.DnsSearch ?? [], dnsOptions: other.hostConfig.DnsOptions ?? [] };
      return {
        hostNetwork: false,
        netnsPath,
        sharedWith: other.id,
        hostname: sharedHostname,
        hosts: Promise.resolve(hostsFile({ hostname: sharedHostname, ip, extraHosts: [...(other.hostConfig.ExtraHosts ?? []), ...extraHosts] })),
        resolvConf: resolvConfFile(hostResolv, { ...otherResolv, embeddedDns: false }),
        env: [],
      };
    }
    const state = (c.network ??= { networks: {}, ports: {} });
    const networks: Array<[EndpointSettings, BridgeNetworkSpec]> = [];
    for (const [name, ep] of Object.entries(state.networks)) {
      // dockerd's DisableBridge (`--bridge none`): the default bridge's endpoint is skipped, and
      // a container that has no other network gets a loopback only (NetworkDisabled).
      if (name === 'bridge' && this.deps.networks.defaultBridgeDisabled) {
        if (Object.keys(state.networks).length === 1) return loopbackOnly();
        continue;
      }
      networks.push([ep, this.deps.networks.specOf(await this.deps.networks.get(ep.NetworkID || name))]);
    }
    let netnsPath: string | undefined;
    let adoptNetns: NetworkSetup['adoptNetns'];
    let pinned = Promise.resolve();
    if (opts.netnsFromRuntime) {
      pinned = new Promise<void>((resolve, reject) => {
        adoptNetns = (pid) => {
          if (pid === undefined) return reject(new Error(`container ${c.id} was not created`));
          this.deps.plumbing.adoptNetns(c.id, pid).then((path) => {
            state.netnsPath = path;
            resolve();
          }, reject);
        };
      });
    } else {
      netnsPath = await this.deps.plumbing.createNetns(c.id);
      state.netnsPath = netnsPath;
    }
    try {
      const links = this.links.resolve(c);
      // Like dockerd: one user-defined network is enough for the embedded DNS.
      const dnsNetwork = networks.find(([, spec]) => spec.dns)?.[1];
      const embeddedDns = !!dnsNetwork;
      const hosts = pinned.then(() => this.attachAll(c, networks)).then((primary) =>
        hostsFile({
          hostname,
          domainname: c.config.Domainname,
          ip: primary?.ip,
          ip6: primary?.ip6,
          extraHosts: extraHosts.map((h) => h.replace(/:host-gateway$/, `:${primary?.gateway ?? ''}`)),
          extraLines: links.map((l) => linkHostsLine(l.child, l.alias, l.ip)),
        }),
      );
      // The starter awaits it after the runtime's create; until then a failure must not count as unhandled.
      hosts.catch(() => undefined);
      return {
        hostNetwork: false,
        netnsPath,
        adoptNetns,
        hostname,
        hosts,
        // The first DNS network is the one 127.0.0.11 leads to (attachAll's order).
        resolvConf: resolvConfFile(hostResolv, { ...resolvOpts, embeddedDns, resolver: opts.dnsOnGateway ? dnsNetwork?.gateway : undefined }),
        env: links.flatMap((l) => linkEnv({ name: linkName(c.name, l.alias), childIp: l.ip, childEnv: l.child.config.Env ?? [], exposedPorts: l.child.config.ExposedPorts })),
      };
    } catch (err) {
      await this.teardown(c);
      throw err;
    }
  }

  /** Attaches the endpoints in order (the first gets the published ports); returns the primary one. */
  private async attachAll(c: ContainerRecord, networks: Array<[EndpointSettings, BridgeNetworkSpec]>): Promise<Endpoint | undefined> {
    try {
      let primary: Endpoint | undefined;
      let index = 0;
      for (const [ep, spec] of networks) {
        const ports = index === 0 ? await this.endpoints.bindPorts(c) : [];
        const endpoint = await this.endpoints.attach(c, spec, ep, `eth${index}`, ports);
        this.endpoints.record(c, ep, spec, endpoint);
        primary ??= endpoint;
        index++;
      }
      this.endpoints.refreshDns(networks.map(([ep]) => ep.NetworkID));
      await this.links.updateParents(c);
      return primary;
    } catch (err) {
      await this.teardown(c);
      throw err;
    }
  }

  /**
   * Detaches every endpoint and removes the namespace; safe to call more than once. The
   * plumbing may finish the work in the background (see `releaseNetns`).
   */
  async teardown(c: ContainerRecord): Promise<void> {
    const state = c.network;
    if (!state?.netnsPath) return;
    const ports = this.endpoints.livePorts(c);
    const requests: AttachRequest[] = [];
    const left: BridgeNetworkSpec[] = [];
    for (const ep of Object.values(state.networks)) {
      if (!ep.ifname) continue;
      try {
        const spec = this.deps.networks.specOf(await this.deps.networks.get(ep.NetworkID));
        requests.push(this.endpoints.request(c, spec, ep, ep.ifname, ports));
        left.push(spec);
      } catch (err) {
        this.deps.log.warn({ err, container: c.id, network: ep.NetworkID }, 'detach failed');
      }
      clearLive(ep);
    }
    await this.deps.plumbing.releaseNetns(state.netnsPath, requests).catch((err) => this.deps.log.warn({ err, container: c.id }, 'releasing the network namespace failed'));
    for (const spec of left) this.endpoints.emit(c, spec, 'disconnect');
    state.netnsPath = undefined;
    state.ports = {};
    this.endpoints.refreshDns(Object.values(state.networks).map((e) => e.NetworkID), c.id);
  }

  /** After a daemon restart: re-create the port proxies and DNS names of a running container. */
  async restore(c: ContainerRecord): Promise<void> {
    const state = c.network;
    if (!state?.netnsPath) return;
    const ports = this.endpoints.livePorts(c);
    let first = true;
    for (const ep of Object.values(state.networks)) {
      if (!ep.ifname) continue;
      const spec = this.deps.networks.specOf(await this.deps.networks.get(ep.NetworkID));
      const endpoint = { ifname: ep.ifname, ip: ep.IPAddress, prefixLen: ep.IPPrefixLen, gateway: ep.Gateway, mac: ep.MacAddress };
      if (first && ports.length) await this.deps.plumbing.restorePorts(this.endpoints.request(c, spec, ep, ep.ifname, ports), endpoint);
      first = false;
    }
    this.endpoints.refreshDns(Object.values(state.networks).map((e) => e.NetworkID));
  }

  /** `docker network connect`: on a running container the endpoint is attached at once. */
  async connectNetwork(networkRef: string, containerRef: string, req: EndpointRequest = {}): Promise<void> {
    const { records } = this.deps;
    const c = records.get(containerRef);
    const n = await this.deps.networks.get(networkRef);
    const mode = parseNetworkMode(c.hostConfig.NetworkMode);
    if (mode.kind !== 'bridge') throw new ForbiddenError(`container sharing network namespace with another container or host cannot be connected to any other network`);
    checkEndpoint(n, req, n.Name === 'bridge');
    await records.locked(c.id, async () => {
      await this.connect(c, n, emptyEndpoint(n.Id, req));
      await records.save(c);
    });
  }

  /** `force` is accepted for API compatibility; an endpoint is always removed when asked. */
  async disconnectNetwork(networkRef: string, containerRef: string, force = false): Promise<void> {
    const { records } = this.deps;
    const c = records.get(containerRef);
    const n = await this.deps.networks.get(networkRef);
    this.deps.log.debug({ container: c.id, network: n.Id, force }, 'disconnect');
    await records.locked(c.id, async () => {
      await this.disconnect(c, n);
      await records.save(c);
    });
  }

  /** Adds a network to a container; attaches at once when it runs. */
  private async connect(c: ContainerRecord, n: NetworkInfo, ep: EndpointSettings): Promise<void> {
    const state = (c.network ??= { networks: {}, ports: {} });
    if (state.networks[n.Name]) throw new ConflictError(`endpoint with name ${c.name.slice(1)} already exists in network ${n.Name}`);
    if (c.state.Running && state.netnsPath) {
      const used = new Set(Object.values(state.networks).map((e) => e.ifname).filter(Boolean));
      let i = 0;
      while (used.has(`eth${i}`)) i++;
      const spec = this.deps.networks.specOf(n);
      const endpoint = await this.endpoints.attach(c, spec, ep, `eth${i}`, []);
      this.endpoints.record(c, ep, spec, endpoint);
      await this.joinedWhileRunning(c, spec, endpoint);
    }
    state.networks[n.Name] = ep;
    this.endpoints.refreshDns([n.Id]);
  }

  /**
   * What dockerd changes in a running container's files when it joins a network: a hosts line
   * for the new address and, on a user-defined network, the embedded DNS in resolv.conf (kept
   * after a disconnect, as dockerd keeps it).
   */
  private async joinedWhileRunning(c: ContainerRecord, spec: BridgeNetworkSpec, endpoint: Endpoint): Promise<void> {
    const paths = this.deps.records.dirs(c.id);
    const hostname = c.config.Hostname || shortId(c.id);
    const names = c.config.Domainname ? `${hostname}.${c.config.Domainname} ${hostname}` : hostname;
    const lines = [`${endpoint.ip}\t${names}`, ...(endpoint.ip6 ? [`${endpoint.ip6}\t${names}`] : [])];
    await editEtcFile(this.deps.log, paths.hostsPath, (text) => `${text.replace(/\n?$/, '\n')}${lines.join('\n')}\n`);
    if (!spec.dns) return;
    const resolvOpts = { dns: c.hostConfig.Dns ?? [], dnsSearch: c.hostConfig.DnsSearch ?? [], dnsOptions: c.hostConfig.DnsOptions ?? [] };
    const embedded = resolvConfFile(await readHostResolvConf(), { ...resolvOpts, embeddedDns: true });
    await editEtcFile(this.deps.log, paths.resolvConfPath, (text) => (/^nameserver 127\.0\.0\.11$/m.test(text) ? text : embedded));
  }

  private async disconnect(c: ContainerRecord, n: NetworkInfo): Promise<void> {
    const state = c.network;
    const entry = state && Object.entries(state.networks).find(([, e]) => e.NetworkID === n.Id);
    if (!state || !entry) throw new NotFoundError(`container ${c.id} is not connected to network ${n.Name}`);
    const [name, ep] = entry;
    if (ep.ifname && state.netnsPath) {
      const spec = this.deps.networks.specOf(n);
      // The live ports, so that the plumbing knows whether portmap has rules to remove.
      await this.deps.plumbing.detach(this.endpoints.request(c, spec, ep, ep.ifname, this.endpoints.livePorts(c)));
      this.endpoints.emit(c, spec, 'disconnect');
      const ips = [ep.IPAddress, ep.GlobalIPv6Address].filter(Boolean);
      if (ips.length && c.state.Running) {
        await editEtcFile(this.deps.log, this.deps.records.dirs(c.id).hostsPath, (text) => text.split('\n').filter((l) => !ips.some((ip) => l.startsWith(`${ip}\t`))).join('\n'));
      }
    }
    delete state.networks[name];
    this.endpoints.refreshDns([n.Id], c.id);
  }

}

export { emptyEndpoint };
