/**
 * The networks the host itself uses, which automatic subnet allocation must avoid. This follows
 * dockerd's heuristic (libnetwork `netutils.InferReservedNetworks`): the IPv4 on-link routes of
 * the main table (every interface address's subnet, e.g. docker0's 172.17.0.0/16 while dockerd
 * runs) and the nameservers of /etc/resolv.conf. Routes via a gateway are not reserved: a VPN
 * pushing 0.0.0.0/1 would otherwise leave no pool free (moby#42598).
 *
 * Read from /proc/net/route and /etc/resolv.conf: files, not programs, so no command adapter.
 */
import { readFile } from 'node:fs/promises';
import { bitsOfMask, formatAddr, masked, parseAddr } from '../../network/ipv4';

/** A subnet the host uses; `iface` is the device of an on-link route (absent for nameservers). */
export interface HostNetwork {
  cidr: string;
  iface?: string;
}

const RTF_GATEWAY = 0x2;
const RTF_REJECT = 0x200;

/** /proc/net/route stores addresses as host-order (little-endian) hex. */
function hexToAddr(hex: string): number | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return undefined;
  const n = parseInt(hex, 16);
  return (((n & 0xff) << 24) | (((n >>> 8) & 0xff) << 16) | (((n >>> 16) & 0xff) << 8) | (n >>> 24)) >>> 0;
}

/** The on-link (no gateway), non-default, non-reject routes of /proc/net/route. */
export function parseProcNetRoute(text: string): HostNetwork[] {
  const out: HostNetwork[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dstHex, , flagsHex, , , , maskHex] = f;
    const dst = hexToAddr(dstHex);
    const mask = hexToAddr(maskHex);
    const flags = parseInt(flagsHex, 16);
    if (dst === undefined || mask === undefined || Number.isNaN(flags)) continue;
    if (flags & (RTF_GATEWAY | RTF_REJECT)) continue;
    const bits = bitsOfMask(mask);
    if (bits === undefined || bits === 0) continue;
    const p = masked({ addr: dst, bits });
    out.push({ cidr: `${formatAddr(p.addr)}/${p.bits}`, iface });
  }
  return out;
}

/** IPv4 `nameserver` entries of a resolv.conf, as /32 subnets. */
export function parseResolvConfNameservers(text: string): HostNetwork[] {
  const out: HostNetwork[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && parseAddr(m[1]) !== undefined) out.push({ cidr: `${m[1]}/32` });
  }
  return out;
}

async function readOrEmpty(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

/** What the host uses now (an unreadable file counts as nothing, as in dockerd). */
export async function readHostNetworks(): Promise<HostNetwork[]> {
  const [routes, resolv] = await Promise.all([readOrEmpty('/proc/net/route'), readOrEmpty('/etc/resolv.conf')]);
  return [...parseProcNetRoute(routes), ...parseResolvConfNameservers(resolv)];
}
