/**
 * Error mapping through the HTTP layer (inject, fake backends): each error class a backend
 * throws becomes dockerd's status with a `{"message"}` body; anything else is a 500; a failure
 * after a progress stream started goes in-band.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ERROR_CLASSES, NotFoundError } from '../../../src/errors';
import { fakeApi, json } from './fake-api';
import { DOCKERD_STATUS } from './dockerd-status';


describe('errors a backend throws, as HTTP responses', () => {
  let thrown: unknown;
  let app: FastifyInstance;
  before(async () => {
    app = await fakeApi({
      containers: {
        start: async () => {
          throw thrown;
        },
      },
      images: {
        pull: async (_ref, opts) => {
          opts.progress({ status: 'Pulling from test/app', id: '1' });
          throw new NotFoundError('manifest unknown');
        },
        push: async () => {
          throw new NotFoundError('An image does not exist locally with the tag: x');
        },
      },
    });
  });
  after(() => app.close());

  it('covers every error class', () => {
    assert.deepEqual(ERROR_CLASSES.map((C) => C.name).sort(), Object.keys(DOCKERD_STATUS).sort());
  });

  for (const C of ERROR_CLASSES) {
    it(`${C.name} → ${DOCKERD_STATUS[C.name]}`, async () => {
      thrown = new C(`the words of ${C.name}`);
      const res = await app.inject({ method: 'POST', url: '/v1.51/containers/abc/start' });
      assert.equal(res.statusCode, DOCKERD_STATUS[C.name]);
      if (res.statusCode === 304) {
        assert.equal(res.body, '', 'a 304 has no body');
        return;
      }
      assert.equal(res.headers['content-type'], 'application/json');
      assert.equal(res.body, `{"message":"the words of ${C.name}"}\n`);
    });
  }

  it('any other error is a 500 with its message', async () => {
    thrown = new TypeError('cannot read the thing');
    const res = await app.inject({ method: 'POST', url: '/containers/abc/start' });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(json(res), { message: 'cannot read the thing' });
  });

  it('an unknown route is 404 "page not found"; a version outside 1.24–1.51 is 400', async () => {
    const missing = await app.inject({ method: 'GET', url: '/v1.51/nothing/here' });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(json(missing), { message: 'page not found' });
    const old = await app.inject({ method: 'GET', url: '/v1.23/containers/abc/json' });
    assert.equal(old.statusCode, 400);
    assert.deepEqual(json(old), { message: 'client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version' });
    const young = await app.inject({ method: 'GET', url: '/v1.52/containers/abc/json' });
    assert.equal(young.statusCode, 400);
    assert.deepEqual(json(young), { message: 'client version 1.52 is too new. Maximum supported API version is 1.51' });
  });

  it('a JSON body over the limit is 413 "request body too large"', async () => {
    const res = await app.inject({ method: 'POST', url: '/containers/create', headers: { 'content-type': 'application/json' }, payload: `{"Image":"${'x'.repeat(17 * 1024 * 1024)}"}` });
    assert.equal(res.statusCode, 413);
    assert.deepEqual(json(res), { message: 'request body too large' });
  });

  it('a failure before a progress stream starts is an HTTP error; after, an errorDetail line', async () => {
    const early = await app.inject({ method: 'POST', url: '/images/x/push' });
    assert.equal(early.statusCode, 404);
    assert.deepEqual(json(early), { message: 'An image does not exist locally with the tag: x' });
    const late = await app.inject({ method: 'POST', url: '/images/create?fromImage=test/app&tag=1' });
    assert.equal(late.statusCode, 200);
    assert.equal(late.headers['content-type'], 'application/json');
    assert.deepEqual(late.body.trim().split('\n').map((l) => JSON.parse(l)), [
      { status: 'Pulling from test/app', id: '1' },
      { errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' },
    ]);
  });
});
