/**
 * The adapter for iptables and iptables-restore (whichever backend `iptables` is on the host —
 * the CNI plugins use the same binary, so their rules and Berth's share one backend). An
 * instance either works on the host or, with `netnsPath`, inside a container's network
 * namespace through nsenter. Rules are argv arrays (`['-s', '10.0.0.0/24', '-j', 'ACCEPT']`),
 * never strings; the restore text is built only from such validated tokens.
 */
import { ExternalCommandError, runCommand } from '../host/command';
import { nsenterArgv } from './netns';

export type IptablesTable = 'filter' | 'nat';
export type Rule = readonly string[];

export interface IptablesOptions {
  /** Run inside this network namespace (nsenter --net=...); default: the host. */
  netnsPath?: string;
  /** 6: ip6tables and ip6tables-restore (dual-stack networks); default 4. */
  family?: 4 | 6;
}

/** The contents of Berth-owned chains of one table, for an atomic `iptables-restore --noflush`. */
export interface ChainContents {
  table: IptablesTable;
  chains: Record<string, Rule[]>;
}

const TOKEN = /^[A-Za-z0-9_.:/,!+-]+$/;

export class Iptables {
  private readonly netnsPath: string | undefined;

  private readonly family: 4 | 6;

  constructor(opts: IptablesOptions = {}) {
    this.netnsPath = opts.netnsPath;
    this.family = opts.family ?? 4;
  }

  /** `-C`: does this exact rule exist? A missing chain counts as "no". */
  async exists(table: IptablesTable, chain: string, rule: Rule): Promise<boolean> {
    try {
      await this.run('iptables', ['-w', '-t', table, '-C', chain, ...rule]);
      return true;
    } catch (err) {
      if (err instanceof ExternalCommandError && (err.exitCode === 1 || err.exitCode === 2)) return false;
      throw err;
    }
  }

  /** Adds the rule unless it exists: at the top (`first`) or the end of the chain. */
  async ensureRule(table: IptablesTable, chain: string, rule: Rule, position: 'first' | 'last' = 'last'): Promise<void> {
    if (await this.exists(table, chain, rule)) return;
    const op = position === 'first' ? ['-I', chain, '1'] : ['-A', chain];
    await this.run('iptables', ['-w', '-t', table, ...op, ...rule]);
  }

  /** Deletes every copy of the rule; a missing rule or chain is not an error. */
  async deleteRule(table: IptablesTable, chain: string, rule: Rule): Promise<void> {
    while (await this.exists(table, chain, rule)) {
      await this.run('iptables', ['-w', '-t', table, '-D', chain, ...rule]);
    }
  }

  async chainExists(table: IptablesTable, chain: string): Promise<boolean> {
    try {
      await this.run('iptables', ['-w', '-t', table, '-S', chain]);
      return true;
    } catch (err) {
      if (err instanceof ExternalCommandError && err.exitCode === 1) return false;
      throw err;
    }
  }

  /** `-S chain` lines (`-A CHAIN ...`), without the `-N`/`-P` line. */
  async listRules(table: IptablesTable, chain: string): Promise<string[]> {
    const { stdout } = await this.run('iptables', ['-w', '-t', table, '-S', chain]);
    return stdout.split('\n').filter((l) => l.startsWith('-A '));
  }

  /** All `-A CHAIN ...` lines of a table (iptables -S). */
  async listTable(table: IptablesTable): Promise<string[]> {
    const { stdout } = await this.run('iptables', ['-w', '-t', table, '-S']);
    return stdout.split('\n').filter((l) => l.startsWith('-A '));
  }

  /**
   * Deletes rules given as lines of `listTable`/`listRules` output, in one iptables-restore
   * transaction. Only for rules whose tokens need no quoting (no comments with spaces), such as
   * the ones Berth writes.
   */
  async deleteListed(table: IptablesTable, lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const body = lines.map((line) => {
      const [op, chain, ...rule] = line.trim().split(/\s+/);
      if (op !== '-A' || !chain) throw new Error(`cannot delete listed rule: ${line}`);
      return ['-D', checkToken(chain), ...rule.map(checkToken)].join(' ');
    });
    await this.run('iptables-restore', ['-w', '--noflush'], `*${table}\n${body.join('\n')}\nCOMMIT\n`);
  }

  /** Names of all user-defined chains of a table. */
  async listChains(table: IptablesTable): Promise<string[]> {
    const { stdout } = await this.run('iptables', ['-w', '-t', table, '-S']);
    return stdout
      .split('\n')
      .filter((l) => l.startsWith('-N '))
      .map((l) => l.slice(3).trim());
  }

  /** Flushes and deletes a user chain; a missing chain is not an error. */
  async deleteChain(table: IptablesTable, chain: string): Promise<void> {
    if (!(await this.chainExists(table, chain))) return;
    await this.run('iptables', ['-w', '-t', table, '-F', chain]);
    await this.run('iptables', ['-w', '-t', table, '-X', chain]);
  }

  /** Appends rules to existing chains in one iptables-restore transaction (all or none). */
  async appendRules(table: IptablesTable, rules: ReadonlyArray<readonly [string, Rule]>): Promise<void> {
    const lines = [`*${table}`, ...rules.map(([chain, rule]) => ['-A', checkToken(chain), ...rule.map(checkToken)].join(' ')), 'COMMIT'];
    await this.run('iptables-restore', ['-w', '--noflush'], `${lines.join('\n')}\n`);
  }

  /**
   * Replaces the whole contents of the given chains (creating them if needed) in one atomic
   * transaction per table; other chains are untouched (`--noflush`).
   */
  async replaceChains(contents: ChainContents[]): Promise<void> {
    const lines: string[] = [];
    for (const { table, chains } of contents) {
      lines.push(`*${table}`);
      for (const name of Object.keys(chains)) lines.push(`:${checkToken(name)} - [0:0]`);
      for (const [name, rules] of Object.entries(chains)) {
        for (const rule of rules) lines.push(['-A', name, ...rule.map(checkToken)].join(' '));
      }
      lines.push('COMMIT');
    }
    await this.run('iptables-restore', ['-w', '--noflush'], `${lines.join('\n')}\n`);
  }

  private run(program: 'iptables' | 'iptables-restore', argv: string[], input?: string) {
    if (this.family === 6) program = program === 'iptables' ? ('ip6tables' as 'iptables') : ('ip6tables-restore' as 'iptables-restore');
    if (!this.netnsPath) return runCommand(program, argv, { input });
    return runCommand('nsenter', nsenterArgv(this.netnsPath, program, argv), { input });
  }
}

function checkToken(token: string): string {
  if (!TOKEN.test(token)) throw new Error(`unsafe iptables-restore token: ${JSON.stringify(token)}`);
  return token;
}
