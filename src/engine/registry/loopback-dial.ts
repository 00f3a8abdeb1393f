/**
 * The dial hook of a rootless daemon's registry connections. Inside rootlesskit's network
 * namespace 127.0.0.1 is the namespace's own loopback, yet `docker pull localhost:5000/img`
 * means a registry on the host's loopback, which slirp4netns (with
 * `--disable-host-loopback=false`) exposes as 10.0.2.2. With the hook set, a connection to a
 * loopback name dials that address instead; only the TCP dial changes: the registry keeps the
 * name the user typed (Host header, TLS name, auth scope, tags, the insecure-registry rules).
 */
import net from 'node:net';

/** Where slirp4netns makes the host's loopback reachable from the namespace. */
export const SLIRP4NETNS_HOST_LOOPBACK = '10.0.2.2';

let hostLoopback: string | undefined;

/** Set once at start by a rootless daemon (undefined: dial every name as it is). */
export function dialLoopbackVia(address: string | undefined): void {
  hostLoopback = address;
}

/** The address to dial for `hostname` (a URL's hostname, IPv6 in brackets), if it is not the name itself. */
export function loopbackDialTarget(hostname: string): string | undefined {
  if (!hostLoopback) return undefined;
  return isLoopbackName(hostname.replace(/^\[(.*)\]$/, '$1')) ? hostLoopback : undefined;
}

function isLoopbackName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (net.isIPv4(name)) return name.startsWith('127.');
  if (net.isIPv6(name)) return name === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(name) || name.startsWith('::ffff:127.');
  return false;
}
