import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidParameterError } from '../../../src/errors';
import { boolValue, filtersValue, goFields, intValue, stringValue, timestampValue, uint32Value } from '../../../src/api/form';

const invalid = (message: RegExp | string) => (err: unknown) =>
  err instanceof InvalidParameterError && (typeof message === 'string' ? err.message === message : message.test(err.message));

describe('boolValue', () => {
  it('is false only for "", "0", "no", "false" and "none"', () => {
    for (const v of ['', '0', 'no', 'false', 'none', 'FALSE', 'No', ' none ']) assert.equal(boolValue({ k: v }, 'k'), false, JSON.stringify(v));
    for (const v of ['1', 'true', 'yes', 'True', 'on', 'anything', '2']) assert.equal(boolValue({ k: v }, 'k'), true, JSON.stringify(v));
  });

  it('uses the default only when the key is absent', () => {
    assert.equal(boolValue({}, 'k'), false);
    assert.equal(boolValue({}, 'k', true), true);
    assert.equal(boolValue({ k: '' }, 'k', true), false);
    assert.equal(boolValue({ k: undefined }, 'k', true), true);
  });

  it('reads the first of repeated keys', () => {
    assert.equal(boolValue({ k: ['1', '0'] }, 'k'), true);
    assert.equal(boolValue({ k: ['0', '1'] }, 'k'), false);
    assert.equal(stringValue({ k: ['a', 'b'] }, 'k'), 'a');
  });
});

describe('filtersValue', () => {
  it('is empty when absent or empty', () => {
    assert.deepEqual(filtersValue({}), {});
    assert.deepEqual(filtersValue({ filters: '' }), {});
  });

  it('reads the Go CLI form {"k":{"v":true}}', () => {
    assert.deepEqual(filtersValue({ filters: '{"label":{"a=b":true,"c":true,"off":false},"status":{"exited":true}}' }), {
      label: ['a=b', 'c'],
      status: ['exited'],
    });
  });

  it('reads the docker-py form {"k":["v"]}', () => {
    assert.deepEqual(filtersValue({ filters: '{"name":["web","db"],"id":[]}' }), { name: ['web', 'db'], id: [] });
  });

  it('rejects malformed JSON', () => {
    assert.throws(() => filtersValue({ filters: '{"name":' }), invalid(/^invalid filter: /));
  });

  it('rejects JSON that is not an object of lists or sets', () => {
    assert.throws(() => filtersValue({ filters: '["name"]' }), invalid('invalid filter: expected a JSON object'));
    assert.throws(() => filtersValue({ filters: 'null' }), invalid('invalid filter: expected a JSON object'));
    assert.throws(() => filtersValue({ filters: '{"name":"web"}' }), invalid("invalid filter: value of 'name' must be a list or a set"));
    // Nothing deeper than Go's map[string][]string, and no stack overflow on deep nesting.
    assert.throws(() => filtersValue({ filters: '{"name":[["web"]]}' }), invalid("invalid filter: value of 'name' must be a list of strings"));
    assert.throws(() => filtersValue({ filters: `{"label":${'['.repeat(5000)}${']'.repeat(5000)}}` }), invalid('invalid filter: exceeded max depth'));
    assert.throws(() => filtersValue({ filters: '{"name":1}' }), invalid(/must be a list or a set/));
  });
});

describe('numbers', () => {
  it('intValue: absent or empty is undefined, malformed is a 400', () => {
    assert.equal(intValue({}, 't'), undefined);
    assert.equal(intValue({ t: '' }, 't'), undefined);
    assert.equal(intValue({ t: '10' }, 't'), 10);
    assert.equal(intValue({ t: '-1' }, 't'), -1);
    assert.throws(() => intValue({ t: 'ten' }, 't', 'timeout'), invalid('invalid value for timeout: ten'));
    assert.throws(() => intValue({ t: '1.5' }, 't'), InvalidParameterError);
  });

  it('uint32Value: digits up to 2^32-1', () => {
    assert.equal(uint32Value({ h: '24' }, 'h', 'resize height'), 24);
    assert.equal(uint32Value({ h: '4294967295' }, 'h', 'resize height'), 4294967295);
    assert.throws(() => uint32Value({ h: '4294967296' }, 'h', 'resize height'), invalid('invalid resize height "4294967296"'));
    assert.throws(() => uint32Value({ h: '-1' }, 'h', 'resize height'), invalid('invalid resize height "-1"'));
    assert.throws(() => uint32Value({}, 'h', 'resize height'), invalid('invalid resize height ""'));
  });

  it('timestampValue: seconds, optionally with a fraction; 0 when absent', () => {
    assert.equal(timestampValue({}, 'since'), 0);
    assert.equal(timestampValue({ since: '' }, 'since'), 0);
    assert.equal(timestampValue({ since: '1700000000' }, 'since'), 1700000000);
    assert.equal(timestampValue({ since: '1700000000.5' }, 'since'), 1700000000.5);
    assert.throws(() => timestampValue({ since: '10m' }, 'since'), invalid('invalid value for since: 10m'));
  });
});

describe('goFields', () => {
  it('matches body keys to fields as Go does: exact, else in any case; unknown keys dropped', () => {
    assert.deepEqual(goFields({ tty: true, detachKeys: 'ctrl-p', CMD: ['sh'], Other: 1 }, ['Tty', 'DetachKeys', 'Cmd']), { Tty: true, DetachKeys: 'ctrl-p', Cmd: ['sh'] });
    assert.deepEqual(goFields({ Tty: false, tty: true }, ['Tty']), { Tty: true }, 'a later key wins');
  });
});
