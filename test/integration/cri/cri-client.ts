/**
 * A grpc-js client of Berth's CRI socket for the tests: the runtime and image services of one
 * API version, each method promisified (`await c.runtime.Version({})`), answers decoded as the
 * server decodes requests (proto field names, enums as names, int64 as strings).
 */
import * as grpc from '@grpc/grpc-js';
import { loadCriServices, type CriVersion } from '../../../src/cri/proto-load';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = any;
export type CriCalls = Record<string, (req?: object, opts?: { deadlineMs?: number }) => Promise<Answer>>;

export interface CriClient {
  runtime: CriCalls;
  image: CriCalls;
  close(): void;
}

function promisify(client: grpc.Client, service: grpc.ServiceDefinition): CriCalls {
  const calls: CriCalls = {};
  for (const name of Object.keys(service)) {
    const fn = (client as unknown as Record<string, (...a: unknown[]) => unknown>)[name].bind(client);
    calls[name] = (req = {}, opts = {}) =>
      new Promise((resolve, reject) => {
        fn(req, { deadline: Date.now() + (opts.deadlineMs ?? 120_000) }, (err: grpc.ServiceError | null, res: Answer) => (err ? reject(err) : resolve(res)));
      });
  }
  return calls;
}

export function criClient(socket: string, version: CriVersion = 'v1'): CriClient {
  const services = loadCriServices(version);
  const Runtime = grpc.makeGenericClientConstructor(services.runtime, 'RuntimeService');
  const Image = grpc.makeGenericClientConstructor(services.image, 'ImageService');
  const runtime = new Runtime(`unix://${socket}`, grpc.credentials.createInsecure());
  const image = new Image(`unix://${socket}`, grpc.credentials.createInsecure());
  return {
    runtime: promisify(runtime, services.runtime),
    image: promisify(image, services.image),
    close: () => {
      runtime.close();
      image.close();
    },
  };
}

/** The gRPC status code of a failed call (grpc.status.NOT_FOUND, ...). */
export function grpcCode(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}
