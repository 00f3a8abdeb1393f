/**
 * The adapter for iproute2's `ip` on the host: the bridge devices of Berth's networks.
 * Bridges Berth creates carry an alias (`ip link set dev X alias ...`) naming their owner, so a
 * later daemon can tell its own leftovers from bridges that belong to anyone else.
 */
import { ExternalCommandError, runCommand } from '../host/command';

export interface LinkInfo {
  name: string;
  kind: string | undefined;
  alias: string | undefined;
  up: boolean;
}

interface IpJsonLink {
  ifname: string;
  ifalias?: string;
  flags?: string[];
  linkinfo?: { info_kind?: string };
}

export class IpLink {
  /** All links of the host namespace with their kind and alias. */
  async list(): Promise<LinkInfo[]> {
    const { stdout } = await runCommand('ip', ['-j', '-d', 'link', 'show']);
    const links = JSON.parse(stdout || '[]') as IpJsonLink[];
    return links.map((l) => ({
      name: l.ifname,
      kind: l.linkinfo?.info_kind,
      alias: l.ifalias,
      up: (l.flags ?? []).includes('UP'),
    }));
  }

  async get(name: string): Promise<LinkInfo | undefined> {
    try {
      const { stdout } = await runCommand('ip', ['-j', '-d', 'link', 'show', 'dev', name]);
      const [l] = JSON.parse(stdout || '[]') as IpJsonLink[];
      return l && { name: l.ifname, kind: l.linkinfo?.info_kind, alias: l.ifalias, up: (l.flags ?? []).includes('UP') };
    } catch (err) {
      if (isNoSuchDevice(err)) return undefined;
      throw err;
    }
  }

  async addBridge(name: string, opts: { mtu?: number; alias: string }): Promise<void> {
    const argv = ['link', 'add', 'name', name];
    if (opts.mtu) argv.push('mtu', String(opts.mtu));
    argv.push('type', 'bridge');
    await runCommand('ip', argv);
    await runCommand('ip', ['link', 'set', 'dev', name, 'alias', opts.alias]);
  }

  /** Adds `<address>/<prefixLen>` unless present (`ip addr replace` is idempotent). */
  async ensureAddress(name: string, cidr: string, opts: { nodad?: boolean } = {}): Promise<void> {
    await runCommand('ip', ['addr', 'replace', cidr, 'dev', name, ...(opts.nodad ? ['nodad'] : [])]);
  }

  async setUp(name: string): Promise<void> {
    await runCommand('ip', ['link', 'set', 'dev', name, 'up']);
  }

  /** Deletes the link; a link that does not exist is not an error. */
  async delete(name: string): Promise<void> {
    try {
      await runCommand('ip', ['link', 'del', 'dev', name]);
    } catch (err) {
      if (!isNoSuchDevice(err)) throw err;
    }
  }
}

function isNoSuchDevice(err: unknown): boolean {
  return err instanceof ExternalCommandError && /does not exist|Cannot find device/i.test(err.stderr);
}
