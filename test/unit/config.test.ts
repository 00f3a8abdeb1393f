import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, parseArgs } from '../../src/config';

describe('berthd flags', () => {
  it('has dockerd defaults of its own', () => {
    const r = parseArgs([]);
    assert.equal(r.kind, 'run');
    if (r.kind !== 'run') return;
    assert.deepEqual(r.config.hosts, ['unix:///var/run/berth.sock']);
    assert.equal(r.config.dataRoot, '/var/lib/berth');
    assert.equal(r.config.execRoot, '/run/berth');
    assert.ok(Object.isFrozen(r.config));
  });

  it('parses repeatable and = forms, and the config file with flags winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-cfg-'));
    const file = join(dir, 'daemon.json');
    writeFileSync(file, JSON.stringify({ 'data-root': '/from/file', 'log-level': 'warn', runtimes: { fast: { path: '/usr/bin/crun' } } }));
    const r = parseArgs(['-H', 'unix:///a.sock', '--host=unix:///b.sock', '--config-file', file, '--data-root', '/flag', '--add-runtime', 'x=/bin/x']);
    assert.equal(r.kind, 'run');
    if (r.kind !== 'run') return;
    assert.deepEqual(r.config.hosts, ['unix:///a.sock', 'unix:///b.sock']);
    assert.equal(r.config.dataRoot, '/flag');
    assert.equal(r.config.logLevel, 'warn');
    assert.deepEqual(Object.keys(r.config.runtimes).sort(), ['fast', 'x']);
  });

  it('rejects unknown flags and bad values', () => {
    assert.throws(() => parseArgs(['--nope']), ConfigError);
    assert.throws(() => parseArgs(['--add-runtime', 'noequals']), ConfigError);
    assert.throws(() => parseArgs(['--log-level', 'loud']), ConfigError);
    assert.throws(() => parseArgs(['-H', 'tcp://0.0.0.0:2375']), ConfigError);
    assert.equal(parseArgs(['--help']).kind, 'help');
  });
});
