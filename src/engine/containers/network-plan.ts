import { isIpv4 } from '../../network/ipv4';
import { isIpv6, parseIpv6 } from '../../network/ipv6';
import { ConflictError, InvalidParameterError } from '../../errors';
import type { ContainerConfig, EndpointSettings, HostConfig, PortBinding } from './types';

/**
 * What a create request asks of the network, checked the way dockerd checks it, and turned into
 * the endpoints the container will have (by network name). Pure: network lookups come in.
 */
export interface NetworkInfo {
  Id: string;
  Name: string;
  Driver: string;
}

export type NetworkMode =
  | { kind: 'bridge'; primary: string }
  | { kind: 'host' }
  | { kind: 'none' }
  | { kind: 'container'; ref: string };

export function parseNetworkMode(mode: string | undefined): NetworkMode {
  const m = mode || 'default';
  if (m === 'default' || m === 'bridge') return { kind: 'bridge', primary: 'bridge' };
  if (m === 'host') return { kind: 'host' };
  if (m === 'none') return { kind: 'none' };
  if (m.startsWith('container:')) {
    const ref = m.slice('container:'.length);
    if (!ref) throw new InvalidParameterError('Invalid network mode: invalid container format container:<name|id>');
    return { kind: 'container', ref };
  }
  return { kind: 'bridge', primary: m };
}

/** One entry of NetworkingConfig.EndpointsConfig or a connect request. */
export interface EndpointRequest {
  Aliases?: string[] | null;
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] | null } | null;
  MacAddress?: string;
  Links?: string[] | null;
  DriverOpts?: Record<string, string> | null;
}

/** IPAMConfig as dockerd keeps it: only the fields given (null when none). */
function ipamConfigOf(req: EndpointRequest): EndpointSettings['IPAMConfig'] {
  const c = req.IPAMConfig;
  const out: NonNullable<EndpointSettings['IPAMConfig']> = {};
  if (c?.IPv4Address) out.IPv4Address = c.IPv4Address;
  if (c?.IPv6Address) out.IPv6Address = c.IPv6Address;
  if (c?.LinkLocalIPs?.length) out.LinkLocalIPs = [...c.LinkLocalIPs];
  return Object.keys(out).length ? out : null;
}

export function emptyEndpoint(networkId: string, req: EndpointRequest = {}): EndpointSettings {
  return {
    IPAMConfig: ipamConfigOf(req),
    Links: req.Links?.length ? req.Links : null,
    Aliases: req.Aliases?.length ? [...req.Aliases] : null,
    MacAddress: req.MacAddress ?? '',
    DriverOpts: req.DriverOpts ?? null,
    NetworkID: networkId,
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
    ...(req.MacAddress ? { requestedMac: req.MacAddress } : {}),
  };
}

const MAC = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;

/** Validates one endpoint request for network `n` (dockerd's rules for the default bridge). */
export function checkEndpoint(n: NetworkInfo, req: EndpointRequest, isDefaultBridge: boolean): void {
  const ip = req.IPAMConfig?.IPv4Address;
  const ip6 = req.IPAMConfig?.IPv6Address;
  if (ip && !isIpv4(ip)) throw new InvalidParameterError(`invalid IPv4 address: ${ip}`);
  if (ip6 && (!isIpv6(ip6) || parseIpv6(ip6) === 0n)) throw new InvalidParameterError(`invalid IPv6 address: ${ip6}`);
  for (const ll of req.IPAMConfig?.LinkLocalIPs ?? []) {
    if ((!isIpv4(ll) && !isIpv6(ll)) || ll === '0.0.0.0' || parseIpv6(ll) === 0n) throw new InvalidParameterError(`invalid link-local IP address: ${ll}`);
  }
  if (req.MacAddress && !MAC.test(req.MacAddress)) throw new InvalidParameterError(`invalid MAC address: ${req.MacAddress}`);
  if (isDefaultBridge || n.Driver !== 'bridge') {
    if (ip || ip6) throw new InvalidParameterError('user specified IP address is supported on user defined networks only');
    if (req.Aliases?.length) throw new InvalidParameterError('network-scoped alias is supported only for containers in user defined networks');
  }
}

/** `<1-65535>[/tcp|udp|sctp]`: the port and protocol of a key of ExposedPorts/PortBindings. */
export function parsePortKey(key: string): { port: number; proto: 'tcp' | 'udp' | 'sctp' } | undefined {
  const m = /^([0-9]{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(key);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) return undefined;
  return { port: Number(m[1]), proto: (m[2]?.toLowerCase() ?? 'tcp') as 'tcp' | 'udp' | 'sctp' };
}

/**
 * ExposedPorts keys. dockerd stores any key (`99999/tcp`, `-1/tcp`, `80/xyz`) and then every
 * `docker ps` fails decoding it as a uint16; Berth refuses them at create, as it does for -p.
 */
export function checkExposedPorts(ports: ContainerConfig['ExposedPorts']): void {
  for (const key of Object.keys(ports ?? {})) {
    if (!parsePortKey(key)) throw new InvalidParameterError(`invalid port specification: "${key}"`);
  }
}

/** Validates `-p` bindings: `80/tcp` keys, numeric host ports, host IPs. */
export function checkPortBindings(bindings: HostConfig['PortBindings']): void {
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
    if (!m || !parsePortKey(key)) throw new InvalidParameterError(`invalid port specification: "${key}"`);
    if (m[2] === 'sctp') throw new InvalidParameterError(`sctp port mappings are not supported: "${key}"`);
    for (const b of list ?? []) {
      if (b.HostPort && !/^\d+$/.test(b.HostPort)) throw new InvalidParameterError(`invalid port specification: "${b.HostPort}"`);
      // "0" (what testcontainers sends) and "" both ask for any free port.
      if (b.HostPort && Number(b.HostPort) > 65535) throw new InvalidParameterError(`invalid port specification: "${b.HostPort}"`);
      if (b.HostIp && !isIpv4(b.HostIp) && b.HostIp !== '::' && b.HostIp !== '') throw new InvalidParameterError(`invalid IP address: ${b.HostIp}`);
    }
  }
}

/** The port bindings a container asks for: explicit `-p`, plus `-P` for every exposed port. */
export function requestedPorts(config: ContainerConfig, hostConfig: HostConfig): Record<string, PortBinding[] | null> {
  const out: Record<string, PortBinding[] | null> = {};
  for (const key of Object.keys(config.ExposedPorts ?? {})) out[normalizePortKey(key)] = null;
  for (const [key, list] of Object.entries(hostConfig.PortBindings ?? {})) {
    out[normalizePortKey(key)] = (list ?? []).map((b) => ({ HostIp: b.HostIp ?? '', HostPort: b.HostPort ?? '' }));
  }
  if (hostConfig.PublishAllPorts) {
    for (const key of Object.keys(out)) if (!out[key]) out[key] = [{ HostIp: '', HostPort: '' }];
  }
  return out;
}

export const normalizePortKey = (key: string) => (key.includes('/') ? key : `${key}/tcp`);

/** A running container is needed to share its namespace (`--network container:x`). */
export function notRunningForSharing(ref: string): ConflictError {
  return new ConflictError(`cannot join network namespace of a non running container: container ${ref} is not running`);
}
