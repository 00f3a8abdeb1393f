/**
 * Legacy links of containers on the default bridge, over their records: checked at create,
 * resolved at start (the children must run), kept in step with a child's address, removed by
 * `docker rm --link`. The hosts lines live in the parent's bind-mounted /etc/hosts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { InvalidParameterError } from '../../errors';
import { shortId } from '../ids';
import { linkName, LinkStartError, parseLink, type LegacyLink } from './legacy-links';
import { parseNetworkMode, type NetworkMode } from './network-plan';
import type { ContainerRecords } from './container-records';
import type { ContainerRecord } from './types';

export interface ContainerLinksDeps {
  /** Lookup of children, every record (for parents), and the parents' /etc/hosts. */
  records: Pick<ContainerRecords, 'get' | 'all' | 'dirs'>;
  log: Logger;
}

export interface ResolvedLink {
  child: ContainerRecord;
  alias: string;
  /** The child's address on the default bridge. */
  ip: string;
}

/** The /etc/hosts line of a legacy link: alias, the child's short ID and name. */
export function linkHostsLine(child: ContainerRecord, alias: string, ip: string): string {
  return `${ip}\t${[...new Set([alias, shortId(child.id), child.name.slice(1)])].join(' ')}`;
}

/** Rewrites a bind-mounted /etc file in place (a rename would leave the container the old inode). */
export async function editEtcFile(log: Logger, path: string, edit: (text: string) => string): Promise<void> {
  try {
    const text = await readFile(path, 'utf8');
    const next = edit(text);
    if (next !== text) await writeFile(path, next);
  } catch (err) {
    log.warn({ err, path }, 'cannot update container file');
  }
}

export class ContainerLinks {
  constructor(private readonly deps: ContainerLinksDeps) {}

  /**
   * `HostConfig.Links` at create (dockerd's registerLinks): ignored on a user-defined network
   * (the CLI sends those as the endpoint's Links); each child must exist and must not use the
   * host's network (followed through `container:` modes).
   */
  plan(links: readonly string[], mode: NetworkMode): LegacyLink[] {
    const out: LegacyLink[] = [];
    if (mode.kind === 'bridge' && mode.primary !== 'bridge') return out;
    for (const link of links) {
      const { ref, alias } = parseLink(link);
      let child = this.childFor(ref);
      for (let m = parseNetworkMode(child.hostConfig.NetworkMode); m.kind === 'container'; m = parseNetworkMode(child.hostConfig.NetworkMode)) {
        child = this.childFor(m.ref);
      }
      if (parseNetworkMode(child.hostConfig.NetworkMode).kind === 'host') {
        throw new InvalidParameterError("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
      }
      out.push({ id: child.id, alias });
    }
    return out;
  }

  /**
   * The children of a starting container's links with their address on the default bridge
   * (dockerd refuses to start a container whose linked container is not running).
   */
  resolve(c: ContainerRecord): ResolvedLink[] {
    const out: ResolvedLink[] = [];
    for (const link of c.network?.links ?? []) {
      let child: ContainerRecord;
      try {
        child = this.deps.records.get(link.id);
      } catch {
        continue; // removed since: dockerd forgets links with their child
      }
      if (!child.state.Running) throw new LinkStartError(`Cannot link to a non running container: ${child.name} AS ${linkName(c.name, link.alias)}`);
      const ip = child.network?.networks.bridge?.IPAddress;
      if (!ip) throw new LinkStartError(`container ${child.id} not attached to default bridge network`);
      out.push({ child, alias: link.alias, ip });
    }
    return out;
  }

  /**
   * A linked container that starts again may have a new address: running parents' hosts lines
   * for it follow (dockerd's updateParentsHosts).
   */
  async updateParents(child: ContainerRecord): Promise<void> {
    const ip = child.network?.networks.bridge?.IPAddress;
    if (!ip) return;
    for (const parent of this.deps.records.all()) {
      if (!parent.state.Running) continue;
      for (const link of parent.network?.links ?? []) {
        if (link.id !== child.id) continue;
        const line = linkHostsLine(child, link.alias, ip);
        const names = line.split('\t')[1];
        await editEtcFile(this.deps.log, this.deps.records.dirs(parent.id).hostsPath, (text) =>
          text
            .split('\n')
            .map((l) => (l.split('\t')[1] === names ? line : l))
            .join('\n'),
        );
      }
    }
  }

  /** `docker rm --link parent/alias`: forgets the link and its /etc/hosts line. */
  async remove(parent: ContainerRecord, alias: string): Promise<void> {
    const links = parent.network?.links ?? [];
    const link = links.find((l) => l.alias === alias);
    if (!link || !parent.network) return;
    parent.network.links = links.filter((l) => l !== link);
    if (!parent.network.links.length) delete parent.network.links;
    if (!parent.state.Running) return;
    // A link's line names the alias first, then the child's short ID (see linkHostsLine).
    const isLinkLine = (line: string) => line.split('\t')[1]?.split(' ')[0] === alias && line.split(' ')[1] === shortId(link.id);
    await editEtcFile(this.deps.log, this.deps.records.dirs(parent.id).hostsPath, (text) => text.split('\n').filter((line) => !isLinkLine(line)).join('\n'));
  }

  private childFor(ref: string): ContainerRecord {
    try {
      return this.deps.records.get(ref);
    } catch (err) {
      throw new InvalidParameterError(`could not get container for ${ref}: ${(err as Error).message}`, { cause: err });
    }
  }
}
