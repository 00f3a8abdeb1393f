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

/** How long a port handed out by allocate() stays promised to its caller without a reserve(). */
const PROMISE_MS = 60_000;

/** Promises are per port and protocol: any address, as a wildcard bind would conflict anyway. */
const promiseKey = (k: HostPortKey) => `${k.protocol}/${k.hostPort}`;

export class PortReservations {
  private readonly held: Held[] = [];
  /**
   * Ports allocate() handed out that nobody has reserved yet, with when the promise lapses: the
   * kernel may offer the same free port to two starts in a row, and the first reserves it only
   * once its network is attached.
   */
  private readonly promised = new Map<string, number>();

  /** `probe` asks the kernel for a free port (a bind to port 0); tests script its answers. */
  constructor(private readonly probe: typeof probePort = probePort) {}

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
    this.promised.delete(promiseKey(key));
  }

  release(owner: string): void {
    for (let i = this.held.length - 1; i >= 0; i--) if (this.held[i].owner === owner) this.held.splice(i, 1);
  }

  /**
   * A free port for `-p CPORT`: the kernel picks one from its ephemeral range (a bind to port 0),
   * skipping ports Berth's endpoints already hold.
   */
  async allocate(protocol: 'tcp' | 'udp', hostIp: string): Promise<number> {
    const now = Date.now();
    for (const [k, until] of this.promised) if (until <= now) this.promised.delete(k);
    for (let attempt = 0; attempt < 64; attempt++) {
      const port = await this.probe(protocol, hostIp, 0);
      const key = { protocol, hostIp, hostPort: port };
      if (this.conflicts(key) || this.promised.has(promiseKey(key))) continue;
      this.promised.set(promiseKey(key), Date.now() + PROMISE_MS);
      return port;
    }
    throw new Error(`no free ${protocol} host port on ${hostIp || '0.0.0.0'}`);
  }
}
