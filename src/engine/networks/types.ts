/**
 * Docker networks as the engine keeps them: the persisted record, the create request it comes
 * from (Docker's NetworkCreateRequest, API v1.51) and the inspect shape it is shown as.
 */

/** Driver options dockerd understands for bridge networks (libnetwork `netlabel`, bridge driver). */
export const NETWORK_OPTION = {
  bridgeName: 'com.docker.network.bridge.name',
  defaultBridge: 'com.docker.network.bridge.default_bridge',
  enableIcc: 'com.docker.network.bridge.enable_icc',
  enableIpMasquerade: 'com.docker.network.bridge.enable_ip_masquerade',
  hostBindingIpv4: 'com.docker.network.bridge.host_binding_ipv4',
  mtu: 'com.docker.network.driver.mtu',
  enableIPv4: 'com.docker.network.enable_ipv4',
  enableIPv6: 'com.docker.network.enable_ipv6',
} as const;

/** The networks every daemon has, by name (dockerd's `network.IsPredefined`). */
export const PREDEFINED_NETWORKS: readonly string[] = ['bridge', 'host', 'none'];
export const isPredefined = (name: string) => PREDEFINED_NETWORKS.includes(name);

/** One entry of `IPAM.Config`, as a client sends it and inspect echoes it. */
export interface IpamConfigEntry {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

export interface IpamRequest {
  Driver?: string;
  Config?: IpamConfigEntry[] | null;
  Options?: Record<string, string> | null;
}

/** POST /networks/create body (Docker's NetworkCreateRequest). */
export interface CreateNetworkOptions {
  Name?: string;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string } | null;
  IPAM?: IpamRequest | null;
  EnableIPv4?: boolean | null;
  EnableIPv6?: boolean | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  /** Deprecated since API 1.44; names are always unique. Accepted and ignored. */
  CheckDuplicate?: boolean;
}

export type NetworkDriver = 'bridge' | 'host' | 'null';

/** What the bridge plumbing needs, decided once at create (or daemon start for `bridge`). */
export interface BridgeSettings {
  /** Linux bridge device, ≤ 15 characters. */
  device: string;
  /** IPv4 subnet in canonical CIDR form. */
  subnet: string;
  /** Gateway address on the bridge (no prefix length). */
  gateway: string;
  /** Sub-range for dynamic addresses, canonical CIDR. */
  ipRange?: string;
  /** The IPv6 side of a dual-stack network (`--ipv6`): canonical subnet, gateway, sub-range. */
  ipv6?: { subnet: string; gateway: string; ipRange?: string };
}

/** `network:<id>` in the store (see store/schema.ts). */
export interface NetworkRecord {
  id: string;
  name: string;
  driver: NetworkDriver;
  /** RFC 3339 with fractional seconds, as Go's RFC3339Nano prints it. */
  created: string;
  internal: boolean;
  attachable: boolean;
  ipam: {
    driver: string;
    /** Echoed as sent: `{}` from the docker CLI, null when the request had no IPAM. */
    options: Record<string, string> | null;
    /** The client's entries, echoed; null when none were given (inspect shows what was allocated). */
    config: IpamConfigEntry[] | null;
  };
  /** `EnableIPv6`: set only when the network was created with it (older records lack it). */
  enableIPv6?: boolean;
  /** Bridge networks only. */
  bridge?: BridgeSettings;
  /** Driver options exactly as created (never defaults for user networks). */
  options: Record<string, string>;
  labels: Record<string, string>;
}

/** A container attached to a network, as the container service reports it. */
export interface NetworkEndpoint {
  containerId: string;
  /** Container name, with or without the leading `/`. */
  name: string;
  endpointId: string;
  mac: string;
  /** Address with prefix length, e.g. `172.18.0.2/16`. */
  ipv4: string;
  /** IPv6 address with prefix length on a dual-stack network, else ''. */
  ipv6?: string;
}

export interface EndpointResource {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

/** GET /networks/{id} and the items of GET /networks (Docker's `Network`). */
export interface NetworkInspect {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: string;
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IpamConfigEntry[] | null };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, EndpointResource>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export interface InspectNetworkOptions {
  /** Accepted for compatibility; swarm services are all a verbose inspect adds. */
  verbose?: boolean;
  /** `local`, `swarm` or `global`: only networks of that scope are found. */
  scope?: string;
}

export interface ListNetworksOptions {
  /** Fill `Containers` (API < 1.28 did; newer lists leave it empty). */
  withContainers?: boolean;
}

/** Docker's NetworkPruneResponse: names of the removed networks; null when none (as dockerd). */
export interface PruneNetworksResult {
  NetworksDeleted: string[] | null;
}

/**
 * `EndpointConfig` of POST /networks/{id}/connect (Docker's EndpointSettings as a request).
 * Implemented by the container service.
 */
export interface ConnectEndpointConfig {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] | null } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  DriverOpts?: Record<string, string> | null;
  GwPriority?: number;
  DNSNames?: string[] | null;
  [key: string]: unknown;
}
