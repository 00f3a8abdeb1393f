/**
 * Which host ports Berth's endpoints hold (per plumbing instance, in memory: after a restart the
 * engine re-registers running containers with `restoreEndpoint`). Like dockerd's port allocator,
 * a port on the wildcard address conflicts with the same port on any specific address.
 */
import { portAllocated } from './errors';
import { probePort } from './port-proxy';

export interface HostPortKey {
  protocol: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
}

interface Held extends HostPortKey {
  owner: string;
}

/** dockerd's default ephemeral range for `-p CPORT` (and Linux's default ip_local_port_range). */
export const EPHEMERAL_PORTS = { first: 32768, last: 60999 } as const;

function isWildcard(ip: string): boolean {
  return ip === '' || ip === '0.0.0.0' || ip === '::';
}

export class PortReservations {
  private readonly held: Held[] = [];

  conflicts(key: HostPortKey, owner?: string): boolean {
    return this.held.some(
      (h) =>
        h.owner !== owner &&
        h.protocol === key.protocol &&
        h.hostPort === key.hostPort &&
        (isWildcard(h.hostIp) || isWildcard(key.hostIp) || h.hostIp === key.hostIp),
    );
  }

  /** Holds the port for `owner`, or throws dockerd's "port is already allocated". */
  reserve(owner: string, key: HostPortKey): void {
    if (this.conflicts(key, owner)) throw portAllocated(key.hostIp, key.hostPort);
    this.held.push({ ...key, owner });
  }

  release(owner: string): void {
    for (let i = this.held.length - 1; i >= 0; i--) if (this.held[i].owner === owner) this.held.splice(i, 1);
  }

  /**
   * A free port for `-p CPORT`: the kernel picks one from its ephemeral range (a bind to port 0),
   * skipping ports Berth's endpoints already hold.
   */
  async allocate(protocol: 'tcp' | 'udp', hostIp: string): Promise<number> {
    for (let attempt = 0; attempt < 64; attempt++) {
      const port = await probePort(protocol, hostIp, 0);
      if (!this.conflicts({ protocol, hostIp, hostPort: port })) return port;
    }
    throw new Error(`no free ${protocol} host port on ${hostIp || '0.0.0.0'}`);
  }
}
