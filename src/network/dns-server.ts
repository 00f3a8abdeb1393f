/**
 * The embedded DNS server: one per plumbing instance, listening on UDP and TCP port 53 of the
 * gateway address of every DNS-enabled network (containers reach it as 127.0.0.11 through the
 * redirect in dns-redirect.ts). For a client whose source address is in the network's subnet it
 * answers, from the names registered for that network (case-insensitive, trailing dot optional):
 *   A     → the addresses of every endpoint with that name (TTL 600, like dockerd)
 *   AAAA  → their IPv6 addresses on a dual-stack network (else an empty NOERROR)
 *   PTR   → the first name of the endpoint with that address (in-addr.arpa and ip6.arpa)
 * Names registered for one client address (link aliases) are seen by that client only.
 * Everything else is forwarded to the upstream resolvers; when none answers: SERVFAIL.
 * Clients outside the subnet get REFUSED.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import { forwardQuery, parseUpstream, type Upstream } from './dns-forward';
import { cidrContains, parseCidr, type Prefix } from './ipv4';
import type { DnsRecord, NetworkLog } from './types';

const TTL = 600;
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, REFUSED: 5 } as const;
const TCP_IDLE_MS = 10_000;

export interface DnsServerOptions {
  upstreams: readonly string[];
  /** Per-upstream timeout (default 2000 ms). */
  upstreamTimeoutMs?: number;
  /** Port to listen on (53 unless a test says otherwise). */
  port?: number;
  log: NetworkLog;
}

interface Listener {
  gateway: string;
  subnet: Prefix;
  udp: dgram.Socket;
  tcp: net.Server;
  connections: Set<net.Socket>;
}

interface Addresses {
  v4: string[];
  v6: string[];
}

interface NameTable {
  byName: Map<string, Addresses>;
  /** Per client address: names only that client resolves. */
  scoped: Map<string, Map<string, Addresses>>;
  byIp: Map<string, string>;
}

function addTo(map: Map<string, Addresses>, name: string, r: DnsRecord): void {
  const a = map.get(name) ?? { v4: [], v6: [] };
  if (!a.v4.includes(r.ip)) a.v4.push(r.ip);
  if (r.ip6 && !a.v6.includes(r.ip6)) a.v6.push(r.ip6);
  map.set(name, a);
}

export class DnsServer {
  readonly upstreams: readonly Upstream[];
  private readonly timeoutMs: number;
  private readonly port: number;
  private readonly log: NetworkLog;
  private readonly listeners = new Map<string, Listener>();
  private readonly tables = new Map<string, NameTable>();

  constructor(opts: DnsServerOptions) {
    this.upstreams = opts.upstreams.map(parseUpstream);
    this.timeoutMs = opts.upstreamTimeoutMs ?? 2000;
    this.port = opts.port ?? 53;
    this.log = opts.log;
  }

