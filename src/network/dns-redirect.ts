/**
 * Inside a container's network namespace: make `127.0.0.11:53` (the resolver in the container's
 * resolv.conf) reach the daemon's DNS server on the network's gateway. Measured on our machines
 * (design.md "Networks"): route_localnet=1 on the interface, nat OUTPUT DNAT 127.0.0.11:53 →
 * <gateway>:53 (udp and tcp), and nat POSTROUTING SNAT of that traffic from 127.0.0.0/8 to the
 * container's own address (the server then sees a source in the network's subnet).
 */
import { Iptables, type Rule } from './iptables';
import type { NetnsTool } from './netns';

export const RESOLVER_IP = '127.0.0.11';

export interface DnsRedirect {
  netnsPath: string;
  ifname: string;
  gateway: string;
  containerIp: string;
}

function rules(r: Pick<DnsRedirect, 'gateway' | 'containerIp'>): { output: Rule[]; postrouting: Rule[] } {
  const output: Rule[] = [];
  const postrouting: Rule[] = [];
  for (const proto of ['udp', 'tcp']) {
    output.push(['-d', `${RESOLVER_IP}/32`, '-p', proto, '-m', proto, '--dport', '53', '-j', 'DNAT', '--to-destination', `${r.gateway}:53`]);
    postrouting.push(['-s', '127.0.0.0/8', '-d', `${r.gateway}/32`, '-p', proto, '-m', proto, '--dport', '53', '-j', 'SNAT', '--to-source', r.containerIp]);
  }
  return { output, postrouting };
}

/** Installs the redirect (the caller checked with `hasDnsRedirect` that there is none). */
export async function installDnsRedirect(netns: NetnsTool, r: DnsRedirect): Promise<void> {
  await netns.setSysctls(r.netnsPath, {
    'net.ipv4.conf.all.route_localnet': '1',
    [`net.ipv4.conf.${r.ifname}.route_localnet`]: '1',
  });
  const { output, postrouting } = rules(r);
  await new Iptables({ netnsPath: r.netnsPath }).appendRules('nat', [
    ...output.map((rule) => ['OUTPUT', rule] as const),
    ...postrouting.map((rule) => ['POSTROUTING', rule] as const),
  ]);
}

/** Whether 127.0.0.11 is already redirected in this namespace (to any gateway). */
export async function hasDnsRedirect(netnsPath: string): Promise<boolean> {
  const lines = await new Iptables({ netnsPath }).listRules('nat', 'OUTPUT');
  return lines.some((l) => l.includes(`-d ${RESOLVER_IP}/32`));
}

/**
 * Removes the redirect to this gateway, found in one listing of the nat table (the SNAT's
 * container address need not be known). Returns whether there was one.
 */
export async function removeDnsRedirect(netnsPath: string, gateway: string): Promise<boolean> {
  const ipt = new Iptables({ netnsPath });
  const lines = (await ipt.listTable('nat')).filter(
    (l) =>
      (l.startsWith('-A OUTPUT ') && l.includes(`-d ${RESOLVER_IP}/32`) && l.includes(`--to-destination ${gateway}:53`)) ||
      (l.startsWith('-A POSTROUTING ') && l.includes('-s 127.0.0.0/8') && l.includes(`-d ${gateway}/32`) && l.includes('-j SNAT')),
  );
  await ipt.deleteListed('nat', lines);
  return lines.length > 0;
}
