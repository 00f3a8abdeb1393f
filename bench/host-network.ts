/**
 * What a benchmark adds to the host's network, and its removal.
 *
 * Every bridge a benchmark uses is a throwaway one named `bb<random hex>` on a 10.199.X.0/24 (a
 * daemon's default bridge) or 10.198.X.0/24 (a user-defined network) that no route of the host
 * covers. Cleanup then needs no knowledge of either daemon's internals:
 *
 *  - the registered bridges are deleted (`ip link del`);
 *  - every iptables rule (all tables of `iptables-save`) that names one of them, or an address in
 *    one of the registered subnets (MASQUERADE sources, DNAT targets), is deleted with
 *    `iptables -t <table> -D ...`;
 *  - chains that did not exist when the run started are deleted, with the rules jumping to them,
 *    when they belong to dockerd (`DOCKER*`: only the benchmark's dockerd runs) or are `BERTH-*`
 *    and `CNI-*` chains left empty by the step above (such chains are shared by every Berth
 *    daemon on the host, so one that still holds rules belongs to someone else and stays);
 *  - built-in chain policies and net.ipv4.ip_forward are put back if they changed.
 *
 * The snapshot is taken when the object is constructed, before any daemon starts.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
const BUILTIN_CHAINS = new Set(['INPUT', 'FORWARD', 'OUTPUT', 'PREROUTING', 'POSTROUTING']);

interface Rule {
  table: string;
  chain: string;
  /** The rule's arguments after `-A <chain>`, unquoted. */
  args: string[];
  line: string;
}

interface Saved {
  /** table → chain names (built-in and user-defined). */
  chains: Map<string, Set<string>>;
  /** `table chain` → policy of a built-in chain. */
  policies: Map<string, string>;
  rules: Rule[];
}

export class HostNetwork {
  private readonly bridges = new Set<string>();
  /** First three octets of each registered /24, e.g. `10.199.7`. */
  private readonly subnets = new Set<string>();
  private readonly before: Saved;
  private readonly ipForward: string;

  constructor() {
    this.before = parseSave(run('iptables-save', []));
    this.ipForward = readFileSync(IP_FORWARD, 'utf8').trim();
  }

  /** A new bridge name (`bb` + 6 hex digits) not used on the host, registered for cleanup. */
  bridgeName(): string {
    for (let i = 0; i < 100; i++) {
      const name = `bb${randomBytes(3).toString('hex')}`;
      if (this.bridges.has(name) || linkExists(name)) continue;
      this.bridges.add(name);
      return name;
    }
    throw new Error('no free bridge name');
  }

  /**
   * A `<base>.X` /24 (returned as its first three octets) that no route of `ip -4 route` overlaps
   * and that this run has not handed out yet, registered for cleanup.
   */
  subnet(base: '10.199' | '10.198'): string {
    const routes = run('ip', ['-4', 'route'])
      .split('\n')
      // `10.0.0.0/8 dev ...`, or with a type first: `unreachable 10.0.0.0/8`.
      .map((line) => line.trim().split(/\s+/).slice(0, 2).map(parseCidr).find((c) => c !== undefined))
      .filter((c): c is Cidr => c !== undefined);
    const taken = (prefix: string) => this.subnets.has(prefix) || routes.some((r) => overlaps(r, parseCidr(`${prefix}.0/24`)!));
    const start = 1 + Math.floor(Math.random() * 250);
    for (let i = 0; i < 250; i++) {
      const prefix = `${base}.${1 + ((start + i) % 250)}`;
      if (taken(prefix)) continue;
      this.subnets.add(prefix);
      return prefix;
    }
    throw new Error(`no free ${base}.X.0/24 subnet: every one overlaps a route in ip -4 route`);
  }

  /** Creates a registered bridge with this gateway address (e.g. `10.199.7.1/24`) and sets it up. */
  createBridge(name: string, address: string): void {
    if (!this.bridges.has(name)) throw new Error(`bridge ${name} was not registered`);
    run('ip', ['link', 'add', name, 'type', 'bridge']);
    run('ip', ['addr', 'add', address, 'dev', name]);
    run('ip', ['link', 'set', name, 'up']);
  }

  /** True for a leftover docker-proxy of a container on one of the registered subnets. */
  ownsProcess(argv: string[]): boolean {
    return (argv[0] ?? '').endsWith('docker-proxy') && argv.some((a) => this.mentionsSubnet(a));
  }

