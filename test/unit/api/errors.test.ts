import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorBody, STATUS_BY_CODE, statusOf } from '../../../src/api/errors';
import { ERROR_CLASSES, BerthError, NotFoundError } from '../../../src/errors';
import { DOCKERD_STATUS } from './dockerd-status';


describe('error classes → HTTP status', () => {
  it('lists every class once and no status is left without a class', () => {
    const names = ERROR_CLASSES.map((C) => C.name).sort();
    assert.deepEqual(names, Object.keys(DOCKERD_STATUS).sort());
    const codes = ERROR_CLASSES.map((C) => new C('x').code).sort();
    assert.equal(new Set(codes).size, codes.length, 'each class has its own code');
    assert.deepEqual(Object.keys(STATUS_BY_CODE).sort(), codes);
  });

  for (const C of ERROR_CLASSES) {
    it(`${C.name} is ${DOCKERD_STATUS[C.name]}`, () => {
      const err = new C('some message');
      assert.ok(err instanceof BerthError);
      assert.equal(err.name, C.name);
      assert.equal(typeof STATUS_BY_CODE[err.code], 'number', `${err.code} has a status`);
      assert.equal(statusOf(err), DOCKERD_STATUS[C.name]);
    });
  }

  it('maps anything else to 500', () => {
    assert.equal(statusOf(new Error('boom')), 500);
    assert.equal(statusOf(new TypeError('boom')), 500);
    assert.equal(statusOf('a string'), 500);
    assert.equal(statusOf(undefined), 500);
    assert.equal(statusOf(Object.assign(new Error('upstream'), { statusCode: 503 })), 500);
  });

  it("keeps Fastify's own client errors (4xx statusCode)", () => {
    assert.equal(statusOf(Object.assign(new Error('Body is too large'), { statusCode: 413 })), 413);
  });

  it('keeps the cause', () => {
    const cause = new Error('ENOENT');
    assert.equal(new NotFoundError('No such container: x', { cause }).cause, cause);
  });

  it('writes {"message"} and a newline', () => {
    assert.equal(errorBody(new NotFoundError('No such container: x')), '{"message":"No such container: x"}\n');
    assert.equal(errorBody('plain'), '{"message":"plain"}\n');
  });
});
