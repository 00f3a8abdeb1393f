/**
 * Turns a create request into the record of a new bridge network, or throws dockerd's error.
 * The checks run in dockerd's order (daemon `createNetwork` → libnetwork `NewNetwork` → IPAM →
 * bridge driver), so a request with several problems reports the one dockerd would.
 */
import { randomBytes } from 'node:crypto';
import { cidr6Overlaps, formatCidr6, formatIpv6, nthAddress6, parseCidr6, parseIpv6 } from '../../network/ipv6';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError, NotImplementedError } from '../../errors';
import { parseBridgeOptions, validateIpamConfig } from './create-validation';
import { parseGoBool } from '../filter-args';
import { formatAddr, formatPrefix, isIPv6Text, overlaps, parseAddr, parsePrefix, type Prefix } from '../../network/ipv4';
import { allocateSubnet, defaultGateway, usableRange } from './subnet-pool';
import { NETWORK_OPTION, isPredefined, type BridgeSettings, type CreateNetworkOptions, type IpamConfigEntry, type NetworkRecord } from './types';

export interface CreateContext {
  id: string;
  created: string;
  existing: readonly NetworkRecord[];
  /** Subnets the host uses (its own bridges' routes excluded), avoided by automatic allocation. */
  reserved: readonly Prefix[];
}

const NOT_SWARM_MANAGER =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

/** EnableIPv4/EnableIPv6 from the field, else from the driver option (which the field removes). */
function ipFamilyFlag(field: boolean | null | undefined, options: Record<string, string>, key: string, dflt: boolean): boolean {
  if (field !== undefined && field !== null) {
    delete options[key];
    return field;
  }
  if (key in options) {
    const b = parseGoBool(options[key]);
    if (b === undefined) throw new InvalidParameterError(`driver-opt ${JSON.stringify(key)} is not a valid bool`);
    return b;
  }
  return dflt;
}

function checkDriver(driver: string): void {
  if (driver === 'bridge') return;
  if (driver === 'host' || driver === 'null') throw new ForbiddenError(`only one instance of "${driver}" network is allowed`);
  if (driver === 'overlay') throw new ForbiddenError(NOT_SWARM_MANAGER);
  if (driver === 'macvlan' || driver === 'ipvlan') {
    throw new NotImplementedError(`the "${driver}" network driver is not supported by Berth: only "bridge" networks can be created`);
  }
  throw new NotFoundError(`plugin "${driver}" not found`);
}

function checkUnsupported(req: CreateNetworkOptions): void {
  if (req.Scope && req.Scope !== 'local') throw new NotImplementedError(`only local networks are supported by Berth, not scope "${req.Scope}"`);
  if (req.Ingress) throw new NotImplementedError('ingress networks need swarm mode, which Berth does not support');
  if (req.ConfigOnly || req.ConfigFrom?.Network) throw new NotImplementedError('config-only networks are not supported by Berth');
  const ipamDriver = req.IPAM?.Driver ?? '';
  if (ipamDriver !== '' && ipamDriver !== 'default') {
    if (ipamDriver === 'null') throw new NotImplementedError('the "null" IPAM driver is not supported by Berth');
    throw new NotFoundError(`plugin "${ipamDriver}" not found`);
  }
}

const bridgesOf = (existing: readonly NetworkRecord[]) =>
  existing.filter((r): r is NetworkRecord & { bridge: BridgeSettings } => r.bridge !== undefined);

/** Subnet, gateway and IP range: the client's, checked against other networks, or allocated. */
function addressing(req: CreateNetworkOptions, ctx: CreateContext, device: string): Omit<BridgeSettings, 'device'> {
  const bridges = bridgesOf(ctx.existing);
  const cfg = (req.IPAM?.Config ?? []).find((c) => !isIPv6Text(c.Subnet ?? ''));
  if (!cfg?.Subnet) {
    const subnet = allocateSubnet([...bridges.map((b) => parsePrefix(b.bridge.subnet)!), ...ctx.reserved]);
    return { subnet, gateway: formatAddr(defaultGateway(parsePrefix(subnet)!)!) };
  }
  const subnet = parsePrefix(cfg.Subnet)!;
  const ipRange = cfg.IPRange ? parsePrefix(cfg.IPRange) : undefined;
  const clash = bridges.find((b) => overlaps(parsePrefix(b.bridge.subnet)!, subnet));
  if (clash) {
    // With an IP range dockerd's IPAM lets the pool through and the bridge driver refuses it.
    if (ipRange) {
      throw new ForbiddenError(
        `cannot create network ${ctx.id} (${device}): conflicts with network ${clash.id} (${clash.bridge.device}): networks have overlapping IPv4`,
      );
    }
    throw new ForbiddenError('invalid pool request: Pool overlaps with other one on this address space');
  }
  let gateway: number | undefined;
  if (cfg.Gateway) {
    gateway = parseAddr(cfg.Gateway)!;
    const usable = usableRange(subnet);
    if (gateway < usable.first || gateway > usable.last) {
      throw new InvalidParameterError(`failed to allocate gateway (${cfg.Gateway}): Address already in use`);
    }
  } else {
    gateway = defaultGateway(subnet, ipRange);
    if (gateway === undefined) throw new InvalidParameterError('failed to allocate gateway: no available addresses on this pool');
  }
  return { subnet: formatPrefix(subnet), gateway: formatAddr(gateway), ...(ipRange ? { ipRange: formatPrefix(ipRange) } : {}) };
}

