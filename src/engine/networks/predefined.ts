/**
 * The networks every daemon has: `bridge` (the default bridge, on the `--bridge` device with the
 * `--bip` or an automatically chosen subnet), `host` and `none`, shaped as dockerd shows them.
 */
import { formatAddr, formatPrefix, masked, parsePrefix } from '../../network/ipv4';
import { usableRange } from './subnet-pool';
import { NETWORK_OPTION, type BridgeSettings, type NetworkRecord } from './types';

/** The Options dockerd gives its default bridge (`initBridgeDriver` in daemon_unix.go). */
export function defaultBridgeOptions(device: string): Record<string, string> {
  return {
    [NETWORK_OPTION.defaultBridge]: 'true',
    [NETWORK_OPTION.enableIcc]: 'true',
    [NETWORK_OPTION.enableIpMasquerade]: 'true',
    [NETWORK_OPTION.hostBindingIpv4]: '0.0.0.0',
    [NETWORK_OPTION.bridgeName]: device,
    [NETWORK_OPTION.mtu]: '1500',
  };
}

/** `--bip 172.29.0.1/16` → subnet `172.29.0.0/16`, gateway `172.29.0.1`. Throws on a bad value. */
export function parseBip(bip: string): { subnet: string; gateway: string } {
  const p = parsePrefix(bip);
  if (!p) throw new Error(`invalid --bip ${bip}: expected an IPv4 address with a prefix length, e.g. 172.29.0.1/16`);
  const usable = usableRange(p);
  if (p.addr < usable.first || p.addr > usable.last) {
    throw new Error(`invalid --bip ${bip}: ${formatAddr(p.addr)} is not a host address of ${formatPrefix(masked(p))}`);
  }
  return { subnet: formatPrefix(masked(p)), gateway: formatAddr(p.addr) };
}

export function defaultBridgeRecord(id: string, created: string, bridge: BridgeSettings): NetworkRecord {
  return {
    id,
    name: 'bridge',
    driver: 'bridge',
    created,
    internal: false,
    attachable: false,
    ipam: { driver: 'default', options: null, config: [{ Subnet: bridge.subnet, Gateway: bridge.gateway }] },
    bridge,
    options: defaultBridgeOptions(bridge.device),
    labels: {},
  };
}

export function hostOrNoneRecord(name: 'host' | 'none', id: string, created: string): NetworkRecord {
  return {
    id,
    name,
    driver: name === 'host' ? 'host' : 'null',
    created,
    internal: false,
    attachable: false,
    ipam: { driver: 'default', options: null, config: null },
    options: {},
    labels: {},
  };
}
