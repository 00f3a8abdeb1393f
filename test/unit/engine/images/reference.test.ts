import assert from 'node:assert/strict';
import test from 'node:test';
import { InvalidParameterError } from '../../../../src/errors';
import {
  familiarString,
  parseAnyReference,
  parseDigest,
  parseNormalizedNamed,
  referenceString,
  repoTagReference,
  storeKeyOf,
  tagNameOnly,
} from '../../../../src/engine/images/reference';

const HEX = 'a'.repeat(64);

const normalized = (s: string) => referenceString(parseNormalizedNamed(s));

test('familiar names normalize to docker.io/library', () => {
  assert.equal(normalized('busybox'), 'docker.io/library/busybox');
  assert.equal(normalized('busybox:1.36'), 'docker.io/library/busybox:1.36');
  assert.equal(normalized('library/busybox'), 'docker.io/library/busybox');
  assert.equal(normalized('docker.io/busybox'), 'docker.io/library/busybox');
  assert.equal(normalized('index.docker.io/busybox:latest'), 'docker.io/library/busybox:latest');
  assert.equal(normalized('foo/bar:1'), 'docker.io/foo/bar:1');
  assert.equal(normalized('foo/bar/baz'), 'docker.io/foo/bar/baz');
});

test('registries with dots, ports and localhost keep their domain', () => {
  assert.equal(normalized('localhost/x'), 'localhost/x');
  assert.equal(normalized('localhost:5000/x'), 'localhost:5000/x');
  assert.equal(normalized('localhost:5000/x:1'), 'localhost:5000/x:1');
  assert.equal(normalized('example.com/team/app:v2'), 'example.com/team/app:v2');
  assert.equal(normalized('example.com:5000/team/box:v1'), 'example.com:5000/team/box:v1');
  assert.equal(normalized('127.0.0.1:5000/x'), '127.0.0.1:5000/x');
  assert.equal(normalized('[::1]:5000/x'), '[::1]:5000/x');
  // An uppercase first component is taken as a domain (it could not be a repository).
  assert.equal(normalized('Example/x'), 'Example/x');
});

test('digest references', () => {
  const ref = parseNormalizedNamed(`busybox@sha256:${HEX}`);
  assert.equal(ref.digest, `sha256:${HEX}`);
  assert.equal(ref.tag, undefined);
  assert.equal(familiarString(ref), `busybox@sha256:${HEX}`);
  assert.equal(storeKeyOf(ref), `docker.io/library/busybox@sha256:${HEX}`);
  // tag and digest: the digest wins for lookups
  const both = parseNormalizedNamed(`busybox:1@sha256:${HEX}`);
  assert.equal(both.tag, '1');
  assert.equal(storeKeyOf(both), `docker.io/library/busybox@sha256:${HEX}`);
});

test('familiar form drops docker.io and library/ only', () => {
  const f = (s: string) => familiarString(tagNameOnly(parseNormalizedNamed(s)));
  assert.equal(f('busybox'), 'busybox:latest');
  assert.equal(f('docker.io/library/busybox:1'), 'busybox:1');
  assert.equal(f('foo/bar'), 'foo/bar:latest');
  assert.equal(f('docker.io/library/a/b'), 'library/a/b:latest');
  assert.equal(f('localhost:5000/x'), 'localhost:5000/x:latest');
  assert.equal(f('quay.io/org/app:2'), 'quay.io/org/app:2');
});

test('store keys always carry a tag or a digest', () => {
  assert.equal(storeKeyOf(parseNormalizedNamed('busybox')), 'docker.io/library/busybox:latest');
  assert.equal(storeKeyOf(parseNormalizedNamed('foo/bar:1')), 'docker.io/foo/bar:1');
});

function rejects(s: string, message: string | RegExp) {
  assert.throws(
    () => parseNormalizedNamed(s),
    (err: unknown) => {
      assert.ok(err instanceof InvalidParameterError, `${s}: ${String(err)}`);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

test('invalid references use dockerd wording', () => {
  rejects('Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase');
  rejects('foo/Bar', 'invalid reference format: repository name (foo/Bar) must be lowercase');
  rejects('', 'invalid reference format');
  rejects('busybox:', 'invalid reference format');
  rejects('bus box', 'invalid reference format');
  rejects('busybox:bad tag', 'invalid reference format');
  rejects('-busybox', 'invalid reference format');
  rejects('a//b', 'invalid reference format');
  rejects(`busybox:${'x'.repeat(129)}`, 'invalid reference format');
  rejects(HEX, `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings`);
  rejects(`x/${'a'.repeat(260)}`, 'repository name must not be more than 255 characters');
  rejects('busybox@sha256:abc', 'invalid reference format');
  rejects(`busybox@sha256:${'a'.repeat(63)}x`, 'invalid reference format');
  rejects(`busybox@sha512:${HEX}`, 'invalid checksum digest length');
  rejects(`busybox@md5:${HEX}`, 'unsupported digest algorithm');
});

test('parseAnyReference: IDs, digests and names', () => {
  assert.deepEqual(parseAnyReference(HEX), { kind: 'id', id: `sha256:${HEX}` });
  assert.deepEqual(parseAnyReference(`sha256:${HEX}`), { kind: 'id', id: `sha256:${HEX}` });
  const short = parseAnyReference('sha256:abc');
  assert.equal(short.kind, 'named'); // like dockerd: a name "sha256" with tag "abc"
  const named = parseAnyReference('busybox');
  assert.equal(named.kind === 'named' && referenceString(named.ref), 'docker.io/library/busybox');
  assert.throws(() => parseAnyReference('UPPER'), InvalidParameterError);
});

test('parseDigest validates like go-digest', () => {
  assert.equal(parseDigest(`sha256:${HEX}`), `sha256:${HEX}`);
  assert.throws(() => parseDigest('sha256'), /invalid checksum digest format/);
  assert.throws(() => parseDigest(`sha256:${'A'.repeat(64)}`), /invalid checksum digest format/);
  assert.throws(() => parseDigest('sha256:abc'), /invalid checksum digest length/);
  assert.throws(() => parseDigest(`foo:${HEX}`), /unsupported digest algorithm/);
});

test('repoTagReference: defaults to latest, refuses digests and bad tags', () => {
  assert.equal(referenceString(repoTagReference('busybox')), 'docker.io/library/busybox:latest');
  assert.equal(referenceString(repoTagReference('busybox', 'v1')), 'docker.io/library/busybox:v1');
  assert.equal(referenceString(repoTagReference('busybox:old', 'new')), 'docker.io/library/busybox:new');
  assert.equal(referenceString(repoTagReference('busybox:keep')), 'docker.io/library/busybox:keep');
  assert.equal(referenceString(repoTagReference('example.com:5000/team/box', 'v1')), 'example.com:5000/team/box:v1');
  assert.throws(() => repoTagReference('busybox', 'bad tag'), /^InvalidParameterError: invalid tag format$/);
  assert.throws(() => repoTagReference('busybox', '.dot'), /invalid tag format/);
  assert.throws(() => repoTagReference(`busybox@sha256:${HEX}`), /cannot import digest reference/);
  assert.throws(() => repoTagReference('sha256', 'x'), /refusing to create an ambiguous tag using digest algorithm as name/);
  assert.throws(() => repoTagReference('Busy'), /must be lowercase/);
  assert.throws(() => repoTagReference(''), InvalidParameterError);
});
