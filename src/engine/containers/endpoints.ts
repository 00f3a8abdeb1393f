/**
 * A container's endpoints on its networks: attaching one through the plumbing (with the network
 * layer's errors turned into engine errors), what the record keeps of it, published ports, the
 * names the embedded DNS answers for each network, and network events.
 */
import { createHash } from 'node:crypto';
import type { EventSink } from '../events/event-log';
import type { AttachRequest, BridgeNetworkSpec, DnsRecord, Endpoint, NetworkPlumbing, PortMapping } from '../../network/types';
import { NetworkPlumbingError } from '../../network/errors';
import { ConflictError, InvalidParameterError } from '../../errors';
import type { ContainerRecords } from './container-records';
import { linkAliasRecords } from './legacy-links';
import { requestedPorts } from './network-plan';
import type { ContainerRecord, EndpointSettings, PortBinding } from './types';

export type Plumbing = Pick<NetworkPlumbing, 'createNetns' | 'releaseNetns' | 'attach' | 'detach' | 'setDnsRecords' | 'setSysctls' | 'adoptNetns'> & {
  allocateHostPort(protocol: 'tcp' | 'udp', hostIp: string): Promise<number>;
  restorePorts(req: AttachRequest, endpoint: Endpoint): Promise<void>;
};

export interface EndpointsDeps {
  plumbing: Plumbing;
  /** Every record: the DNS names of a network come from all containers on it. */
  records: Pick<ContainerRecords, 'all'>;
  events?: EventSink;
}

const shortId = (id: string) => id.slice(0, 12);

export class Endpoints {
  constructor(private readonly deps: EndpointsDeps) {}

  /** A network event about a container (dockerd: the container's ID, the network's name and driver). */
  emit(c: ContainerRecord, spec: BridgeNetworkSpec, action: 'connect' | 'disconnect'): void {
    this.deps.events?.publish('network', action, { ID: spec.id, Attributes: { container: c.id, name: spec.name, type: 'bridge' } });
  }

  /** Container IDs with an endpoint on a network, for network inspect and removal checks. */
  endpointsOn(networkId: string) {
    const out: Array<{ containerId: string; name: string; endpointId: string; mac: string; ipv4: string; ipv6: string }> = [];
    for (const c of this.deps.records.all()) {
      for (const ep of Object.values(c.network?.networks ?? {})) {
        if (ep.NetworkID !== networkId || !ep.EndpointID) continue;
        out.push({
          containerId: c.id,
          name: c.name.slice(1),
          endpointId: ep.EndpointID,
          mac: ep.MacAddress,
          ipv4: ep.IPAddress ? `${ep.IPAddress}/${ep.IPPrefixLen}` : '',
          ipv6: ep.GlobalIPv6Address ? `${ep.GlobalIPv6Address}/${ep.GlobalIPv6PrefixLen}` : '',
        });
      }
    }
    return out;
  }

  /** CNI ADD, with the network layer's errors turned into engine errors (dockerd's statuses). */
  async attach(c: ContainerRecord, spec: BridgeNetworkSpec, ep: EndpointSettings, ifname: string, ports: PortMapping[]): Promise<Endpoint> {
    try {
      const endpoint = await this.deps.plumbing.attach(this.request(c, spec, ep, ifname, ports));
      this.emit(c, spec, 'connect');
      return endpoint;
    } catch (err) {
      if (!(err instanceof NetworkPlumbingError)) throw err;
      switch (err.kind) {
        case 'address-in-use':
        case 'endpoint-exists':
          throw new ConflictError(err.message, { cause: err });
        case 'invalid-address':
        case 'invalid-parameter':
          throw new InvalidParameterError(err.message, { cause: err });
        case 'port-allocated':
          throw new Error(`driver failed programming external connectivity on endpoint ${c.name.slice(1)} (${endpointId(c.id, spec.id)}): ${err.message}`, { cause: err });
        default:
          throw err;
      }
    }
  }

  request(c: ContainerRecord, spec: BridgeNetworkSpec, ep: EndpointSettings, ifname: string, portMappings: PortMapping[]): AttachRequest {
    return {
      containerId: c.id,
      netnsPath: c.network!.netnsPath!,
      ifname,
      network: spec,
      ip: ep.IPAMConfig?.IPv4Address || undefined,
      ...(ep.IPAMConfig?.IPv6Address ? { ip6: ep.IPAMConfig.IPv6Address } : {}),
      ...(ep.IPAMConfig?.LinkLocalIPs?.length ? { linkLocalIps: ep.IPAMConfig.LinkLocalIPs } : {}),
      mac: ep.requestedMac,
      portMappings,
    };
  }

