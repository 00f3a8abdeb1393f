/**
 * The CRI's gRPC server: RuntimeService and ImageService, each served as runtime.v1 and as
 * runtime.v1alpha2 by the same handlers (the two versions share field names; each version's own
 * proto encodes the answers, so fields v1alpha2 lacks are simply not sent). Handlers are plain
 * async functions; a method without one answers UNIMPLEMENTED, as the spec allows.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { loadCriServices, type CriVersion } from './proto-load';
import { toServiceError } from './grpc-status';
import { acceptGoAuthority } from './h2-authority';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { RuntimeServiceHandlers } from './generated/runtime/v1/RuntimeService';
import type { ImageServiceHandlers } from './generated/runtime/v1/ImageService';

type AsyncUnary<H> = H extends grpc.handleUnaryCall<infer Req, infer Res> ? (req: Req, version: CriVersion) => Promise<Res> : never;
/** One async function per unary method of a generated service (index signatures dropped). */
type AsyncHandlers<S> = { [K in keyof S as string extends K ? never : [AsyncUnary<S[K]>] extends [never] ? never : K]?: AsyncUnary<S[K]> };

export type RuntimeHandlers = AsyncHandlers<RuntimeServiceHandlers>;
export type ImageHandlers = AsyncHandlers<ImageServiceHandlers>;

export interface CriServerOptions {
  socketPath: string;
  runtime: RuntimeHandlers;
  image: ImageHandlers;
  log: Logger;
}

export interface CriServer {
  close(): Promise<void>;
}

const VERSIONS: CriVersion[] = ['v1', 'v1alpha2'];

/** Binds the CRI socket (the caller has claimed the path) and serves both versions on it. */
export async function startCriServer(opts: CriServerOptions): Promise<CriServer> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024, 'grpc.max_send_message_length': 16 * 1024 * 1024 });
  for (const version of VERSIONS) {
    const services = loadCriServices(version);
    server.addService(services.runtime, implement(services.runtime, opts.runtime as Handlers, version, opts.log));
    server.addService(services.image, implement(services.image, opts.image as Handlers, version, opts.log));
  }
  // Our own listener: each connection passes through the authority filter (h2-authority.ts).
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const sockets = new Set<Socket>();
  const listener: NetServer = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    injector.injectConnection(acceptGoAuthority(socket));
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(opts.socketPath, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  return {
    close: async () => {
      // Clients (kubelet) keep their connections open: closing the listener waits for none of them.
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      await new Promise<void>((resolve) => {
        // Streams kubelet keeps open (events) would hold a graceful shutdown forever.
        const timer = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      injector.destroy();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

type Handler = (req: unknown, version: CriVersion) => Promise<unknown>;
type Handlers = Record<string, Handler | undefined>;

/** A grpc-js implementation of every method of one service: async handlers, errors as statuses. */
function implement(service: grpc.ServiceDefinition, handlers: Handlers, version: CriVersion, log: Logger): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(service)) {
    const handler = handlers[name];
    if (method.requestStream || method.responseStream) {
      impl[name] = (call: grpc.ServerWritableStream<unknown, unknown>) => call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: `${name} is not implemented` });
      continue;
    }
    impl[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      if (!handler) return callback({ code: grpc.status.UNIMPLEMENTED, details: `${name} is not implemented` });
      handler(call.request, version).then(
        (res) => callback(null, res),
        (err: unknown) => {
          const status = toServiceError(err);
          if (status.code === grpc.status.UNKNOWN) log.warn({ err, method: name }, 'CRI call failed');
          else log.debug({ method: name, message: status.details }, 'CRI call refused');
          callback(status);
        },
      );
    };
  }
  return impl;
}
