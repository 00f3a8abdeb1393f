/**
 * Checks of a network create request that need no state, each with dockerd's wording:
 * IPAM (`network.ValidateIPAM` in moby's api/types/network/ipam.go) and the bridge driver's
 * options (`networkConfiguration.fromLabels` in libnetwork/drivers/bridge).
 */
import { cidr6Contains, formatCidr6, isIpv6, isMaskedCidr6, parseCidr6 } from '../../network/ipv6';
import { InvalidParameterError } from '../../errors';
import { parseGoBool } from '../filter-args';
import { contains, formatPrefix, isIPv6Text, isMasked, masked, overlaps, parseAddr, parsePrefix, type Prefix } from '../../network/ipv4';
import { NETWORK_OPTION, type IpamConfigEntry } from './types';

function validateAddress(address: string | undefined, subnet: Prefix): string | undefined {
  if (!address) return undefined;
  if (isIPv6Text(address)) return 'parent subnet is an IPv4 block';
  const addr = parseAddr(address);
  if (addr === undefined) return 'invalid address';
  if (!contains(subnet, addr)) return `parent subnet ${formatPrefix(subnet)} doesn't contain this address`;
  return undefined;
}

function validateIPRange(ipRange: string | undefined, subnet: Prefix): string[] {
  if (!ipRange) return [];
  if (isIPv6Text(ipRange)) return [`invalid ip-range ${ipRange}: parent subnet is an IPv4 block`];
  const range = parsePrefix(ipRange);
  if (!range) return [`invalid ip-range ${ipRange}: invalid CIDR block notation`];
  const errs: string[] = [];
  if (range.bits < subnet.bits) errs.push(`invalid ip-range ${ipRange}: CIDR block is bigger than its parent subnet ${formatPrefix(subnet)}`);
  if (!isMasked(range)) errs.push(`invalid ip-range ${formatPrefix(range)}: it should be ${formatPrefix(masked(range))}`);
  if (!overlaps(subnet, range)) errs.push(`invalid ip-range ${ipRange}: parent subnet ${formatPrefix(subnet)} doesn't contain ip-range`);
  return errs;
}

/**
 * dockerd's IPAM validation for IPv4 entries: every problem of every entry, joined into one 400.
 * IPv6 entries are checked only on a network with IPv6 enabled, as dockerd skips them otherwise.
 */
export function validateIpamConfig(config: readonly IpamConfigEntry[], enableIPv6 = false): void {
  const errs: string[] = [];
  for (const cfg of config) {
    const subnetText = cfg.Subnet ?? '';
    if (isIPv6Text(subnetText)) {
      if (enableIPv6) errs.push(...validateIpv6Entry(cfg));
      continue;
    }
    const subnet = parsePrefix(subnetText);
    if (!subnet) {
      errs.push(`invalid subnet ${subnetText}: invalid CIDR block notation`);
      continue;
    }
    if (!isMasked(subnet)) errs.push(`invalid subnet ${formatPrefix(subnet)}: it should be ${formatPrefix(masked(subnet))}`);
    errs.push(...validateIPRange(cfg.IPRange, subnet));
    const gw = validateAddress(cfg.Gateway, subnet);
    if (gw) errs.push(`invalid gateway ${cfg.Gateway}: ${gw}`);
    for (const [name, aux] of Object.entries(cfg.AuxiliaryAddresses ?? {})) {
      const err = validateAddress(aux, subnet);
      if (err) errs.push(`invalid auxiliary address ${name}: ${err}`);
    }
  }
  if (errs.length) {
    throw new InvalidParameterError(`invalid network config:\n* ${errs.map((e) => e.replace(/\n/g, '\n\t')).join('\n* ')}`);
  }
}

