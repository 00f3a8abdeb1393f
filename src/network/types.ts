/**
 * The network layer: Docker-style bridge networks built on the CNI reference plugins
 * (bridge + host-local IPAM + portmap + firewall), network namespaces, the embedded DNS server,
 * the userland proxy for published ports, and cleanup. It knows nothing of the Docker API or
 * the engine: the engine hands it plain specs and gets plain results (paths, addresses).
 */

/** The slice of the daemon's pino logger the network layer uses. */
export interface NetworkLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** A bridge network as the plumbing needs it. */
export interface BridgeNetworkSpec {
  /** Docker network ID (64 hex). */
  id: string;
  name: string;
  /** Linux bridge device, e.g. `berth0` or `br-<id12>` (≤ 15 chars). */
  bridge: string;
  /** IPv4 subnet in CIDR form, e.g. `172.30.0.0/16`. */
  subnet: string;
  /** Gateway address on the bridge, e.g. `172.30.0.1`. */
  gateway: string;
  /** Optional sub-range for dynamic allocation (CIDR within subnet). */
  ipRange?: string;
  /** `--internal`: no outbound NAT, no published ports, no route off the bridge. */
  internal: boolean;
  /** Outbound MASQUERADE (off when internal or the daemon runs with --iptables=false). */
  ipMasq: boolean;
  /** Serve the embedded DNS on this network (user-defined networks; not the default bridge). */
  dns: boolean;
  mtu?: number;
  /** Dual stack (`--ipv6`): the IPv6 subnet, the bridge's IPv6 address and an optional sub-range. */
  ipv6?: { subnet: string; gateway: string; ipRange?: string };
}

export interface PortMapping {
  /** Host address to bind; '' or '0.0.0.0' means all IPv4 addresses. */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

export interface AttachRequest {
  containerId: string;
  /** Path of the container's network namespace (from `createNetns`). */
  netnsPath: string;
  /** Interface name inside the container: eth0, eth1, ... */
  ifname: string;
  network: BridgeNetworkSpec;
  /** Static address (`--ip`); undefined = next free from IPAM. */
  ip?: string;
  /** Static IPv6 address (`--ip6`) on a dual-stack network. */
  ip6?: string;
  /** Extra link-local addresses (`--link-local-ip`), added to the interface as dockerd adds them. */
  linkLocalIps?: string[];
  /** Static MAC (`--mac-address`); undefined = generated. */
  mac?: string;
  /**
   * Published ports for this endpoint (only on the first/primary network). Host ports are
   * concrete (resolve `-p CPORT` with `allocateHostPort` first). Ignored on internal networks.
   */
  portMappings: PortMapping[];
}

export interface Endpoint {
  ifname: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  /** On a dual-stack network: the IPv6 address, its prefix length and gateway. */
  ip6?: string;
  prefixLen6?: number;
  gateway6?: string;
}

/** A name the embedded DNS answers on one network. */
export interface DnsRecord {
  /** Names are matched case-insensitively: container name, aliases, short ID, hostname. */
  names: string[];
  ip: string;
  /** The endpoint's IPv6 address on a dual-stack network (AAAA answers). */
  ip6?: string;
  /** Only queries from this (IPv4) address see these names (a link alias of one container). */
  client?: string;
}

/**
 * The facade the engine uses. Every method is idempotent where the engine may retry after a
 * daemon restart (ensureNetwork, detach, removeNetns, removeNetwork).
 */
export interface NetworkPlumbing {
  /** Called once at daemon start; removes leftovers of objects that no longer exist. */
  init(live: { networks: BridgeNetworkSpec[]; netnsPaths: string[] }): Promise<void>;
  /** Create the bridge device with its gateway address and the network's iptables rules. */
  ensureNetwork(spec: BridgeNetworkSpec): Promise<void>;
  /** Delete the bridge, its rules and its IPAM state. */
  removeNetwork(spec: BridgeNetworkSpec): Promise<void>;
  /** A new persistent network namespace for a container (a bind-mounted nsfs file). */
  createNetns(containerId: string): Promise<string>;
  removeNetns(netnsPath: string): Promise<void>;
  /**
   * Like `createNetns`, for a namespace the runtime made (process `pid`'s): userns-remap, where
   * the namespace must belong to the container's user namespace (as dockerd's do) for the
   * runtime to mount /sys and write net sysctls in it.
   */
  adoptNetns(containerId: string, pid: number): Promise<string>;
  /**
   * `net.*` sysctls written from the host's side, for a container whose runtime cannot write
   * them itself (userns-remap: the namespace belongs to the host's user namespace, not the
   * container's).
   */
  setSysctls(netnsPath: string, values: Record<string, string>): Promise<void>;
  /** Run the CNI chain ADD: veth into the namespace, address, routes, port mappings. */
  attach(req: AttachRequest): Promise<Endpoint>;
  /** Run the CNI chain DEL; frees the address and port mappings. */
  detach(req: AttachRequest): Promise<void>;
  /**
   * The end of a container's run: detach every endpoint of the namespace and remove it. Port
   * reservations and proxies are released before this returns. Without published ports the CNI
   * DEL and the unmount (nothing another container could notice) finish in the background, and
   * what depends on them waits: `createNetns` of the same container, `attach` of a static
   * address or to a full range, `removeNetwork`, `close`. A daemon that dies meanwhile finds the
   * leftovers at `init`, as after any crash.
   */
  releaseNetns(netnsPath: string, endpoints: AttachRequest[]): Promise<void>;
  /**
   * After a daemon restart, for an endpoint that is still attached (its container kept running):
   * re-create what lives only in the daemon process — the port reservations and userland
   * proxies of `req.portMappings` — without running CNI ADD again. `endpoint` is what `attach`
   * returned. Idempotent.
   */
  restorePorts(req: AttachRequest, endpoint: Endpoint): Promise<void>;
  /** A free host port for `-p CPORT` (the kernel's ephemeral range, 32768–60999 by default). */
  allocateHostPort(protocol: 'tcp' | 'udp', hostIp: string): Promise<number>;
  /** Replace the names the embedded DNS answers on a network. */
  setDnsRecords(networkId: string, records: DnsRecord[]): void;
  /** Upstream resolvers for names not on a network (`host:port` or `host`). */
  readonly upstreamResolvers: readonly string[];
  close(): Promise<void>;
}
