/**
 * The userland proxy for published ports: a listener on hostIp:hostPort that relays to
 * containerIp:containerPort. TCP connections are piped both ways, half-close included. UDP
 * datagrams get one relay socket per client address, closed after an idle timeout (dockerd's
 * proxy uses 90 s). Binding is also how a published port is reserved on the host: a port held by
 * another program fails with dockerd's wording (errors.ts).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { portInUse } from './errors';
import type { NetworkLog } from './types';

export interface ProxySpec {
  protocol: 'tcp' | 'udp';
  /** '' or '0.0.0.0' = all IPv4 addresses. */
  hostIp: string;
  /** 0 = any free port (read back with `hostPort` after start). */
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

export interface ProxyOptions {
  log: NetworkLog;
  udpIdleMs?: number;
}

export interface PortProxy {
  readonly spec: ProxySpec;
  /** The bound port (differs from spec.hostPort when that was 0). */
  readonly hostPort: number;
  close(): Promise<void>;
}

export function bindAddress(hostIp: string): string {
  return hostIp === '' ? '0.0.0.0' : hostIp;
}

export async function startProxy(spec: ProxySpec, opts: ProxyOptions): Promise<PortProxy> {
  return spec.protocol === 'tcp' ? startTcp(spec, opts) : startUdp(spec, opts);
}

function mapBindError(spec: ProxySpec, err: unknown): unknown {
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') return portInUse(spec.protocol, spec.hostIp, spec.hostPort, err);
  return err;
}

async function startTcp(spec: ProxySpec, opts: ProxyOptions): Promise<PortProxy> {
  const connections = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ host: spec.containerIp, port: spec.containerPort, allowHalfOpen: true });
    connections.add(client);
    connections.add(upstream);
    const teardown = () => {
      client.destroy();
      upstream.destroy();
      connections.delete(client);
      connections.delete(upstream);
    };
    client.on('error', teardown);
    upstream.on('error', (err) => {
      opts.log.debug({ err, port: spec.hostPort }, 'userland proxy: backend connection failed');
      teardown();
    });
    // Both directions ended (or one side closed): release both.
    client.on('close', teardown);
    upstream.on('close', teardown);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(mapBindError(spec, err)));
    server.listen({ port: spec.hostPort, host: bindAddress(spec.hostIp), ipv6Only: net.isIPv6(spec.hostIp) }, () => resolve());
  });
  server.on('error', (err) => opts.log.warn({ err, port: spec.hostPort }, 'userland proxy error'));
  const hostPort = (server.address() as net.AddressInfo).port;
  return {
    spec,
    hostPort,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of connections) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function startUdp(spec: ProxySpec, opts: ProxyOptions): Promise<PortProxy> {
  const idleMs = opts.udpIdleMs ?? 90_000;
  const socket = dgram.createSocket({ type: net.isIPv6(spec.hostIp) ? 'udp6' : 'udp4', ipv6Only: net.isIPv6(spec.hostIp) });
  const relays = new Map<string, { sock: dgram.Socket; timer: NodeJS.Timeout }>();
  const drop = (key: string) => {
    const r = relays.get(key);
    if (!r) return;
    relays.delete(key);
    clearTimeout(r.timer);
    r.sock.close();
  };
  socket.on('message', (msg, client) => {
    const key = `${client.address}:${client.port}`;
    let relay = relays.get(key);
    if (!relay) {
      const sock = dgram.createSocket('udp4');
      sock.on('message', (reply, from) => {
        if (from.address !== spec.containerIp || from.port !== spec.containerPort) return;
        socket.send(reply, client.port, client.address);
        const r = relays.get(key);
        r?.timer.refresh();
      });
      sock.on('error', () => drop(key));
      relay = { sock, timer: setTimeout(() => drop(key), idleMs) };
      relays.set(key, relay);
    }
    relay.timer.refresh();
    relay.sock.send(msg, spec.containerPort, spec.containerIp);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (err) => reject(mapBindError(spec, err)));
    socket.bind(spec.hostPort, bindAddress(spec.hostIp), () => resolve());
  });
  socket.on('error', (err) => opts.log.warn({ err, port: spec.hostPort }, 'userland proxy error'));
  const hostPort = socket.address().port;
  return {
    spec,
    hostPort,
    close: () =>
      new Promise<void>((resolve) => {
        for (const key of [...relays.keys()]) drop(key);
        socket.close(() => resolve());
      }),
  };
}

/**
 * Checks that the port can be bound right now (nothing else holds it) and returns the port
 * (the chosen one when `hostPort` is 0). Used when the userland proxy is off.
 */
export async function probePort(protocol: 'tcp' | 'udp', hostIp: string, hostPort: number): Promise<number> {
  const spec: ProxySpec = { protocol, hostIp, hostPort, containerIp: '127.0.0.1', containerPort: 1 };
  const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined };
  const proxy = await startProxy(spec, { log: silent });
  await proxy.close();
  return proxy.hostPort;
}
