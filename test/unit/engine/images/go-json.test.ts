import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goCompact, goSortedObject, goString, goTime, rawMembers } from '../../../../src/engine/images/go-json';

test('strings and raw members come out as Go marshals them', () => {
  assert.equal(goString('a <b> & c\u2028'), '"a \\u003cb\\u003e \\u0026 c\\u2028"');
  assert.equal(goString('\b\f\n'), '"\\u0008\\u000c\\n"');
  assert.equal(goCompact('{ "a" : [ 1, 2.50 ],\n "b": "x <y> \\" z" }'), '{"a":[1,2.50],"b":"x \\u003cy\\u003e \\" z"}');
});

test('raw members keep their text; a map is written with sorted keys', () => {
  const m = rawMembers('{"b": {"z": 1, "a": 2}, "a": 1e3, "b2": null, "a": "last"}', 'x');
  assert.deepEqual([...m], [['b', '{"z": 1, "a": 2}'], ['a', '"last"'], ['b2', 'null']]);
  assert.equal(goSortedObject(m), '{"a":"last","b":{"z":1,"a":2},"b2":null}');
  assert.throws(() => rawMembers('[1]', 'what'), /what: not a JSON object/);
});

test('times as Go formats a parsed RFC 3339 time in UTC', () => {
  assert.equal(goTime('2015-11-10T18:30:32.123000000Z', 't'), '2015-11-10T18:30:32.123Z');
  assert.equal(goTime('2015-11-10T18:30:32.000Z', 't'), '2015-11-10T18:30:32Z');
  assert.equal(goTime('2015-11-10T18:30:32+00:00', 't'), '2015-11-10T18:30:32Z');
  assert.equal(goTime('2015-11-10T18:30:32.5-07:00', 't'), '2015-11-10T18:30:32.5-07:00');
  assert.equal(goTime(undefined, 't'), '0001-01-01T00:00:00Z');
  assert.throws(() => goTime('yesterday', 't'), /t: parsing time/);
});
