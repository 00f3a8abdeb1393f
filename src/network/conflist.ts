/**
 * A Berth bridge network in CNI terms: its configuration list going in, the endpoint (and
 * Berth's errors) coming out. The configuration list:
 *
 *   bridge (+ host-local IPAM, `mac` and `ips` capabilities)
 *   → portmap (`portMappings` capability, snat) — only with iptables and not internal
 *
 * The bridge device already exists (`ensureNetwork` creates it with its gateway address so
 * the DNS server can bind there); the bridge plugin reuses it. Outbound NAT, forwarding and
 * isolation are Berth's own per-network rules (host-rules.ts), so the bridge plugin's `ipMasq`
 * is off and the `firewall` plugin is not used: it inserts per-container ACCEPT rules at the
 * top of FORWARD, ahead of Berth's isolation rules, which would let containers of `--internal`
 * networks and of other networks reach each other.
 */
import type { AttachRequest, BridgeNetworkSpec, Endpoint } from './types';
import { CNI_VERSION, isAddressUnavailable, isRangeExhausted, type CniConfList, type CniPluginConf, type CniResult } from './cni';
import { addressInUse, NetworkPlumbingError } from './errors';
import { hostRange, parseCidr } from './ipv4';
import { formatIpv6, lastAddress6, nthAddress6, parseCidr6, parseIpv6 } from './ipv6';

export interface ConflistOptions {
  /** host-local's dataDir: allocations live in `<ipamDir>/<network id>/<ip>`. */
  ipamDir: string;
  /** Add portmap (DNAT for published ports). Off with `--iptables=false`. */
  iptables: boolean;
  /**
   * Allocate from the whole subnet instead of `ipRange`: used for a static address, which
   * Docker accepts anywhere in the subnet. Allocations share the same dataDir, so no address
   * is ever handed out twice.
   */
  wholeSubnet?: boolean;
}

/** The CNI network name of a Berth network (also the name of its host-local directory). */
export function cniNetworkName(spec: BridgeNetworkSpec): string {
  return spec.id;
}

export function buildConflist(spec: BridgeNetworkSpec, opts: ConflistOptions): CniConfList {
  const subnet = parseCidr(spec.subnet);
  const range: Record<string, string> = { subnet: spec.subnet, gateway: spec.gateway };
  if (spec.ipRange && !opts.wholeSubnet) {
    const r = hostRange(subnet, parseCidr(spec.ipRange));
    range.rangeStart = r.start;
    range.rangeEnd = r.end;
  }
  const ranges: Array<Array<Record<string, string>>> = [[range]];
  if (spec.ipv6) {
    const range6: Record<string, string> = { subnet: spec.ipv6.subnet, gateway: spec.ipv6.gateway };
    if (spec.ipv6.ipRange && !opts.wholeSubnet) {
      const r = parseCidr6(spec.ipv6.ipRange)!;
      range6.rangeStart = nthAddress6(r, r.network === parseCidr6(spec.ipv6.subnet)!.network ? 1 : 0);
      range6.rangeEnd = lastAddress6(r);
    }
    ranges.push([range6]);
  }
  const bridge: CniPluginConf = {
    type: 'bridge',
    bridge: spec.bridge,
    isGateway: true,
    // No default route on an internal network: nothing beyond the bridge is reachable.
    isDefaultGateway: !spec.internal,
    ipMasq: false,
    hairpinMode: true,
    ...(spec.mtu ? { mtu: spec.mtu } : {}),
    capabilities: { mac: true, ips: true },
    ipam: { type: 'host-local', ranges, dataDir: opts.ipamDir },
  };
  const plugins: CniPluginConf[] = [bridge];
  if (opts.iptables && !spec.internal) {
    plugins.push({ type: 'portmap', capabilities: { portMappings: true }, snat: true });
  }
  return { cniVersion: CNI_VERSION, name: cniNetworkName(spec), plugins };
}

/**
 * portmap's DEL returns early unless `portMappings` is non-empty (it then removes the
 * container's rules by chain name, ignoring the mappings): sent when the mappings are unknown.
 */
export const PLACEHOLDER_MAPPING = { hostPort: 1, containerPort: 1, protocol: 'tcp' as const };

/** The part of a network's chain that can be torn down without knowing the network's spec. */
export function portmapOnly(name: string): CniConfList {
  return { cniVersion: CNI_VERSION, name, plugins: [{ type: 'portmap', capabilities: { portMappings: true }, snat: true }] };
}

/** The container-side interface and its IPv4 address in a CNI result. */
export function endpointFromResult(result: CniResult, req: AttachRequest): Endpoint {
  const interfaces = result.interfaces ?? [];
  const index = interfaces.findIndex((i) => i.name === req.ifname && i.sandbox);
  const ipc = (result.ips ?? []).find((c) => c.interface === index && !c.address.includes(':')) ?? (result.ips ?? []).find((c) => !c.address.includes(':'));
  if (index < 0 || !ipc) throw new Error(`CNI result for ${req.ifname} has no IPv4 address: ${JSON.stringify(result)}`);
  const [ip, prefix] = ipc.address.split('/');
  const endpoint: Endpoint = {
    ifname: req.ifname,
    ip,
    prefixLen: Number(prefix),
    gateway: ipc.gateway ?? req.network.gateway,
    mac: interfaces[index].mac ?? '',
  };
  const v6 = (result.ips ?? []).find((c) => c.interface === index && c.address.includes(':')) ?? (result.ips ?? []).find((c) => c.address.includes(':'));
  if (v6 && req.network.ipv6) {
    const [ip6, prefix6] = v6.address.split('/');
    endpoint.ip6 = formatIpv6(parseIpv6(ip6)!);
    endpoint.prefixLen6 = Number(prefix6);
    endpoint.gateway6 = v6.gateway ?? req.network.ipv6.gateway;
  }
  return endpoint;
}

/** host-local's failures as Berth's errors. */
export function mapAddError(err: unknown, req: AttachRequest): unknown {
  if (req.ip && isAddressUnavailable(err)) return addressInUse(req.ip, { cause: err });
  if (isRangeExhausted(err)) {
    return new NetworkPlumbingError('no-addresses', `no available IPv4 addresses on this network's address pools: ${req.network.name} (${req.network.id})`, { cause: err });
  }
  return err;
}
