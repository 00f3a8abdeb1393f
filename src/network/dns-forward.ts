/**
 * Forwarding of DNS queries the embedded server does not answer itself: the raw query goes over
 * UDP to each upstream resolver in turn (fresh socket per attempt, so the reply's ID is the
 * client's own) until one answers within the timeout.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';

export interface Upstream {
  host: string;
  port: number;
}

/** Parses `host`, `host:port`, `[v6]` or `[v6]:port` (a bare IPv6 address is also accepted). */
export function parseUpstream(text: string): Upstream {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  let host: string;
  let port = 53;
  if (bracket) {
    host = bracket[1];
    if (bracket[2]) port = Number(bracket[2]);
  } else if (isIP(text) === 6) {
    host = text;
  } else {
    const m = /^([^:]+)(?::(\d+))?$/.exec(text);
    if (!m) throw new Error(`invalid DNS upstream: ${text}`);
    host = m[1];
    if (m[2]) port = Number(m[2]);
  }
  if (isIP(host) === 0 || port < 1 || port > 65535) throw new Error(`invalid DNS upstream: ${text}`);
  return { host, port };
}

/** Sends `query` to one upstream; resolves with its reply or rejects after `timeoutMs`. */
export function queryUpstream(query: Buffer, upstream: Upstream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(isIP(upstream.host) === 6 ? 'udp6' : 'udp4');
    const id = query.readUInt16BE(0);
    let settled = false;
    const done = (err: Error | undefined, reply?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(reply as Buffer);
    };
    const timer = setTimeout(() => done(new Error(`DNS upstream ${upstream.host}:${upstream.port} timed out`)), timeoutMs);
    socket.on('error', (err) => done(err));
    socket.on('message', (msg, rinfo) => {
      // Only a reply from the upstream itself with the query's ID counts.
      if (rinfo.address !== upstream.host || rinfo.port !== upstream.port || msg.length < 12) return;
      if (msg.readUInt16BE(0) !== id) return;
      done(undefined, msg);
    });
    socket.send(query, upstream.port, upstream.host, (err) => {
      if (err) done(err);
    });
  });
}

/** Tries each upstream in order; undefined when none answered. */
export async function forwardQuery(query: Buffer, upstreams: readonly Upstream[], timeoutMs: number): Promise<Buffer | undefined> {
  for (const upstream of upstreams) {
    try {
      return await queryUpstream(query, upstream, timeoutMs);
    } catch {
      /* next upstream */
    }
  }
  return undefined;
}
