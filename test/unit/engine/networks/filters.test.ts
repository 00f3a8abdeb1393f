import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  filterNetworks,
  parsePruneFilters,
  pruneLabelsMatch,
  validateListFilters,
} from '../../../../src/engine/networks/filters';
import type { NetworkRecord } from '../../../../src/engine/networks/types';
import { labelsMatch, parseGoDuration, parseTimeFilter } from '../../../../src/engine/filter-args';

function rec(name: string, id: string, extra: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    id,
    name,
    driver: name === 'host' ? 'host' : name === 'none' ? 'null' : 'bridge',
    created: '2025-01-01T00:00:00Z',
    internal: false,
    attachable: false,
    ipam: { driver: 'default', options: null, config: null },
    options: {},
    labels: {},
    ...extra,
  };
}

const ALL = [
  rec('bridge', 'aa11'),
  rec('host', 'bb22'),
  rec('none', 'cc33'),
  rec('web_default', 'dd44', { labels: { 'com.docker.compose.project': 'web', tier: 'front' } }),
  rec('db', 'ee55', { labels: { 'com.docker.compose.project': 'web' } }),
];
const used = new Set(['dd44']);
const names = (filters: Record<string, string[]>) => filterNetworks(ALL, filters, (id) => used.has(id)).map((r) => r.name);
const invalid = (message: string) => ({ name: 'InvalidParameterError', message });

describe('network list filters', () => {
  it('reject unknown keys and bad values', () => {
    assert.throws(() => validateListFilters({ status: ['x'] }), invalid("invalid filter 'status'"));
    assert.throws(() => validateListFilters({ type: ['weird'] }), invalid("invalid filter: 'type'='weird'"));
    assert.throws(() => validateListFilters({ dangling: ['maybe'] }), invalid(`invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`));
    assert.throws(() => validateListFilters({ dangling: ['true', 'false'] }), invalid('got more than one value for filter key "dangling"'));
    validateListFilters({ driver: [], id: [], label: [], name: [], scope: [], type: [], dangling: [] });
  });

  it('match names and IDs as exact values or regular expressions', () => {
    assert.deepEqual(names({}), ['bridge', 'host', 'none', 'web_default', 'db']);
    assert.deepEqual(names({ name: ['web'] }), ['web_default']);
    assert.deepEqual(names({ name: ['^b', 'db'] }), ['bridge', 'db']);
    assert.deepEqual(names({ name: ['[invalid'] }), []);
    assert.deepEqual(names({ id: ['dd'] }), ['web_default']);
    assert.deepEqual(names({ id: ['4'] }), ['web_default']);
  });

  it('match drivers and scope exactly, labels all together', () => {
    assert.deepEqual(names({ driver: ['null', 'host'] }), ['host', 'none']);
    assert.deepEqual(names({ scope: ['local'] }).length, 5);
    assert.deepEqual(names({ scope: ['swarm'] }), []);
    assert.deepEqual(names({ label: ['com.docker.compose.project=web'] }), ['web_default', 'db']);
    assert.deepEqual(names({ label: ['com.docker.compose.project=web', 'tier'] }), ['web_default']);
    assert.deepEqual(names({ label: ['com.docker.compose.project=other'] }), []);
  });

  it('select builtin or custom networks, and dangling ones', () => {
    assert.deepEqual(names({ type: ['builtin'] }), ['bridge', 'host', 'none']);
    assert.deepEqual(names({ type: ['custom'] }), ['web_default', 'db']);
    assert.deepEqual(names({ type: ['custom', 'builtin'] }).length, 5);
    assert.deepEqual(names({ dangling: ['true'] }), ['db']);
    assert.deepEqual(names({ dangling: ['0'] }), ['bridge', 'host', 'none', 'web_default']);
    assert.deepEqual(names({ dangling: ['1'], driver: ['bridge'] }), ['db']);
  });

  it('label matching is MatchKVList', () => {
    assert.equal(labelsMatch([], {}), true);
    assert.equal(labelsMatch(['a'], {}), false);
    assert.equal(labelsMatch(['a'], { a: '' }), true);
    assert.equal(labelsMatch(['a='], { a: '' }), true);
    assert.equal(labelsMatch(['a=b=c'], { a: 'b=c' }), true);
    assert.equal(labelsMatch(['a=1'], { a: '2' }), false);
  });
});

describe('prune filters', () => {
  const now = Date.UTC(2025, 5, 1, 12, 0, 0);

  it('accept until, label and label! only', () => {
    assert.throws(() => parsePruneFilters({ dangling: ['true'] }, now), invalid("invalid filter 'dangling'"));
    assert.throws(() => parsePruneFilters({ until: ['1h', '2h'] }, now), invalid('more than one until filter specified'));
    assert.throws(() => parsePruneFilters({ until: ['soon'] }, now), invalid('failed to parse value as time or duration: "soon"'));
    assert.deepEqual(parsePruneFilters({}, now), { until: undefined, labels: [], notLabels: [] });
    assert.deepEqual(parsePruneFilters({ until: ['10m'], label: ['a'], 'label!': ['b=1'] }, now), { until: now - 600_000, labels: ['a'], notLabels: ['b=1'] });
  });

  it('keep networks with all `label`s and not all `label!`s', () => {
    const f = parsePruneFilters({ label: ['app'], 'label!': ['keep', 'really'] }, now);
    assert.equal(pruneLabelsMatch(f, { app: 'x' }), true);
    assert.equal(pruneLabelsMatch(f, { app: 'x', keep: '1' }), true);
    assert.equal(pruneLabelsMatch(f, { app: 'x', keep: '1', really: '' }), false);
    assert.equal(pruneLabelsMatch(f, { other: 'x' }), false);
    assert.equal(pruneLabelsMatch(parsePruneFilters({ 'label!': ['keep'] }, now), {}), true);
  });

  it('read Go durations', () => {
    assert.equal(parseGoDuration('10m'), 600_000);
    assert.equal(parseGoDuration('1h30m'), 5_400_000);
    assert.equal(parseGoDuration('1.5h'), 5_400_000);
    assert.equal(parseGoDuration('300ms'), 300);
    assert.equal(parseGoDuration('-2s'), -2000);
    assert.equal(parseGoDuration('0'), 0);
    for (const bad of ['', '10', 'h', '3d', '1h 2m', '2006-01-02']) assert.equal(parseGoDuration(bad), undefined, bad);
  });

  it('read times as durations before now, Unix timestamps or RFC 3339', () => {
    assert.equal(parseTimeFilter('24h', now), now - 86_400_000);
    assert.equal(parseTimeFilter('0', now), 0);
    assert.equal(parseTimeFilter('1700000000', now), 1_700_000_000_000);
    assert.equal(parseTimeFilter('1700000000.5', now), 1_700_000_000_500);
    assert.equal(parseTimeFilter('2025-01-02T03:04:05Z', now), Date.UTC(2025, 0, 2, 3, 4, 5));
    assert.equal(parseTimeFilter('2025-01-02T03:04:05.25+02:00', now), Date.UTC(2025, 0, 2, 1, 4, 5, 250));
    assert.equal(parseTimeFilter('2025-01-02', now), new Date(2025, 0, 2).getTime());
    assert.throws(() => parseTimeFilter('yesterday', now), invalid('failed to parse value as time or duration: "yesterday"'));
  });
});