/**
 * The IPv6 side of a dual-stack network: the client's subnet (not overlapping another network's),
 * its gateway or the subnet's first address; without a subnet, a random ULA /64 (as current
 * dockerd takes one from its default IPv6 pool).
 */
function addressing6(cfg: IpamConfigEntry | undefined, ctx: CreateContext): NonNullable<BridgeSettings['ipv6']> {
  const taken = bridgesOf(ctx.existing).flatMap((b) => (b.bridge.ipv6 ? [parseCidr6(b.bridge.ipv6.subnet)!] : []));
  if (!cfg?.Subnet) {
    for (let i = 0; i < 100; i++) {
      const bytes = randomBytes(7);
      const subnet = parseCidr6(`fd${bytes.toString('hex').replace(/(..)(....)(....)(....)/, '$1:$2:$3:$4')}::/64`)!;
      if (!taken.some((t) => cidr6Overlaps(t, subnet))) return { subnet: formatCidr6(subnet), gateway: nthAddress6(subnet, 1) };
    }
    throw new InvalidParameterError('could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network');
  }
  const subnet = parseCidr6(cfg.Subnet)!;
  if (taken.some((t) => cidr6Overlaps(t, subnet))) throw new ForbiddenError('invalid pool request: Pool overlaps with other one on this address space');
  const gateway = cfg.Gateway ? formatIpv6(parseIpv6(cfg.Gateway)!) : nthAddress6(subnet, 1);
  return { subnet: formatCidr6(subnet), gateway, ...(cfg.IPRange ? { ipRange: formatCidr6(parseCidr6(cfg.IPRange)!) } : {}) };
}

/** An IPAM entry as dockerd echoes it: empty fields omitted (`omitempty`). */
function echoedIpamEntry(c: IpamConfigEntry): IpamConfigEntry {
  const out: IpamConfigEntry = {};
  if (c.Subnet) out.Subnet = c.Subnet;
  if (c.IPRange) out.IPRange = c.IPRange;
  if (c.Gateway) out.Gateway = c.Gateway;
  if (c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length) out.AuxiliaryAddresses = { ...c.AuxiliaryAddresses };
  return out;
}

/** The record of the network `req` asks for; nothing is created or stored here. */
export function planBridgeNetwork(req: CreateNetworkOptions, ctx: CreateContext): NetworkRecord {
  const name = req.Name ?? '';
  if (isPredefined(name)) {
    // Sic: dockerd's message ends with a space.
    throw new ForbiddenError(`operation is not permitted on predefined ${name} network `);
  }
  const options: Record<string, string> = { ...(req.Options ?? {}) };
  const enableIPv4 = ipFamilyFlag(req.EnableIPv4, options, NETWORK_OPTION.enableIPv4, true);
  const enableIPv6 = ipFamilyFlag(req.EnableIPv6, options, NETWORK_OPTION.enableIPv6, false);
  validateIpamConfig(req.IPAM?.Config ?? [], enableIPv6);
  if (name.trim() === '') throw new InvalidParameterError('invalid name: name is empty');
  if (ctx.existing.some((r) => r.name === name)) throw new ConflictError(`network with name ${name} already exists`);
  const driver = req.Driver || 'bridge';
  checkDriver(driver);
  if (!enableIPv4 && !enableIPv6) throw new InvalidParameterError('IPv4 or IPv6 must be enabled');
  checkUnsupported(req);

  const bridgeOptions = parseBridgeOptions(options);
  const configs = req.IPAM?.Config ?? [];
  const v6Configs = configs.filter((c) => isIPv6Text(c.Subnet ?? ''));
  if (configs.length - v6Configs.length > 1 || v6Configs.length > 1) throw new ForbiddenError("bridge driver doesn't support multiple subnets");
  const device = bridgeOptions.device ?? `br-${ctx.id.slice(0, 12)}`;
  const bridge: BridgeSettings = { device, ...addressing(req, ctx, device) };
  if (enableIPv6) bridge.ipv6 = addressing6(v6Configs[0], ctx);
  const sameDevice = bridgesOf(ctx.existing).find((b) => b.bridge.device === device);
  if (sameDevice) {
    throw new ForbiddenError(
      `cannot create network ${ctx.id} (${device}): conflicts with network ${sameDevice.id} (${device}): networks have same bridge name`,
    );
  }

  return {
    id: ctx.id,
    name,
    driver: 'bridge',
    created: ctx.created,
    internal: req.Internal === true,
    attachable: req.Attachable === true,
    ...(enableIPv6 ? { enableIPv6: true } : {}),
    ipam: {
      driver: 'default',
      options: req.IPAM ? (req.IPAM.Options ?? null) : null,
      config: req.IPAM?.Config?.length ? req.IPAM.Config.map(echoedIpamEntry) : null,
    },
    bridge,
    options,
    labels: { ...(req.Labels ?? {}) },
  };
}