/** The IPv6 counterpart of the checks above (subnet notation and masking, range, gateway). */
function validateIpv6Entry(cfg: IpamConfigEntry): string[] {
  const subnetText = cfg.Subnet ?? '';
  const subnet = parseCidr6(subnetText);
  if (!subnet) return [`invalid subnet ${subnetText}: invalid CIDR block notation`];
  const errs: string[] = [];
  if (!isMaskedCidr6(subnetText)) errs.push(`invalid subnet ${subnetText}: it should be ${formatCidr6(subnet)}`);
  const inSubnet = (what: string, text: string | undefined) => {
    if (!text) return;
    if (!isIPv6Text(text)) errs.push(`${what}: parent subnet is an IPv6 block`);
    else if (!isIpv6(text)) errs.push(`${what}: invalid address`);
    else if (!cidr6Contains(subnet, text)) errs.push(`${what}: parent subnet ${formatCidr6(subnet)} doesn't contain this address`);
  };
  if (cfg.IPRange) {
    const range = parseCidr6(cfg.IPRange);
    if (!range) errs.push(`invalid ip-range ${cfg.IPRange}: invalid CIDR block notation`);
    else if (range.prefixLen < subnet.prefixLen || !cidr6Contains(subnet, formatCidr6(range).split('/')[0])) {
      errs.push(`invalid ip-range ${cfg.IPRange}: parent subnet ${formatCidr6(subnet)} doesn't contain ip-range`);
    }
  }
  inSubnet(`invalid gateway ${cfg.Gateway}`, cfg.Gateway);
  for (const [name, aux] of Object.entries(cfg.AuxiliaryAddresses ?? {})) inSubnet(`invalid auxiliary address ${name}`, aux);
  return errs;
}

/** The bridge driver's parse error (`parseErr` in libnetwork/drivers/bridge). */
const parseErr = (label: string, value: string, reason: string) =>
  new InvalidParameterError(`failed to parse ${label} value: ${value} (${reason})`);

/** Linux interface names (`dev_valid_name`): 1–15 bytes, not `.`/`..`, no `/`, `:` or whitespace. */
export function isValidInterfaceName(name: string): boolean {
  return Buffer.byteLength(name) >= 1 && Buffer.byteLength(name) <= 15 && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}

export interface BridgeOptions {
  /** Device name from `com.docker.network.bridge.name`; undefined means `br-<id12>`. */
  device?: string;
  mtu?: number;
  ipMasquerade: boolean;
  icc: boolean;
}

/** Reads the bridge driver's options, rejecting malformed values as dockerd does. */
export function parseBridgeOptions(options: Record<string, string>): BridgeOptions {
  const out: BridgeOptions = { ipMasquerade: true, icc: true };
  const bool = (label: string, value: string) => {
    const b = parseGoBool(value);
    if (b === undefined) throw parseErr(label, value, `strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
    return b;
  };
  for (const [label, value] of Object.entries(options)) {
    switch (label) {
      case NETWORK_OPTION.bridgeName:
        if (value === '') break;
        if (!isValidInterfaceName(value)) {
          throw parseErr(label, value, "not a valid interface name: 1 to 15 characters, without '/', ':' or spaces");
        }
        out.device = value;
        break;
      case NETWORK_OPTION.mtu: {
        if (!/^[+-]?\d+$/.test(value)) throw parseErr(label, value, `strconv.Atoi: parsing ${JSON.stringify(value)}: invalid syntax`);
        const mtu = Number(value);
        if (mtu < 0) throw new InvalidParameterError(`invalid MTU number: ${mtu}`);
        if (mtu > 0) out.mtu = mtu;
        break;
      }
      case NETWORK_OPTION.enableIpMasquerade:
        out.ipMasquerade = bool(label, value);
        break;
      case NETWORK_OPTION.enableIcc:
        out.icc = bool(label, value);
        break;
      case NETWORK_OPTION.defaultBridge:
        bool(label, value);
        break;
      case NETWORK_OPTION.hostBindingIpv4:
        if (parseAddr(value) === undefined && !isIPv6Text(value)) throw parseErr(label, value, 'nil ip');
        break;
    }
  }
  return out;
}
