/**
 * IPv6 arithmetic for dual-stack bridge networks: addresses as 128-bit BigInts, parsing (with
 * `::` and a trailing dotted quad), the canonical text form of RFC 5952, prefixes and containment.
 */

export interface Ipv6Cidr {
  /** Network address (host bits cleared). */
  network: bigint;
  prefixLen: number;
}

const ALL = (1n << 128n) - 1n;

/** Parses an IPv6 address (no zone); undefined when malformed. */
export function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return undefined;
  let s = text;
  // A trailing IPv4 part (`::ffff:1.2.3.4`) is two groups.
  const v4 = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const o = v4.slice(2).map(Number);
    if (o.some((x, i) => x > 255 || String(x) !== v4[i + 2])) return undefined;
    s = `${v4[1]}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return n;
}

export function isIpv6(text: string): boolean {
  return parseIpv6(text) !== undefined;
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
export function formatIpv6(n: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function mask(prefixLen: number): bigint {
  return prefixLen === 0 ? 0n : (ALL << BigInt(128 - prefixLen)) & ALL;
}

/** Parses `addr/len`; the address is reduced to the network address. Undefined when malformed. */
export function parseCidr6(text: string): Ipv6Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const addr = parseIpv6(m[1]);
  const prefixLen = Number(m[2]);
  if (addr === undefined || prefixLen > 128) return undefined;
  return { network: addr & mask(prefixLen), prefixLen };
}

/** True when `text` is a CIDR whose address has no host bits set. */
export function isMaskedCidr6(text: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  const c = parseCidr6(text);
  return !!m && !!c && parseIpv6(m[1]) === c.network;
}

export function formatCidr6(c: Ipv6Cidr): string {
  return `${formatIpv6(c.network)}/${c.prefixLen}`;
}

export function cidr6Contains(c: Ipv6Cidr, ip: string): boolean {
  const n = parseIpv6(ip);
  return n !== undefined && (n & mask(c.prefixLen)) === c.network;
}

export function cidr6Overlaps(a: Ipv6Cidr, b: Ipv6Cidr): boolean {
  const len = Math.min(a.prefixLen, b.prefixLen);
  return (a.network & mask(len)) === (b.network & mask(len));
}

/** The `n`th address of the prefix (1 = the first after the network address, dockerd's gateway). */
export function nthAddress6(c: Ipv6Cidr, n: number): string {
  return formatIpv6(c.network + BigInt(n));
}

/** The last address of the prefix. */
export function lastAddress6(c: Ipv6Cidr): string {
  return formatIpv6(c.network | (~mask(c.prefixLen) & ALL));
}
