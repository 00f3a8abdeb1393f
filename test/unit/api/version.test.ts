import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidParameterError } from '../../../src/errors';
import { checkVersion, compareVersions, MAX_API_VERSION, MIN_API_VERSION, splitVersion, versionAtLeast } from '../../../src/api/version';

describe('API versions', () => {
  it('serves 1.24 to 1.51', () => {
    assert.equal(MIN_API_VERSION, '1.24');
    assert.equal(MAX_API_VERSION, '1.51');
  });

  it('compares numerically, part by part', () => {
    assert.ok(compareVersions('1.41', '1.9') > 0);
    assert.ok(compareVersions('1.9', '1.41') < 0);
    assert.ok(compareVersions('2.0', '1.51') > 0);
    assert.equal(compareVersions('1.40', '1.40'), 0);
    assert.equal(compareVersions('1.40', '1.40.0'), 0);
    assert.ok(compareVersions('1.40.1', '1.40') > 0);
    assert.ok(versionAtLeast('1.42', '1.42'));
    assert.ok(versionAtLeast('1.50', '1.42'));
    assert.ok(!versionAtLeast('1.41', '1.42'));
  });

  it('splits the version prefix off the URL', () => {
    assert.deepEqual(splitVersion('/v1.50/containers/json?all=1'), { version: '1.50', url: '/containers/json?all=1' });
    assert.deepEqual(splitVersion('/v1.41/_ping'), { version: '1.41', url: '/_ping' });
    assert.deepEqual(splitVersion('/v1.41'), { version: '1.41', url: '/' });
    assert.deepEqual(splitVersion('/v1/info'), { version: '1', url: '/info' });
  });

  it('leaves bare paths alone, including ones that start with /v', () => {
    assert.deepEqual(splitVersion('/containers/json'), { url: '/containers/json' });
    assert.deepEqual(splitVersion('/version'), { url: '/version' });
    assert.deepEqual(splitVersion('/volumes'), { url: '/volumes' });
    assert.deepEqual(splitVersion('/v1.41x/info'), { url: '/v1.41x/info' });
    assert.deepEqual(splitVersion('/'), { url: '/' });
  });

  it('accepts every version in range', () => {
    for (const v of ['1.24', '1.25', '1.41', '1.50', '1.51']) assert.doesNotThrow(() => checkVersion(v), v);
  });

  it("rejects a version that is too old with dockerd's message", () => {
    assert.throws(
      () => checkVersion('1.23'),
      (err: unknown) =>
        err instanceof InvalidParameterError &&
        err.message === 'client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version',
    );
    assert.throws(() => checkVersion('1.9'), InvalidParameterError);
  });

  it("rejects a version that is too new with dockerd's message", () => {
    assert.throws(
      () => checkVersion('1.52'),
      (err: unknown) => err instanceof InvalidParameterError && err.message === 'client version 1.52 is too new. Maximum supported API version is 1.51',
    );
    assert.throws(() => checkVersion('2.0'), InvalidParameterError);
  });
});
