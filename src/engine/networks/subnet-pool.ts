import { InvalidParameterError } from '../../errors';
import { formatPrefix, overlaps, parsePrefix, rangeOf, type Prefix } from '../../network/ipv4';

/**
 * Docker's default local address pools, in the order dockerd allocates from them
 * (libnetwork `ipamutils`): 172.17.0.0/16 … 172.31.0.0/16, then 192.168.0.0/16 cut into /20s.
 */
export const DEFAULT_POOLS: ReadonlyArray<{ base: string; size: number }> = [
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/16', size: 16 },
  { base: '172.19.0.0/16', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/14', size: 16 },
  { base: '172.28.0.0/14', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
];

/** Every candidate subnet of the default pools, in allocation order. */
export function* candidateSubnets(): Generator<Prefix> {
  for (const pool of DEFAULT_POOLS) {
    const base = parsePrefix(pool.base)!;
    const step = 2 ** (32 - pool.size);
    const count = 2 ** (pool.size - base.bits);
    for (let i = 0; i < count; i++) yield { addr: base.addr + i * step, bits: pool.size };
  }
}

/** dockerd's error when every default pool is taken (`ipamapi.ErrNoMoreSubnets`). */
export const errNoMoreSubnets = () => new InvalidParameterError('all predefined address pools have been fully subnetted');

/**
 * The first default-pool subnet that overlaps none of `taken` (subnets of existing networks and
 * networks the host itself uses). Returns it in CIDR form.
 */
export function allocateSubnet(taken: readonly Prefix[]): string {
  for (const candidate of candidateSubnets()) {
    if (!taken.some((t) => overlaps(t, candidate))) return formatPrefix(candidate);
  }
  throw errNoMoreSubnets();
}

/**
 * The addresses of `subnet` a host can have: all but the network and broadcast addresses, except
 * on /31 and /32 (RFC 3021), as libnetwork's default IPAM reserves them.
 */
export function usableRange(subnet: Prefix): { first: number; last: number } {
  const { first, last } = rangeOf(subnet);
  return subnet.bits >= 31 ? { first, last } : { first: first + 1, last: last - 1 };
}

/**
 * The gateway dockerd picks when none is given: the first free address of the IP range (or of
 * the subnet). Undefined when there is no room.
 */
export function defaultGateway(subnet: Prefix, ipRange?: Prefix): number | undefined {
  const usable = usableRange(subnet);
  const range = ipRange ? rangeOf(ipRange) : usable;
  const first = Math.max(range.first, usable.first);
  const last = Math.min(range.last, usable.last);
  return first <= last ? first : undefined;
}
