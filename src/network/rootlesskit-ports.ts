/**
 * Published ports of a rootless daemon, on the host: the daemon lives in rootlesskit's network
 * namespace, so a listener there is invisible from the host. rootlesskit's API (`api.sock` in its
 * state dir, `/v1/ports`) makes its parent process, which stays in the host's namespace, listen
 * on parentIP:parentPort and relay each connection to 127.0.0.1:childPort inside (the builtin
 * port driver). Berth's userland proxy listens there, as dockerd's rootlesskit-docker-proxy
 * makes docker-proxy listen on 127.0.0.1.
 */
import { request } from 'node:http';
import net from 'node:net';
import { NetworkPlumbingError } from './errors';

export interface RootlessKitPortSpec {
  protocol: 'tcp' | 'udp';
  /** The address on the host ('' = all IPv4 addresses). */
  hostIp: string;
  hostPort: number;
  /** The port inside the daemon's namespace that the host port is relayed to. */
  childPort: number;
}

/** The child-side address rootlesskit's builtin driver dials: the namespace's loopback. */
export function childLoopback(hostIp: string): string {
  return net.isIPv6(hostIp) ? '::1' : '127.0.0.1';
}

/** rootlesskit's API over its unix socket. */
export class RootlessKitPorts {
  constructor(private readonly apiSocket: string) {}

  /** Publishes the port on the host; returns rootlesskit's id for `remove`. */
  async add(spec: RootlessKitPortSpec): Promise<number> {
    const hostIp = spec.hostIp || '0.0.0.0';
    // The address family made explicit (tcp4/tcp6), as dockerd does: 0.0.0.0 must not take [::] too.
    const proto = `${spec.protocol}${net.isIPv6(hostIp) ? '6' : '4'}`;
    const res = await this.call('POST', '/v1/ports', { proto, parentIP: hostIp, parentPort: spec.hostPort, childPort: spec.childPort });
    if (res.status !== 201) {
      // dockerd's wording (its proxy wraps rootlesskit's message), e.g. "... listen tcp4 0.0.0.0:8080: bind: address already in use".
      throw new NetworkPlumbingError('port-allocated', `Error starting userland proxy: error while calling PortManager.AddPort(): ${apiMessage(res.body)}`);
    }
    const id = (JSON.parse(res.body) as { id?: unknown }).id;
    if (typeof id !== 'number') throw new Error(`rootlesskit API: no port id in ${res.body}`);
    return id;
  }

  async remove(id: number): Promise<void> {
    const res = await this.call('DELETE', `/v1/ports/${id}`);
    if (res.status !== 200) throw new Error(`rootlesskit API: removing port ${id}: ${apiMessage(res.body)}`);
  }

  private call(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.apiSocket,
          // The host part is ignored by rootlesskit.
          host: 'rootlesskit',
          path,
          method,
          headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {},
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`rootlesskit API: ${method} ${path} timed out`)));
      req.on('error', (err) => reject(new Error(`rootlesskit API (${this.apiSocket}): ${err.message}`, { cause: err })));
      req.end(payload);
    });
  }
}

/** rootlesskit answers errors as `{"message": "..."}`. */
function apiMessage(body: string): string {
  try {
    const msg = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof msg === 'string') return msg;
  } catch {
    // not JSON: the raw text
  }
  return body.trim();
}
