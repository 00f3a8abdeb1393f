/**
 * The `filters` query parameter through the HTTP layer (inject, fake backends): malformed ones
 * are refused with 400 before any backend is called; well-formed ones reach the backend parsed
 * (both the Go CLI's `{"k":{"v":true}}` and docker-py's `{"k":["v"]}`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Filters } from '../../../src/engine/filter-args';
import { fakeApi, json } from './fake-api';

describe('filters, from the query to the backend', () => {
  const seen: Array<{ route: string; filters: Filters }> = [];
  let app: FastifyInstance;
  before(async () => {
    app = await fakeApi({
      containers: {
        list: (opts) => {
          seen.push({ route: 'containers', filters: opts.filters });
          return [];
        },
      },
      images: {
        list: async (filters) => {
          seen.push({ route: 'images', filters });
          return [];
        },
      },
      volumes: {
        list: (filters) => {
          seen.push({ route: 'volumes', filters });
          return { Volumes: [], Warnings: [] };
        },
        prune: async (filters) => {
          seen.push({ route: 'volumes/prune', filters });
          return { VolumesDeleted: [], SpaceReclaimed: 0 };
        },
      },
      networks: {
        list: (filters) => {
          seen.push({ route: 'networks', filters });
          return [];
        },
      },
      system: {
        events: (filters) => {
          seen.push({ route: 'events', filters });
          return (async function* () {})();
        },
      },
    });
  });
  after(() => app.close());

  const get = (url: string) => app.inject({ method: 'GET', url });
  const q = (filters: string) => `filters=${encodeURIComponent(filters)}`;

  for (const [filters, message] of [
    // JSON syntax errors are reported in JavaScript's words, not Go's (dockerd's) yet.
    ['{bad', "invalid filter: Expected property name or '}' in JSON at position 1"],
    ['{"name":', 'invalid filter: Unexpected end of JSON input'],
    ['[]', 'invalid filter: expected a JSON object'],
    ['null', 'invalid filter: expected a JSON object'],
    ['{"name":"web"}', "invalid filter: value of 'name' must be a list or a set"],
    ['{"name":[1]}', "invalid filter: value of 'name' must be a list of strings"],
  ]) {
    it(`refuses ${filters} with 400`, async () => {
      seen.length = 0;
      for (const route of ['/containers/json', '/images/json', '/volumes', '/networks']) {
        const res = await get(`/v1.51${route}?${q(filters)}`);
        assert.equal(res.statusCode, 400, `${route}: ${res.body}`);
        assert.deepEqual(json(res), { message }, route);
      }
      assert.deepEqual(seen, [], 'no backend was called');
    });
  }

  it('hands well-formed filters to the backend parsed', async () => {
    seen.length = 0;
    assert.equal((await get(`/containers/json?${q('{"label":{"a=b":true,"c":true},"status":{"exited":false}}')}`)).statusCode, 200);
    assert.equal((await get(`/images/json?${q('{"dangling":["true"],"reference":["busybox:*"]}')}`)).statusCode, 200);
    assert.equal((await get(`/volumes?${q('{}')}`)).statusCode, 200);
    assert.equal((await get('/networks')).statusCode, 200);
    assert.deepEqual(seen, [
      { route: 'containers', filters: { label: ['a=b', 'c'], status: [] } },
      { route: 'images', filters: { dangling: ['true'], reference: ['busybox:*'] } },
      { route: 'volumes', filters: {} },
      { route: 'networks', filters: {} },
    ]);
  });

  it('events get their filters before the stream starts', async () => {
    seen.length = 0;
    const res = await get(`/events?${q('{"type":{"container":true}}')}&until=1`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(seen, [{ route: 'events', filters: { type: ['container'] } }]);
    const bad = await get(`/events?${q('{bad')}`);
    assert.equal(bad.statusCode, 400);
  });

  it('volume prune before API 1.42 considers every volume (all=true added)', async () => {
    seen.length = 0;
    await app.inject({ method: 'POST', url: `/v1.41/volumes/prune?${q('{"label":["x"]}')}` });
    await app.inject({ method: 'POST', url: `/v1.42/volumes/prune?${q('{"label":["x"]}')}` });
    assert.deepEqual(seen, [
      { route: 'volumes/prune', filters: { label: ['x'], all: ['true'] } },
      { route: 'volumes/prune', filters: { label: ['x'] } },
    ]);
  });
});
