/**
 * The route table is checked by the compiler: these lines must fail to compile (each
 * `@ts-expect-error` breaks the build the day its line compiles), and route() itself only
 * hands the definition on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerBackend } from '../../../src/api/containers/backend';
import { containerHandlers } from '../../../src/api/containers/handlers';
import { route, type ApiRequest } from '../../../src/api/route';

/** Never called: what matters is what compiles. */
export function routeTableChecks(h: ReturnType<typeof containerHandlers>): void {
  route({ method: 'GET', url: '/containers/:id/json', handler: h.getContainersByName });
  route({ method: 'DELETE', url: '/containers/*', handler: h.deleteContainers });
  // @ts-expect-error a misspelt handler
  route({ method: 'GET', url: '/containers/json', handler: h.getContainersJson });
  // @ts-expect-error the handler reads :id, and this URL has no parameter
  route({ method: 'GET', url: '/containers/json', handler: h.getContainersByName });
  // @ts-expect-error the handler reads :id, the URL names it :name
  route({ method: 'GET', url: '/volumes/:name', handler: async (request: ApiRequest<'id'>) => request.params.id });
  // @ts-expect-error a wildcard route fills '*', not :id
  route({ method: 'DELETE', url: '/containers/*', handler: h.postContainersStart });
}

/** Never called: a backend must offer what the routes call, with the engine's types. */
export function backendChecks(b: ContainerBackend): void {
  // @ts-expect-error no such backend method
  void b.inspekt('x');
  // @ts-expect-error wait takes the client's signal
  void b.wait('x', 'not-running');
}

describe('route()', () => {
  it('hands the definition on unchanged', () => {
    const handler = async () => undefined;
    const def = { method: 'GET' as const, url: '/containers/:id/json', handler, minVersion: '1.25' };
    assert.equal(route(def), def);
  });
});
