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
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
}

/** resolv.conf content for a container with its own network namespace. */
export function resolvConfFile(host: HostResolvConf, o: ResolvOptions): string {
  const search = o.dnsSearch.length ? o.dnsSearch.filter((s) => s !== '.') : host.search;
  const options = o.dnsOptions.length ? o.dnsOptions : host.options;
  const lines: string[] = [];
  if (o.embeddedDns) {
    lines.push('nameserver 127.0.0.11');
  } else {
    let servers = o.dns.length ? o.dns : host.nameservers.filter((ns) => !isLoopback(ns));
    // dockerd's fallback when the host only has loopback resolvers.
    if (servers.length === 0) servers = ['8.8.8.8', '8.8.4.4'];
    for (const ns of servers) lines.push(`nameserver ${ns}`);
  }
  if (search.length) lines.push(`search ${search.join(' ')}`);
  if (options.length) lines.push(`options ${options.join(' ')}`);
  if (o.embeddedDns) {
    const ext = (o.dns.length ? o.dns : host.nameservers.filter((ns) => !isLoopback(ns))).map((ns) => `host(${ns})`);
    lines.push('', '# Based on host file: \'/etc/resolv.conf\' (internal resolver)', `# ExtServers: [${ext.join(' ')}]`);
  }
  return lines.join('\n') + '\n';
}
