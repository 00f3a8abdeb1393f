/**
 * The CRI streaming server: the HTTP endpoint the URLs of Exec, Attach and PortForward point to
 * (`http://<streamingAddress>/{exec,attach,portforward}/<token>`), as kubelet's own streaming
 * library serves it for containerd. A client (kubelet, crictl) upgrades a GET or POST on the URL
 * to SPDY/3.1 with `X-Stream-Protocol-Version`; the token names the request the RPC stored, once.
 * Port 0 in the address is a free port picked at start, and the URLs carry the real one.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { acceptPortForwardStream, PORT_FORWARD_PROTOCOLS, servePortForward } from './port-forward';
import { REMOTE_COMMAND_PROTOCOLS, serveRemoteCommand, type RemoteCommandIo, type RemoteCommandOptions, type RemoteCommandOutcome, type RemoteCommandProtocol } from './remote-command';
import { RequestCache } from './request-cache';
import { SpdySession, type SpdySessionOptions, type SpdyStream } from './spdy-session';

export type StreamingRequest =
  | { kind: 'exec'; containerId: string; cmd: string[]; opts: RemoteCommandOptions }
  | { kind: 'attach'; containerId: string; opts: RemoteCommandOptions }
  | { kind: 'portforward'; podSandboxId: string };

/** What the streams are joined to (streaming-runtime.ts binds it to the engine). */
export interface StreamingRuntime {
  exec(containerId: string, cmd: string[], io: RemoteCommandIo): Promise<RemoteCommandOutcome>;
  attach(containerId: string, io: RemoteCommandIo): Promise<RemoteCommandOutcome>;
  portForward(podSandboxId: string, port: number, stream: SpdyStream): Promise<void>;
}

export interface StreamingServer {
  /** e.g. http://127.0.0.1:41235 */
  readonly baseUrl: string;
  /** Stores the request under a new token and answers its URL. */
  urlFor(request: StreamingRequest): string;
  close(): Promise<void>;
}

/** kubelet's default: a connection with no traffic for this long is closed. */
const IDLE_TIMEOUT_MS = 4 * 60 * 60 * 1000;
const PATH = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)$/;

export async function startStreamingServer(opts: { address: string; runtime: StreamingRuntime; log: Logger }): Promise<StreamingServer> {
  const { host, port } = parseListenAddress(opts.address);
  const cache = new RequestCache<StreamingRequest>();
  const sockets = new Set<Socket | Duplex>();
  const server: Server = createServer((req, res) => {
    // Not an upgrade: kubelet's server spends the token and refuses.
    const request = take(req.url);
    res.statusCode = request ? 400 : 404;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(request ? 'unable to upgrade: missing upgrade headers in request\n' : '404 page not found\n');
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => undefined);
    try {
      upgrade(req, socket, head);
    } catch (err) {
      opts.log.warn({ err }, 'CRI streaming request failed');
      socket.destroy();
    }
  });

  function take(url: string | undefined): StreamingRequest | undefined {
    const m = PATH.exec((url ?? '').split('?')[0]);
    if (!m) return undefined;
    const request = cache.consume(m[2]);
    return request && (request.kind === m[1] ? request : undefined);
  }

  function upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    if (req.method !== 'GET' && req.method !== 'POST') return refuse(socket, 405, 'Method Not Allowed', '405: Method Not Allowed\n');
    const request = take(req.url);
    if (!request) return refuse(socket, 404, 'Not Found', '404 page not found\n');
    if (!/(^|[\s,])spdy\/3\.1($|[\s,])/i.test(String(req.headers.upgrade ?? ''))) {
      return refuse(socket, 400, 'Bad Request', `unable to upgrade: missing upgrade headers in request: only SPDY/3.1 is served, not ${JSON.stringify(req.headers.upgrade ?? '')}\n`);
    }
    const serverProtocols: readonly string[] = request.kind === 'portforward' ? PORT_FORWARD_PROTOCOLS : REMOTE_COMMAND_PROTOCOLS;
    const clientProtocols = String(req.headers['x-stream-protocol-version'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (clientProtocols.length === 0) return refuse(socket, 400, 'Bad Request', 'unable to upgrade: X-Stream-Protocol-Version is required\n');
    const protocol = clientProtocols.find((p) => serverProtocols.includes(p));
    if (!protocol) {
      const accepted = serverProtocols.map((p) => `X-Accepted-Stream-Protocol-Versions: ${p}\r\n`).join('');
      return refuse(socket, 403, 'Forbidden', `unable to upgrade: unable to negotiate protocol: client supports [${clientProtocols.join(' ')}], server accepts [${serverProtocols.join(' ')}]\n`, accepted);
    }
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Connection: Upgrade\r\n' +
        'Upgrade: SPDY/3.1\r\n' +
        `X-Stream-Protocol-Version: ${protocol}\r\n` +
        `Date: ${new Date().toUTCString()}\r\n\r\n`,
    );
    if (head.length) socket.unshift(head);
    const sessionOpts: SpdySessionOptions = { idleTimeoutMs: IDLE_TIMEOUT_MS };
    if (request.kind === 'portforward') {
      const session = new SpdySession(socket, { ...sessionOpts, acceptStream: acceptPortForwardStream });
      servePortForward(session, request.podSandboxId, (port, stream) => opts.runtime.portForward(request.podSandboxId, port, stream));
      return;
    }
    const session = new SpdySession(socket, sessionOpts);
    const run = request.kind === 'exec' ? (io: RemoteCommandIo) => opts.runtime.exec(request.containerId, request.cmd, io) : (io: RemoteCommandIo) => opts.runtime.attach(request.containerId, io);
    serveRemoteCommand(session, protocol as RemoteCommandProtocol, request.opts, run).catch((err) => {
      opts.log.warn({ err, kind: request.kind }, 'CRI streaming session failed');
      socket.destroy();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const baseUrl = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  opts.log.info({ url: baseUrl }, 'CRI streaming server listening');
  return {
    baseUrl,
    urlFor: (request) => `${baseUrl}/${request.kind}/${cache.insert(request)}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** `host:port`, `[v6]:port` or `:port` (every address). */
export function parseListenAddress(address: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address.trim());
  if (!m) throw new Error(`invalid CRI streaming address ${JSON.stringify(address)}: want host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid CRI streaming address ${JSON.stringify(address)}: port out of range`);
  const host = m[1] ?? m[2];
  return { host: host || undefined, port };
}

function refuse(socket: Socket, code: number, text: string, body: string, extraHeaders = ''): void {
  socket.end(`HTTP/1.1 ${code} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n${extraHeaders}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
