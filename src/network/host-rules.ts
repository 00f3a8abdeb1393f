/**
 * Berth's own iptables rules on the host, for all its bridge networks at once:
 *
 *   filter FORWARD     → <P>-FORWARD (inserted first)
 *   filter <P>-FORWARD    per network, internal:  -i br ! -o br DROP; ! -i br -o br DROP; -i br -o br ACCEPT
 *                         per network, external:  -i br ! -o br → <P>-ISOLATION;
 *                                                 -i br ACCEPT;
 *                                                 -o br ctstate RELATED,ESTABLISHED ACCEPT;
 *                                                 -o br ctstate DNAT ACCEPT   (published ports)
 *   filter <P>-ISOLATION  per network: -o br DROP  (no traffic between two Berth networks)
 *   filter INPUT       → <P>-INPUT (inserted first)
 *   filter <P>-INPUT      per DNS network: -i br -d gateway -p udp|tcp --dport 53 ACCEPT (the
 *                         embedded DNS server, also when the host's INPUT policy is DROP)
 *   nat POSTROUTING    → <P>-POSTROUTING
 *   nat <P>-POSTROUTING   per network with ipMasq: -s subnet ! -o br MASQUERADE
 *
 * The chains are always rewritten whole from the list of networks (atomically, with
 * iptables-restore --noflush), so stale rules of networks that no longer exist disappear at
 * the next write; with no networks left, the chains and the jumps to them are deleted.
 * Traffic that matches none of these falls through to the host's own FORWARD rules and policy.
 */
import type { Iptables, Rule } from './iptables';

export interface HostRuleNetwork {
  bridge: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  ipMasq: boolean;
  dns: boolean;
}

export interface HostChainNames {
  input: string;
  forward: string;
  isolation: string;
  postrouting: string;
}

/** Chain names (≤ 28 characters: the prefix is at most 16, the longest suffix `-POSTROUTING`). */
export function hostChainNames(prefix: string): HostChainNames {
  if (!/^[A-Z][A-Z0-9_-]{0,15}$/.test(prefix)) throw new Error(`invalid iptables chain prefix: ${prefix}`);
  return { input: `${prefix}-INPUT`, forward: `${prefix}-FORWARD`, isolation: `${prefix}-ISOLATION`, postrouting: `${prefix}-POSTROUTING` };
}

/** The rules of each Berth chain for these networks (pure; see the file comment). */
export function renderHostRules(
  names: HostChainNames,
  networks: readonly HostRuleNetwork[],
): { filter: Record<string, Rule[]>; nat: Record<string, Rule[]> } {
  const input: Rule[] = [];
  const forward: Rule[] = [];
  const isolation: Rule[] = [];
  const postrouting: Rule[] = [];
  for (const n of [...networks].sort((a, b) => a.bridge.localeCompare(b.bridge))) {
    const br = n.bridge;
    if (n.internal) {
      forward.push(['-i', br, '!', '-o', br, '-j', 'DROP']);
      forward.push(['!', '-i', br, '-o', br, '-j', 'DROP']);
      forward.push(['-i', br, '-o', br, '-j', 'ACCEPT']);
    } else {
      forward.push(['-i', br, '!', '-o', br, '-j', names.isolation]);
      forward.push(['-i', br, '-j', 'ACCEPT']);
      forward.push(['-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT']);
      forward.push(['-o', br, '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'ACCEPT']);
    }
    isolation.push(['-o', br, '-j', 'DROP']);
    if (n.dns) {
      for (const proto of ['udp', 'tcp']) input.push(['-i', br, '-d', `${n.gateway}/32`, '-p', proto, '-m', proto, '--dport', '53', '-j', 'ACCEPT']);
    }
    if (n.ipMasq && !n.internal) postrouting.push(['-s', n.subnet, '!', '-o', br, '-j', 'MASQUERADE']);
  }
  return {
    filter: { [names.input]: input, [names.forward]: forward, [names.isolation]: isolation },
    nat: { [names.postrouting]: postrouting },
  };
}

/** Writes the rendered chains and the jumps to them; removes everything when `networks` is empty. */
export async function applyHostRules(
  ipt: Iptables,
  names: HostChainNames,
  networks: readonly HostRuleNetwork[],
): Promise<void> {
  const inputJump: Rule = ['-j', names.input];
  const forwardJump: Rule = ['-j', names.forward];
  const postroutingJump: Rule = ['-j', names.postrouting];
  if (networks.length === 0) {
    await ipt.deleteRule('filter', 'INPUT', inputJump);
    await ipt.deleteRule('filter', 'FORWARD', forwardJump);
    await ipt.deleteRule('nat', 'POSTROUTING', postroutingJump);
    // The forward chain jumps to the isolation chain: delete it first.
    for (const chain of [names.input, names.forward, names.isolation]) await ipt.deleteChain('filter', chain);
    await ipt.deleteChain('nat', names.postrouting);
    return;
  }
  const rules = renderHostRules(names, networks);
  await ipt.replaceChains([
    { table: 'filter', chains: rules.filter },
    { table: 'nat', chains: rules.nat },
  ]);
  await ipt.ensureRule('filter', 'INPUT', inputJump, 'first');
  await ipt.ensureRule('filter', 'FORWARD', forwardJump, 'first');
  await ipt.ensureRule('nat', 'POSTROUTING', postroutingJump, 'last');
}
