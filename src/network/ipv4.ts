/** IPv4 arithmetic and the validation of everything the network layer puts on a command line. */

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit integer. */
  network: number;
  prefixLen: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIpv4(text: string): boolean {
  return IPV4.test(text);
}

export function ipToInt(ip: string): number {
  if (!isIpv4(ip)) throw new Error(`invalid IPv4 address: ${ip}`);
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefixLen: number): number {
  return prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
}

/** Parses `a.b.c.d/n`; the address is reduced to its network address. */
export function parseCidr(cidr: string): Ipv4Cidr {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m || !isIpv4(m[1]) || Number(m[2]) > 32) throw new Error(`invalid IPv4 CIDR: ${cidr}`);
  const prefixLen = Number(m[2]);
  return { network: (ipToInt(m[1]) & mask(prefixLen)) >>> 0, prefixLen };
}

export function formatCidr(c: Ipv4Cidr): string {
  return `${intToIp(c.network)}/${c.prefixLen}`;
}

export function broadcast(c: Ipv4Cidr): number {
  return (c.network | ~mask(c.prefixLen)) >>> 0;
}

export function cidrContains(c: Ipv4Cidr, ip: string): boolean {
  return ((ipToInt(ip) & mask(c.prefixLen)) >>> 0) === c.network;
}

/** True when `ip` is a host address of the subnet (not its network or broadcast address). */
export function isHostAddress(c: Ipv4Cidr, ip: string): boolean {
  if (!cidrContains(c, ip)) return false;
  if (c.prefixLen >= 31) return true;
  const n = ipToInt(ip);
  return n !== c.network && n !== broadcast(c);
}

/** First and last host address of `range` that are also host addresses of `subnet`. */
export function hostRange(subnet: Ipv4Cidr, range: Ipv4Cidr): { start: string; end: string } {
  const lo = Math.max(range.network, subnet.network + (subnet.prefixLen >= 31 ? 0 : 1));
  const hi = Math.min(broadcast(range), broadcast(subnet) - (subnet.prefixLen >= 31 ? 0 : 1));
  if (lo > hi) throw new Error(`IP range ${formatCidr(range)} has no host addresses in ${formatCidr(subnet)}`);
  return { start: intToIp(lo), end: intToIp(hi) };
}

/** Linux interface names: 1–15 characters, no '/', whitespace or ':' (kept to a safe subset). */
export function isInterfaceName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/.test(name);
}

export function isMac(mac: string): boolean {
  return /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac);
}
