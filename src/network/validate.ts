/**
 * Checks of what the engine hands the plumbing, before any of it reaches a command line or a
 * file name: interface names, CIDRs, addresses, MACs, ports.
 */
import { addressInUse, invalidAddress, invalidParameter } from './errors';
import { cidrContains, isHostAddress, isIpv4, parseCidr } from './ipv4';
import { cidr6Contains, isIpv6, parseCidr6, parseIpv6 } from './ipv6';
import type { AttachRequest, BridgeNetworkSpec } from './types';

/** Linux interface names: 1–15 characters, no '/', whitespace or ':' (kept to a safe subset). */
function isInterfaceName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/.test(name);
}

function isMac(mac: string): boolean {
  return /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac);
}

export function checkNetworkSpec(spec: BridgeNetworkSpec): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(spec.id)) throw invalidParameter(`invalid network id: ${spec.id}`);
  if (!isInterfaceName(spec.bridge)) throw invalidParameter(`invalid bridge name: ${spec.bridge}`);
  let subnet;
  try {
    subnet = parseCidr(spec.subnet);
  } catch {
    throw invalidParameter(`invalid subnet: ${spec.subnet}`);
  }
  if (!isIpv4(spec.gateway) || !isHostAddress(subnet, spec.gateway)) {
    throw invalidParameter(`invalid gateway ${spec.gateway} for subnet ${spec.subnet}`);
  }
  if (spec.ipRange !== undefined) {
    let range;
    try {
      range = parseCidr(spec.ipRange);
    } catch {
      throw invalidParameter(`invalid ip range: ${spec.ipRange}`);
    }
    if (range.bits < subnet.bits || !cidrContains(subnet, spec.ipRange.split('/')[0])) {
      throw invalidParameter(`ip range ${spec.ipRange} is not within subnet ${spec.subnet}`);
    }
  }
  if (spec.ipv6) {
    const subnet6 = parseCidr6(spec.ipv6.subnet);
    if (!subnet6) throw invalidParameter(`invalid IPv6 subnet: ${spec.ipv6.subnet}`);
    if (!cidr6Contains(subnet6, spec.ipv6.gateway)) throw invalidParameter(`invalid gateway ${spec.ipv6.gateway} for subnet ${spec.ipv6.subnet}`);
    if (spec.ipv6.ipRange !== undefined) {
      const range = parseCidr6(spec.ipv6.ipRange);
      if (!range || range.prefixLen < subnet6.prefixLen || !cidr6Contains(subnet6, spec.ipv6.ipRange.split('/')[0])) {
        throw invalidParameter(`ip range ${spec.ipv6.ipRange} is not within subnet ${spec.ipv6.subnet}`);
      }
    }
  }
  if (spec.mtu !== undefined && (!Number.isInteger(spec.mtu) || spec.mtu < 68 || spec.mtu > 65535)) {
    throw invalidParameter(`invalid MTU: ${spec.mtu}`);
  }
}

export function checkAttachRequest(req: AttachRequest): void {
  checkNetworkSpec(req.network);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(req.containerId)) throw invalidParameter(`invalid container id: ${req.containerId}`);
  if (!isInterfaceName(req.ifname)) throw invalidParameter(`invalid interface name: ${req.ifname}`);
  if (req.mac !== undefined && !isMac(req.mac)) throw invalidParameter(`invalid MAC address: ${req.mac}`);
  if (req.ip !== undefined && !isIpv4(req.ip)) throw invalidParameter(`invalid IPv4 address: ${req.ip}`);
  if (req.ip6 !== undefined && !isIpv6(req.ip6)) throw invalidParameter(`invalid IPv6 address: ${req.ip6}`);
  for (const ll of req.linkLocalIps ?? []) {
    if (!isIpv4(ll) && !isIpv6(ll)) throw invalidParameter(`invalid link-local IP address: ${ll}`);
  }
  for (const m of req.portMappings) {
    const ok = (p: number) => Number.isInteger(p) && p >= 0 && p <= 65535;
    if (!ok(m.hostPort) || !ok(m.containerPort) || m.containerPort === 0) {
      throw invalidParameter(`invalid port mapping ${m.hostPort}:${m.containerPort}`);
    }
    if (m.protocol !== 'tcp' && m.protocol !== 'udp') throw invalidParameter(`invalid protocol: ${String(m.protocol)}`);
    if (m.hostIp !== '' && !isIpv4(m.hostIp) && m.hostIp !== '::') throw invalidParameter(`invalid host IP: ${m.hostIp}`);
  }
}

/** A static address must be a host address of the subnet; the gateway's is taken. */
export function checkStaticIp(spec: BridgeNetworkSpec, ip: string): void {
  if (isIpv6(ip)) {
    // dockerd's words when the network has no IPv6 subnet to take the address from.
    if (!spec.ipv6) throw invalidParameter('user specified IP address is supported only when connecting to networks with user configured subnets');
    if (!cidr6Contains(parseCidr6(spec.ipv6.subnet)!, ip)) throw invalidAddress(ip);
    if (parseIpv6(ip) === parseIpv6(spec.ipv6.gateway)) throw addressInUse(ip);
    return;
  }
  if (!isHostAddress(parseCidr(spec.subnet), ip)) throw invalidAddress(ip);
  if (ip === spec.gateway) throw addressInUse(ip);
}
