import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { ConfigError, parseArgs } from '../../src/config';

/** A path in a temporary directory that goes when the test ends. */
function tempFile(t: TestContext, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

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

  it('parses repeatable and = forms, and the config file with flags winning', (t) => {
    const file = tempFile(t, 'daemon.json');
    writeFileSync(file, JSON.stringify({ 'data-root': '/from/file', 'log-level': 'warn', runtimes: { fast: { path: '/usr/bin/crun' } } }));
    const r = parseArgs(['-H', 'unix:///a.sock', '--host=unix:///b.sock', '--config-file', file, '--data-root', '/flag', '--add-runtime', 'x=/bin/x']);
    assert.equal(r.kind, 'run');
    if (r.kind !== 'run') return;
    assert.deepEqual(r.config.hosts, ['unix:///a.sock', 'unix:///b.sock']);
    assert.equal(r.config.dataRoot, '/flag');
    assert.equal(r.config.logLevel, 'warn');
    assert.deepEqual(Object.keys(r.config.runtimes).sort(), ['fast', 'x']);
  });

  it('reads --insecure-registry and --registry-mirror (repeatable) or their daemon.json lists', (t) => {
    const r = parseArgs(['--insecure-registry', 'reg.local:5000', '--insecure-registry=10.0.0.0/8', '--registry-mirror', 'http://127.0.0.1:5000']);
    assert.equal(r.kind, 'run');
    if (r.kind !== 'run') return;
    assert.deepEqual(r.config.insecureRegistries, ['reg.local:5000', '10.0.0.0/8']);
    assert.deepEqual(r.config.registryMirrors, ['http://127.0.0.1:5000']);
    const file = tempFile(t, 'daemon.json');
    writeFileSync(file, JSON.stringify({ 'insecure-registries': ['a:1'], 'registry-mirrors': ['https://m.example'] }));
    const f = parseArgs(['--config-file', file]);
    if (f.kind !== 'run') return assert.fail('expected a run config');
    assert.deepEqual([f.config.insecureRegistries, f.config.registryMirrors], [['a:1'], ['https://m.example']]);
    assert.throws(() => parseArgs(['--registry-mirror', 'not a url']), ConfigError);
    const c = parseArgs(['--registry-certs-dir', '/tmp/certs']);
    if (c.kind !== 'run') return assert.fail('expected a run config');
    assert.equal(c.config.registryCertsDir, '/tmp/certs');
    assert.equal(r.config.registryCertsDir, '/etc/docker/certs.d');
  });

  it('reads --seccomp-profile or daemon.json seccomp-profile (default builtin, the flag wins)', () => {
    const run = (args: string[]) => {
      const r = parseArgs(args);
      return r.kind === 'run' ? r.config.seccompProfile : assert.fail('expected a run config');
    };
    assert.equal(run([]), 'builtin');
    assert.equal(run(['--seccomp-profile', 'unconfined']), 'unconfined');
    assert.equal(run(['--seccomp-profile=/etc/p.json']), '/etc/p.json');
    const dir = mkdtempSync(join(tmpdir(), 'berth-cfg-'));
    try {
      const file = join(dir, 'daemon.json');
      writeFileSync(file, JSON.stringify({ 'seccomp-profile': 'unconfined' }));
      assert.equal(run(['--config-file', file]), 'unconfined');
      assert.equal(run(['--config-file', file, '--seccomp-profile', 'builtin']), 'builtin');
      writeFileSync(file, JSON.stringify({ 'seccomp-profile': 1 }));
      assert.throws(() => parseArgs(['--config-file', file]), ConfigError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects unknown flags and bad values', () => {
    assert.throws(() => parseArgs(['--nope']), ConfigError);
    assert.throws(() => parseArgs(['--add-runtime', 'noequals']), ConfigError);
    assert.throws(() => parseArgs(['--log-level', 'loud']), ConfigError);
    assert.throws(() => parseArgs(['-H', 'tcp://0.0.0.0:2375']), ConfigError);
    assert.equal(parseArgs(['--help']).kind, 'help');
  });
});
