import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { MAX_API_VERSION, MIN_API_VERSION } from '../../../src/api/version';
import { apiRoutes } from '../../../src/api/build-api';

// Compiled to dist/test/unit/api/, so the repository root is four levels up.
const REPO = resolve(__dirname, '..', '..', '..', '..');
const DOC_PATH = resolve(REPO, 'openapi', 'openapi.json');

const HTTP_METHODS = ['get', 'head', 'post', 'put', 'delete', 'patch', 'options'];

interface SwaggerDoc {
  swagger: string;
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, unknown>>;
  definitions: Record<string, unknown>;
}

const doc = JSON.parse(readFileSync(DOC_PATH, 'utf8')) as SwaggerDoc;

/** `/containers/:id/json` → `/containers/{id}/json`. */
const toOpenApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Every `METHOD path` the daemon serves. Handlers are closures, so dummy backends do. */
function servedOperations(): Set<string> {
  const dummy = {} as never;
  const { routes, hijackRoutes, wsRoutes } = apiRoutes({ system: dummy, containers: dummy, images: dummy, builds: dummy, networks: dummy, volumes: dummy, execs: dummy, swarm: dummy, plugins: dummy, distribution: dummy });
  const ops = new Set<string>();
  for (const r of routes) {
    if (r.url.includes('*')) {
      assert.ok(r.paths?.length, `${r.method} ${r.url} is a wildcard route and must list its OpenAPI paths`);
    }
    for (const path of r.paths ?? [toOpenApiPath(r.url)]) ops.add(`${r.method} ${path}`);
  }
  for (const r of [...hijackRoutes, ...wsRoutes]) ops.add(`${r.method} ${toOpenApiPath(r.url)}`);
  return ops;
}

function documentedOperations(): Set<string> {
  const ops = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item)) {
      if (HTTP_METHODS.includes(method)) ops.add(`${method.toUpperCase()} ${path}`);
    }
  }
  return ops;
}

/** Every `#/definitions/X` reference found under `value`. */
function collectRefs(value: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) collectRefs(v, into);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') into.add(v);
      else collectRefs(v, into);
    }
  }
  return into;
}

describe('openapi/openapi.json', () => {
  it('documents exactly the routes Berth serves', () => {
    const served = servedOperations();
    const documented = documentedOperations();
    const missing = [...served].filter((op) => !documented.has(op)).sort();
    const stale = [...documented].filter((op) => !served.has(op)).sort();
    assert.deepEqual(
      { missing, stale },
      { missing: [], stale: [] },
      `missing from openapi.json: ${missing.join(', ') || 'none'}; documented but not served: ${stale.join(', ') || 'none'}`,
    );
  });

  it('declares the API versions Berth serves', () => {
    assert.equal(doc.info.title, 'Berth Engine API');
    assert.equal(doc.info.version, MAX_API_VERSION);
    assert.ok(doc.info.description.includes(MIN_API_VERSION), 'info.description names the oldest version served');
    assert.ok(doc.info.description.includes(MAX_API_VERSION), 'info.description names the newest version served');
  });

  it('resolves every $ref and keeps only the definitions in use', () => {
    const refs = collectRefs(doc.paths, new Set());
    const reachable = new Set<string>();
    const todo = [...refs];
    while (todo.length) {
      const ref = todo.pop()!;
      const m = /^#\/definitions\/(.+)$/.exec(ref);
      assert.ok(m, `unexpected $ref ${ref}`);
      const name = m[1];
      assert.ok(name in doc.definitions, `$ref ${ref} has no definition`);
      if (reachable.has(name)) continue;
      reachable.add(name);
      todo.push(...collectRefs(doc.definitions[name], new Set()));
    }
    const unused = Object.keys(doc.definitions).filter((n) => !reachable.has(n)).sort();
    assert.deepEqual(unused, [], `definitions no operation uses: ${unused.join(', ')}`);
  });
});