  /** Starts serving a network on `<gateway>:53` (no-op when already serving it there). */
  async listen(networkId: string, gateway: string, subnet: string): Promise<void> {
    const existing = this.listeners.get(networkId);
    if (existing && existing.gateway === gateway) return;
    if (existing) await this.unlisten(networkId);
    const udp = dgram.createSocket('udp4');
    const tcp = net.createServer();
    const listener: Listener = { gateway, subnet: parseCidr(subnet), udp, tcp, connections: new Set() };
    udp.on('message', (msg, rinfo) => {
      void this.answer(networkId, msg, rinfo.address).then((reply) => {
        if (reply) udp.send(reply, rinfo.port, rinfo.address);
      });
    });
    udp.on('error', (err) => this.log.warn({ err, network: networkId }, 'DNS UDP socket error'));
    tcp.on('connection', (socket) => this.serveTcp(networkId, listener, socket));
    tcp.on('error', (err) => this.log.warn({ err, network: networkId }, 'DNS TCP server error'));
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(this.port, gateway, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(this.port, gateway, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      tcp.close();
      throw new Error(`cannot serve DNS on ${gateway}:${this.port}: ${(err as Error).message}`, { cause: err });
    }
    this.listeners.set(networkId, listener);
  }

  async unlisten(networkId: string): Promise<void> {
    const l = this.listeners.get(networkId);
    if (!l) return;
    this.listeners.delete(networkId);
    for (const s of l.connections) s.destroy();
    await Promise.all([
      new Promise<void>((resolve) => l.udp.close(() => resolve())),
      new Promise<void>((resolve) => l.tcp.close(() => resolve())),
    ]);
  }

  isListening(networkId: string): boolean {
    return this.listeners.has(networkId);
  }

  setRecords(networkId: string, records: readonly DnsRecord[]): void {
    const table: NameTable = { byName: new Map(), scoped: new Map(), byIp: new Map() };
    for (const r of records) {
      for (const raw of r.names) {
        const name = normalize(raw);
        if (!name) continue;
        if (r.client) {
          const own = table.scoped.get(r.client) ?? new Map<string, Addresses>();
          addTo(own, name, r);
          table.scoped.set(r.client, own);
          continue;
        }
        addTo(table.byName, name, r);
        if (!table.byIp.has(r.ip)) table.byIp.set(r.ip, name);
        if (r.ip6 && !table.byIp.has(expandIpv6(r.ip6))) table.byIp.set(expandIpv6(r.ip6), name);
      }
    }
    this.tables.set(networkId, table);
  }

  forgetNetwork(networkId: string): void {
    this.tables.delete(networkId);
  }

  async close(): Promise<void> {
    await Promise.all([...this.listeners.keys()].map((id) => this.unlisten(id)));
  }

  /** The reply to one query from `clientIp` on a network, or undefined to stay silent. */
  async answer(networkId: string, msg: Buffer, clientIp: string): Promise<Buffer | undefined> {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      // Never answer something that claims to be a response (no reflection loops).
      return msg.length >= 12 && (msg[2] & 0x80) === 0 ? headerOnly(msg, RCODE.FORMERR) : undefined;
    }
    if (query.type !== 'query') return undefined;
    const listener = this.listeners.get(networkId);
    const local = listener && cidrContains(listener.subnet, clientIp);
    if (!local) return reply(query, RCODE.REFUSED, []);
    const q = query.questions?.[0];
    if (!q) return reply(query, RCODE.FORMERR, []);
    const table = this.tables.get(networkId);
    const name = normalize(q.name);
    const ips = table?.scoped.get(clientIp)?.get(name) ?? table?.byName.get(name);
    if (ips && (q.class ?? 'IN') === 'IN') {
      if (q.type === 'A') {
        return reply(query, RCODE.NOERROR, ips.v4.map((ip) => ({ type: 'A', name: q.name, ttl: TTL, data: ip })));
      }
      if (q.type === 'AAAA') {
        return reply(query, RCODE.NOERROR, ips.v6.map((ip) => ({ type: 'AAAA', name: q.name, ttl: TTL, data: ip })));
      }
    }
    if (q.type === 'PTR' && table) {
      const target = table.byIp.get(ptrToIp(name) ?? '');
      if (target) return reply(query, RCODE.NOERROR, [{ type: 'PTR', name: q.name, ttl: TTL, data: target }]);
    }
    if (this.upstreams.length === 0) return reply(query, RCODE.SERVFAIL, []);
    const forwarded = await forwardQuery(msg, this.upstreams, this.timeoutMs);
    return forwarded ?? reply(query, RCODE.SERVFAIL, []);
  }

  /** DNS over TCP: 2-byte length-prefixed messages, several per connection. */
  private serveTcp(networkId: string, listener: Listener, socket: net.Socket): void {
    listener.connections.add(socket);
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on('close', () => listener.connections.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        void this.answer(networkId, Buffer.from(msg), socket.remoteAddress ?? '').then((r) => {
          if (!r || socket.destroyed) return;
          const framed = Buffer.alloc(2 + r.length);
          framed.writeUInt16BE(r.length, 0);
          r.copy(framed, 2);
          socket.write(framed);
        });
      }
    });
  }
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** `4.3.2.1.in-addr.arpa` → `1.2.3.4`; a 32-nibble `ip6.arpa` name → the expanded IPv6 address. */
function ptrToIp(name: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
  if (m) return `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
  const v6 = /^((?:[0-9a-f]\.){32})ip6\.arpa$/.exec(name);
  if (!v6) return undefined;
  const hex = v6[1].split('.').filter(Boolean).reverse().join('');
  return hex.match(/.{4}/g)!.join(':');
}

/** An IPv6 address with every group written out (`fd00::1` → `fd00:0000:...:0001`). */
function expandIpv6(ip: string): string {
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

function reply(query: dnsPacket.DecodedPacket, rcode: number, answers: dnsPacket.Answer[]): Buffer {
  const rd = query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0;
  const aa = answers.length > 0 || rcode === RCODE.NOERROR ? dnsPacket.AUTHORITATIVE_ANSWER : 0;
  return dnsPacket.encode({
    type: 'response',
    id: query.id,
    flags: rd | aa | dnsPacket.RECURSION_AVAILABLE | rcode,
    questions: query.questions,
    answers,
  });
}

/** A reply with only the header (for queries that cannot be decoded). */
function headerOnly(msg: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  msg.copy(out, 0, 0, 2);
  out.writeUInt16BE(0x8000 | dnsPacket.RECURSION_AVAILABLE | rcode, 2);
  return out;
}