  /**
   * Removes everything listed in the file comment. Never throws: returns what it could not
   * remove or put back, plus whatever of this run is still found afterwards.
   */
  cleanup(): string[] {
    const problems: string[] = [];
    const attempt = (what: string, fn: () => void) => {
      try {
        fn();
      } catch (err) {
        problems.push(`${what}: ${(err as Error).message}`);
      }
    };

    for (const name of this.bridges) {
      if (linkExists(name)) attempt(`deleting bridge ${name}`, () => run('ip', ['link', 'del', name]));
    }

    let now = parseSave(run('iptables-save', []));
    for (const rule of now.rules.filter((r) => this.ownsRule(r))) {
      attempt(`deleting iptables rule [${rule.table}] ${rule.line}`, () => deleteRule(rule));
    }

    now = parseSave(run('iptables-save', []));
    for (const [table, chains] of now.chains) {
      const existed = this.before.chains.get(table) ?? new Set<string>();
      const rulesOf = (chain: string) => now.rules.filter((r) => r.table === table && r.chain === chain);
      const doomed = new Set(
        [...chains].filter(
          (c) => !existed.has(c) && !BUILTIN_CHAINS.has(c) && (c.startsWith('DOCKER') || (/^(BERTH|CNI)-/.test(c) && rulesOf(c).length === 0)),
        ),
      );
      if (doomed.size === 0) continue;
      // Flush first (doomed chains may jump to each other), then drop the jumps from chains
      // that stay, then delete the chains themselves.
      for (const c of doomed) attempt(`flushing chain [${table}] ${c}`, () => run('iptables', ['-w', '-t', table, '-F', c]));
      for (const rule of now.rules) {
        if (rule.table !== table || doomed.has(rule.chain)) continue;
        if (jumpTarget(rule.args) !== undefined && doomed.has(jumpTarget(rule.args)!)) {
          attempt(`deleting iptables rule [${table}] ${rule.line}`, () => deleteRule(rule));
        }
      }
      for (const c of doomed) attempt(`deleting chain [${table}] ${c}`, () => run('iptables', ['-w', '-t', table, '-X', c]));
    }

    now = parseSave(run('iptables-save', []));
    for (const [key, policy] of this.before.policies) {
      const current = now.policies.get(key);
      if (current !== undefined && current !== policy) {
        const [table, chain] = key.split(' ');
        attempt(`restoring policy ${policy} of [${table}] ${chain}`, () => run('iptables', ['-w', '-t', table, '-P', chain, policy]));
      }
    }
    attempt('restoring net.ipv4.ip_forward', () => {
      if (readFileSync(IP_FORWARD, 'utf8').trim() !== this.ipForward) writeFileSync(IP_FORWARD, `${this.ipForward}\n`);
    });

    // What is still there is worth a line in the output, whatever the reason.
    for (const name of this.bridges) if (linkExists(name)) problems.push(`bridge ${name} still exists`);
    try {
      for (const rule of parseSave(run('iptables-save', [])).rules.filter((r) => this.ownsRule(r))) problems.push(`iptables rule still there: [${rule.table}] ${rule.line}`);
    } catch (err) {
      problems.push(`iptables-save: ${(err as Error).message}`);
    }
    return problems;
  }

  private ownsRule(rule: Rule): boolean {
    return rule.args.some((a) => this.bridges.has(a) || this.mentionsSubnet(a));
  }

  /** `10.199.7.0/24`, `10.199.7.2:80`, `-container-ip` values... of a registered subnet. */
  private mentionsSubnet(token: string): boolean {
    for (const prefix of this.subnets) if (token.startsWith(`${prefix}.`)) return true;
    return false;
  }
}

/** Runs a command, returning stdout; throws with stderr on a non-zero exit. */
function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr ?? '').trim()}`);
  return r.stdout ?? '';
}

function linkExists(name: string): boolean {
  return spawnSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore' }).status === 0;
}

function deleteRule(rule: Rule): void {
  run('iptables', ['-w', '-t', rule.table, '-D', rule.chain, ...rule.args]);
}

function jumpTarget(args: string[]): string | undefined {
  const i = args.findIndex((a) => a === '-j' || a === '-g' || a === '--jump' || a === '--goto');
  return i >= 0 ? args[i + 1] : undefined;
}

function parseSave(text: string): Saved {
  const saved: Saved = { chains: new Map(), policies: new Map(), rules: [] };
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      table = line.slice(1);
      saved.chains.set(table, new Set());
    } else if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      saved.chains.get(table)?.add(name);
      if (policy && policy !== '-') saved.policies.set(`${table} ${name}`, policy);
    } else if (line.startsWith('-A ')) {
      const [, chain, ...args] = splitArgs(line);
      saved.rules.push({ table, chain, args, line });
    }
  }
  return saved;
}

/** Splits an iptables-save line the way iptables-restore does: "quoted strings", \-escapes. */
function splitArgs(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let started = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      started = true;
    } else if (c === '"') {
      quoted = !quoted;
      started = true;
    } else if (!quoted && /\s/.test(c)) {
      if (started) out.push(cur);
      cur = '';
      started = false;
    } else {
      cur += c;
      started = true;
    }
  }
  if (started) out.push(cur);
  return out;
}

interface Cidr {
  addr: number;
  bits: number;
}

function parseCidr(text: string): Cidr | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const bits = m[5] === undefined ? 32 : Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  return { addr: ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0, bits };
}

function overlaps(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((a.addr & mask) >>> 0) === ((b.addr & mask) >>> 0);
}
