/**
 * IPv4 addresses and prefixes as plain numbers, for every layer: parsing (strict, like Go's
 * `netip`: no leading zeros), masking, containment, overlap and host ranges. Addresses are
 * unsigned 32-bit integers. The engine's network checks and the network layer's plumbing both
 * use this one module.
 */

/** An IPv4 prefix: `addr` as written (host bits possibly set) and its length. */
export interface Prefix {
  addr: number;
  bits: number;
}

const OCTET = /^(0|[1-9]\d{0,2})$/;

/** Parses dotted-quad IPv4 (no leading zeros, like Go's netip). Undefined when malformed. */
export function parseAddr(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!OCTET.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export const isIpv4 = (s: string): boolean => parseAddr(s) !== undefined;

/** Parses `a.b.c.d/n`. Undefined when malformed (IPv6 included: callers check the family first). */
export function parsePrefix(s: string): Prefix | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = parseAddr(s.slice(0, slash));
  const bitsText = s.slice(slash + 1);
  if (addr === undefined || !/^(0|[1-9]\d?)$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  if (bits > 32) return undefined;
  return { addr, bits };
}

/** `a.b.c.d/n` with its host bits cleared; throws on anything else (the network layer's input is checked). */
export function parseCidr(s: string): Prefix {
  const p = parsePrefix(s);
  if (!p) throw new Error(`invalid IPv4 CIDR: ${s}`);
  return masked(p);
}

/** True when `s` looks like an IPv6 address or prefix (contains a colon). */
export const isIPv6Text = (s: string) => s.includes(':');

export function formatAddr(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function formatPrefix(p: Prefix): string {
  return `${formatAddr(p.addr)}/${p.bits}`;
}

/** Netmask of a prefix length as an unsigned integer. */
export function maskOf(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** The prefix with its host bits cleared. */
export function masked(p: Prefix): Prefix {
  return { addr: (p.addr & maskOf(p.bits)) >>> 0, bits: p.bits };
}

export const isMasked = (p: Prefix) => masked(p).addr === p.addr;

/** First and last address covered by the prefix. */
export function rangeOf(p: Prefix): { first: number; last: number } {
  const first = masked(p).addr;
  const size = 2 ** (32 - p.bits);
  return { first, last: first + size - 1 };
}

export function contains(p: Prefix, addr: number): boolean {
  const { first, last } = rangeOf(p);
  return addr >= first && addr <= last;
}

/** `contains` for an address as text; throws when it is not IPv4. */
export function cidrContains(p: Prefix, ip: string): boolean {
  const addr = parseAddr(ip);
  if (addr === undefined) throw new Error(`invalid IPv4 address: ${ip}`);
  return contains(p, addr);
}

export function overlaps(a: Prefix, b: Prefix): boolean {
  const ra = rangeOf(a);
  const rb = rangeOf(b);
  return ra.first <= rb.last && rb.first <= ra.last;
}

/** Canonical `a.b.c.d/n` of a CIDR string with host bits cleared; undefined when malformed. */
export function canonicalCidr(s: string): string | undefined {
  const p = parsePrefix(s);
  return p && formatPrefix(masked(p));
}

/** Netmask from its dotted form (e.g. `255.255.0.0` → 16); undefined when not contiguous. */
export function bitsOfMask(mask: number): number | undefined {
  for (let bits = 0; bits <= 32; bits++) if (maskOf(bits) === mask >>> 0) return bits;
  return undefined;
}

/** The host addresses of a subnet: all but its network and broadcast address (all of a /31 or /32). */
function hostsOf(subnet: Prefix): { first: number; last: number } {
  const { first, last } = rangeOf(subnet);
  return subnet.bits >= 31 ? { first, last } : { first: first + 1, last: last - 1 };
}

/** True when `ip` is a host address of the subnet (not its network or broadcast address). */
export function isHostAddress(subnet: Prefix, ip: string): boolean {
  if (!cidrContains(subnet, ip)) return false;
  const n = parseAddr(ip)!;
  const { first, last } = hostsOf(subnet);
  return n >= first && n <= last;
}

/** First and last host address of `range` that are also host addresses of `subnet`. */
export function hostRange(subnet: Prefix, range: Prefix): { start: string; end: string } {
  const hosts = hostsOf(subnet);
  const lo = Math.max(rangeOf(range).first, hosts.first);
  const hi = Math.min(rangeOf(range).last, hosts.last);
  if (lo > hi) throw new Error(`IP range ${formatPrefix(masked(range))} has no host addresses in ${formatPrefix(masked(subnet))}`);
  return { start: formatAddr(lo), end: formatAddr(hi) };
}
