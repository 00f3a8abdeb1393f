/**
 * How network records are shown: Docker's `Network` object for inspect and list (API v1.51),
 * built the way dockerd's `buildNetworkResource` / `buildIPAMResources` build it.
 */
import { isIPv6Text } from '../../network/ipv4';
import type { EndpointResource, IpamConfigEntry, NetworkEndpoint, NetworkInspect, NetworkRecord } from './types';

/** IPAM.Config: the client's entries when it gave a subnet, else what was allocated (null for host/none). */
function ipamConfigOf(rec: NetworkRecord): IpamConfigEntry[] | null {
  const given = (rec.ipam.config ?? []).filter((c) => c.Subnet);
  if (!rec.bridge) return given.length ? given.map((c) => ({ ...c })) : null;
  // Per family: the client's entry, else what was allocated (dockerd lists IPv4 first).
  const v4 = given.filter((c) => !isIPv6Text(c.Subnet!));
  const v6 = given.filter((c) => isIPv6Text(c.Subnet!));
  const out: IpamConfigEntry[] = v4.length ? v4.map((c) => ({ ...c })) : [{ Subnet: rec.bridge.subnet, Gateway: rec.bridge.gateway }];
  if (v6.length) out.push(...v6.map((c) => ({ ...c })));
  else if (rec.enableIPv6 && rec.bridge.ipv6) out.push({ Subnet: rec.bridge.ipv6.subnet, Gateway: rec.bridge.ipv6.gateway });
  return out;
}

export function endpointResource(e: NetworkEndpoint): EndpointResource {
  return {
    Name: e.name.replace(/^\//, ''),
    EndpointID: e.endpointId,
    MacAddress: e.mac,
    IPv4Address: e.ipv4,
    IPv6Address: e.ipv6 ?? '',
  };
}

export function networkView(rec: NetworkRecord, endpoints: readonly NetworkEndpoint[] | undefined): NetworkInspect {
  const containers: Record<string, EndpointResource> = {};
  for (const e of endpoints ?? []) containers[e.containerId] = endpointResource(e);
  return {
    Name: rec.name,
    Id: rec.id,
    Created: rec.created,
    Scope: 'local',
    Driver: rec.driver,
    EnableIPv4: true,
    EnableIPv6: rec.enableIPv6 === true,
    IPAM: { Driver: rec.ipam.driver, Options: rec.ipam.options ? { ...rec.ipam.options } : null, Config: ipamConfigOf(rec) },
    Internal: rec.internal,
    Attachable: rec.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: { ...rec.options },
    Labels: { ...rec.labels },
  };
}

/** Go's RFC3339Nano of a JavaScript time (millisecond precision, trailing zeros dropped). */
export function rfc3339Nano(d: Date): string {
  const iso = d.toISOString(); // 2006-01-02T15:04:05.000Z
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}
