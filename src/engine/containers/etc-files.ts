import { readFile } from 'node:fs/promises';

/**
 * The /etc/hosts and /etc/resolv.conf Berth writes for a container, following dockerd
 * (libnetwork etchosts and resolvconf): localhost lines, the container's own address and
 * name, `--add-host` entries; the host's resolvers, or the embedded DNS on user networks.
 */
export interface HostsOptions {
  hostname: string;
  domainname?: string;
  /** The container's address on its primary network (undefined: loopback only). */
  ip?: string;
  /** Its IPv6 address there, on a dual-stack network (a second line, as dockerd writes). */
  ip6?: string;
  /** `name:ip` entries from --add-host. */
  extraHosts: string[];
  /** Extra `<ip> <names...>` lines (legacy links). */
  extraLines?: string[];
}

export function hostsFile(o: HostsOptions): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::\tip6-localnet',
    'ff00::\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const entry of o.extraHosts) {
    const i = entry.indexOf(':');
    if (i > 0) lines.push(`${entry.slice(i + 1)}\t${entry.slice(0, i)}`);
  }
  lines.push(...(o.extraLines ?? []));
  const names = o.domainname ? `${o.hostname}.${o.domainname} ${o.hostname}` : o.hostname;
  lines.push(`${o.ip ?? '127.0.1.1'}\t${names}`);
  if (o.ip6) lines.push(`${o.ip6}\t${names}`);
  return lines.join('\n') + '\n';
}

export interface HostResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
  /** The file as it was, for host networking. */
  raw: string;
}

export async function readHostResolvConf(path = '/etc/resolv.conf'): Promise<HostResolvConf> {
  const raw = await readFile(path, 'utf8').catch(() => '');
  const conf: HostResolvConf = { nameservers: [], search: [], options: [], raw };
  for (const line of raw.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) conf.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') conf.search = rest;
    else if (key === 'options') conf.options.push(...rest);
  }
  return conf;
}

const isLoopback = (ns: string) => ns.startsWith('127.') || ns === '::1';

export interface ResolvOptions {
  /** Point the container at the embedded DNS server (127.0.0.11). */
  embeddedDns: boolean;
  /** The embedded DNS server's address when the container cannot use 127.0.0.11 (see OciRuntime.ownLoopback). */
  resolver?: string;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
}

/** `ndots` options with a value that is not a non-negative integer (dropped when ndots:0 is needed). */
const isInvalidNdots = (o: string) => o.startsWith('ndots:') && !/^\d+$/.test(o.slice('ndots:'.length));

/** resolv.conf content for a container with its own network namespace. */
export function resolvConfFile(host: HostResolvConf, o: ResolvOptions): string {
  const search = o.dnsSearch.length ? o.dnsSearch.filter((s) => s !== '.') : host.search;
  let options = o.dnsOptions.length ? o.dnsOptions : host.options;
  const lines: string[] = [];
  if (!o.embeddedDns) {
    let servers = o.dns.length ? o.dns : host.nameservers.filter((ns) => !isLoopback(ns));
    // dockerd's fallback when the host only has loopback resolvers.
    if (servers.length === 0) servers = ['8.8.8.8', '8.8.4.4'];
    for (const ns of servers) lines.push(`nameserver ${ns}`);
    if (search.length) lines.push(`search ${search.join(' ')}`);
    if (options.length) lines.push(`options ${options.join(' ')}`);
    return lines.join('\n') + '\n';
  }
  // The embedded resolver (moby's TransformForIntNS): it alone is listed, the others become its
  // upstreams, and `ndots:0` is added unless a valid ndots option was asked for.
  let ndotsFrom = o.dnsOptions.some((x) => x.startsWith('ndots:')) ? 'override' : host.options.some((x) => x.startsWith('ndots:')) ? 'host' : '';
  options = options.filter((x) => !isInvalidNdots(x));
  if (!options.some((x) => x.startsWith('ndots:'))) {
    options = [...options, 'ndots:0'];
    ndotsFrom = 'internal';
  }
  lines.push(`nameserver ${o.resolver ?? '127.0.0.11'}`);
  if (search.length) lines.push(`search ${search.join(' ')}`);
  lines.push(`options ${options.join(' ')}`);
  // Upstreams from the host's file are reached from the host's namespace: `host(...)`.
  const ext = o.dns.length ? o.dns : host.nameservers.map((ns) => `host(${ns})`);
  const overrides = [o.dns.length ? 'nameservers' : '', o.dnsSearch.length ? 'search' : '', o.dnsOptions.length ? 'options' : ''].filter(Boolean);
  lines.push('', "# Based on host file: '/etc/resolv.conf' (internal resolver)");
  if (!ext.length) lines.push('# NO EXTERNAL NAMESERVERS DEFINED');
  else lines.push(`# ExtServers: [${ext.join(' ')}]`);
  lines.push(`# Overrides: [${overrides.join(' ')}]`);
  if (ndotsFrom) lines.push(`# Option ndots from: ${ndotsFrom}`);
  return lines.join('\n') + '\n';
}