  record(c: ContainerRecord, ep: EndpointSettings, spec: BridgeNetworkSpec, e: Endpoint): void {
    ep.ifname = e.ifname;
    ep.NetworkID = spec.id;
    ep.EndpointID = endpointId(c.id, spec.id);
    ep.IPAddress = e.ip;
    ep.IPPrefixLen = e.prefixLen;
    ep.Gateway = e.gateway;
    ep.MacAddress = e.mac;
    ep.GlobalIPv6Address = e.ip6 ?? '';
    ep.GlobalIPv6PrefixLen = e.prefixLen6 ?? 0;
    ep.IPv6Gateway = e.gateway6 ?? '';
    ep.DNSNames = spec.dns ? dnsNames(c, ep) : null;
  }

  /** Resolves `-p` requests to concrete host ports (random ones allocated now). */
  async bindPorts(c: ContainerRecord): Promise<PortMapping[]> {
    const wanted = requestedPorts(c.config, c.hostConfig);
    const live: Record<string, PortBinding[] | null> = {};
    const mappings: PortMapping[] = [];
    for (const [key, bindings] of Object.entries(wanted)) {
      if (!bindings) {
        live[key] = null;
        continue;
      }
      const [port, proto] = key.split('/') as [string, 'tcp' | 'udp'];
      live[key] = [];
      for (const b of bindings) {
        const hostPort = Number(b.HostPort) || (await this.deps.plumbing.allocateHostPort(proto, b.HostIp));
        mappings.push({ hostIp: b.HostIp, hostPort, containerPort: Number(port), protocol: proto });
        live[key]!.push({ HostIp: b.HostIp || '0.0.0.0', HostPort: String(hostPort) });
      }
    }
    c.network!.ports = live;
    return mappings;
  }

  livePorts(c: ContainerRecord): PortMapping[] {
    const out: PortMapping[] = [];
    for (const [key, bindings] of Object.entries(c.network?.ports ?? {})) {
      const [port, proto] = key.split('/') as [string, 'tcp' | 'udp'];
      for (const b of bindings ?? []) out.push({ hostIp: b.HostIp === '0.0.0.0' ? '' : b.HostIp, hostPort: Number(b.HostPort), containerPort: Number(port), protocol: proto });
    }
    return out;
  }

  /**
   * Recomputes the DNS names of the given networks from the running containers on them. An
   * endpoint's Links (`--link name:alias` on a user-defined network) let that container alone
   * resolve the alias to whatever `name` resolves to on the network.
   */
  refreshDns(networkIds: string[], leaving?: string): void {
    for (const networkId of new Set(networkIds)) {
      const records: DnsRecord[] = [];
      const linking: Array<{ client: string; links: string[] }> = [];
      for (const other of this.deps.records.all()) {
        if (other.id === leaving) continue;
        for (const ep of Object.values(other.network?.networks ?? {})) {
          if (ep.NetworkID !== networkId || !ep.IPAddress) continue;
          records.push({ names: dnsNames(other, ep), ip: ep.IPAddress, ...(ep.GlobalIPv6Address ? { ip6: ep.GlobalIPv6Address } : {}) });
          if (ep.Links?.length) linking.push({ client: ep.IPAddress, links: ep.Links });
        }
      }
      const scoped = linkAliasRecords(records, linking);
      this.deps.plumbing.setDnsRecords(networkId, [...records, ...scoped]);
    }
  }
}

/** Names peers resolve a container by: name, aliases, short ID, hostname (dockerd's DNSNames). */
function dnsNames(c: ContainerRecord, ep: EndpointSettings): string[] {
  const names = [c.name.slice(1), ...(ep.Aliases ?? []), shortId(c.id)];
  if (c.config.Hostname && !names.includes(c.config.Hostname)) names.push(c.config.Hostname);
  return [...new Set(names)];
}

/** An endpoint no longer attached: only what the client asked for stays. */
export function clearLive(ep: EndpointSettings): void {
  ep.ifname = undefined;
  ep.EndpointID = '';
  ep.IPAddress = '';
  ep.IPPrefixLen = 0;
  ep.Gateway = '';
  ep.GlobalIPv6Address = '';
  ep.GlobalIPv6PrefixLen = 0;
  ep.IPv6Gateway = '';
  ep.DNSNames = null;
  ep.MacAddress = ep.requestedMac ?? '';
}

/** A stable endpoint ID per (container, network) attachment. */
function endpointId(containerId: string, networkId: string): string {
  return createHash('sha256').update(`${containerId}/${networkId}`).digest('hex');
}
