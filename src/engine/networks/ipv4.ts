/**
 * IPv4 addresses and prefixes as plain numbers: parsing (strict, like Go's `netip`), masking,
 * containment and overlap. Addresses are unsigned 32-bit integers.
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
