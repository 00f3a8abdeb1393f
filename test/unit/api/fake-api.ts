/**
 * The API served by small fake backends, for `inject()` tests of the HTTP translation (moby's
 * router tests do the same): a fake answers only the methods a test gives it; any other call
 * fails the request with "not faked", so a test cannot pass by accident.
 */
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApi, type ApiBackends } from '../../../src/api/build-api';
import { RequestValidators } from '../../../src/api/validation/request-validators';

export type FakeBackends = { [K in keyof ApiBackends]?: Partial<ApiBackends[K]> };

/** Compiled once per test process: every fake server validates as the daemon does. */
let validators: RequestValidators | undefined;

function fake<K extends keyof ApiBackends>(name: K, methods: Partial<ApiBackends[K]> = {}): ApiBackends[K] {
  const notFaked = (key: string | symbol) => () => {
    throw new Error(`not faked: ${name}.${String(key)}`);
  };
  const backend = new Proxy(methods, { get: (target, key) => Reflect.get(target, key) ?? notFaked(key) });
  // Every method is there now: the given ones, and the rest failing when called.
  return backend as ApiBackends[K];
}

/** A server over fakes; close it when done (`t.after(() => app.close())`). */
export async function fakeApi(backends: FakeBackends = {}): Promise<FastifyInstance> {
  validators ??= RequestValidators.fromFile();
  const all = {
    system: fake('system', backends.system),
    containers: fake('containers', backends.containers),
    images: fake('images', backends.images),
    builds: fake('builds', backends.builds),
    networks: fake('networks', backends.networks),
    volumes: fake('volumes', backends.volumes),
    execs: fake('execs', backends.execs),
    swarm: fake('swarm', backends.swarm),
    plugins: fake('plugins', backends.plugins),
    distribution: fake('distribution', backends.distribution),
  };
  const app = buildApi(all, { log: pino({ level: 'silent' }), serverHeader: 'Berth/test (linux)', validators });
  await app.ready();
  return app;
}

/** A JSON response body. */
export const json = (res: { body: string }) => JSON.parse(res.body) as Record<string, unknown>;
