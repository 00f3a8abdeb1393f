import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, test, type TestContext } from 'node:test';
import { ConfigError, parseArgs, type Config } from '../../src/config';

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

  it('reads --userns-remap or daemon.json userns-remap (unset: no remapping; the flag wins)', (t) => {
    const run = (args: string[]) => {
      const r = parseArgs(args);
      return r.kind === 'run' ? r.config.userNsRemap : assert.fail('expected a run config');
    };
    assert.equal(run([]), undefined);
    assert.equal(run(['--userns-remap', 'default']), 'default');
    assert.equal(run(['--userns-remap=alice:staff']), 'alice:staff');
    const file = tempFile(t, 'daemon.json');
    writeFileSync(file, JSON.stringify({ 'userns-remap': '1000:1000' }));
    assert.equal(run(['--config-file', file]), '1000:1000');
    assert.equal(run(['--config-file', file, '--userns-remap', 'default']), 'default');
    writeFileSync(file, JSON.stringify({ 'userns-remap': '' }));
    assert.equal(run(['--config-file', file]), undefined);
    writeFileSync(file, JSON.stringify({ 'userns-remap': 5 }));
    assert.throws(() => parseArgs(['--config-file', file]), ConfigError);
  });

  it('checks --add-runtime and daemon.json runtimes with dockerd\'s rules and words', (t) => {
    const run = (args: string[]) => {
      const r = parseArgs(args);
      return r.kind === 'run' ? r.config : assert.fail('expected a run config');
    };
    const refused = (args: string[], message: string) =>
      assert.throws(() => parseArgs(args), (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.message, message);
        return true;
      });
    refused(['--add-runtime', 'runc=/usr/sbin/runc'], `invalid argument "runc=/usr/sbin/runc" for "--add-runtime" flag: runtime name 'runc' is reserved`);
    refused(['--add-runtime', 'a=/x', '--add-runtime', 'A=/y'], `invalid argument "A=/y" for "--add-runtime" flag: runtime 'a' was already defined`);
    refused(['--add-runtime', 'foo'], `invalid argument "foo" for "--add-runtime" flag: invalid runtime argument: foo`);
    refused(['--add-runtime', 'foo= '], `invalid argument "foo= " for "--add-runtime" flag: invalid runtime argument: foo= `);
    assert.deepEqual(run(['--add-runtime', ' Rec = /bin/rec ']).runtimes, { rec: { path: '/bin/rec' } });

    const file = tempFile(t, 'daemon.json');
    const withFile = (runtimes: unknown, extra: Record<string, unknown> = {}) => {
      writeFileSync(file, JSON.stringify({ runtimes, ...extra }));
      return ['--config-file', file];
    };
    const fileRefused = (runtimes: unknown, message: string) => refused(withFile(runtimes), `unable to configure the daemon with file ${file}: ${message}`);
    // Both sources merge; on a name given in both the file's entry stays, as with dockerd.
    const merged = run([...withFile({ rec: { path: '/usr/sbin/runc', runtimeArgs: ['--debug'] }, X: { path: 'crun' } }), '--add-runtime', 'rec=/other', '--add-runtime', 'b=/b']);
    assert.deepEqual(merged.runtimes, { rec: { path: '/usr/sbin/runc', runtimeArgs: ['--debug'] }, X: { path: 'crun' }, b: { path: '/b' } });
    fileRefused({ runc: { path: '/usr/sbin/runc' } }, `runtime name 'runc' is reserved`);
    fileRefused({ x: { runtimeArgs: ['--debug'] } }, 'runtime x: either a runtimeType or a path must be configured');
    fileRefused({ x: { path: '/r', runtimeType: 'io.containerd.runsc.v1' } }, 'runtime x: cannot configure both path and runtimeType for the same runtime');
    fileRefused({ x: { path: '/r', options: { a: 1 } } }, 'runtime x: options cannot be used with a path runtime');
    fileRefused({ x: { runtimeType: 'io.containerd.runsc.v1', runtimeArgs: ['--debug'] } }, 'runtime x: args cannot be used with a runtimeType runtime');
    assert.throws(() => parseArgs(withFile({ x: { runtimeType: 'io.containerd.kata.v2' } })), /runtime x: runtimeType "io.containerd.kata.v2" is a containerd shim v2 runtime, which Berth cannot run/);
    assert.throws(() => parseArgs(withFile({ x: { path: '/r', runtimeArgs: '--debug' } })), /runtime x: "runtimeArgs" must be a list of strings/);
    assert.throws(() => parseArgs(withFile({ x: '/r' })), /runtime x: expected an object/);

    // default-runtime from one source only, as dockerd.
    assert.equal(run([...withFile({}, { 'default-runtime': 'crun' })]).defaultRuntime, 'crun');
    refused([...withFile({}, { 'default-runtime': 'crun' }), '--default-runtime', 'runc'], `unable to configure the daemon with file ${file}: the following directives are specified both as a flag and in the configuration file: default-runtime: (from flag: runc, from file: crun)`);
  });

  it('rejects unknown flags and bad values', () => {
    assert.throws(() => parseArgs(['--nope']), ConfigError);
    assert.throws(() => parseArgs(['--add-runtime', 'noequals']), ConfigError);
    assert.throws(() => parseArgs(['--log-level', 'loud']), ConfigError);
    assert.throws(() => parseArgs(['-H', 'tcp://0.0.0.0:2375']), ConfigError);
    assert.equal(parseArgs(['--help']).kind, 'help');
  });
});

test('CRI settings: on by default in the exec root, flags and daemon.json, --cri=false turns it off', () => {
  const run = (argv: string[]) => {
    const r = parseArgs(argv);
    assert.equal(r.kind, 'run');
    return (r as { config: Config }).config;
  };
  assert.deepEqual(run(['--exec-root', '/tmp/e']).cri, { socket: '/tmp/e/cri.sock', cniConfDir: '/etc/cni/net.d', cniBinDirs: ['/opt/cni/bin', '/usr/lib/cni'], podInfraImage: undefined, streamingAddress: '127.0.0.1:0' });
  const c = run(['--cri-socket', 'unix:///run/k/cri.sock', '--cni-conf-dir', '/k/net.d', '--cni-bin-dir', '/k/bin', '--pod-infra-image', 'p:1', '--cri-streaming-addr', '127.0.0.1:10010']).cri;
  assert.deepEqual(c, { socket: '/run/k/cri.sock', cniConfDir: '/k/net.d', cniBinDirs: ['/k/bin'], podInfraImage: 'p:1', streamingAddress: '127.0.0.1:10010' });
  assert.equal(run(['--cri=false']).cri, undefined);
  assert.throws(() => parseArgs(['--cri-streaming-addr', 'nowhere']), /invalid cri-streaming-addr/);
});

test('--registry-host-mirror gives mirrors per registry host', () => {
  const r = parseArgs(['--registry-host-mirror', 'gcr.io=http://127.0.0.1:5000', '--registry-host-mirror', 'registry.k8s.io=http://127.0.0.1:5000']);
  assert.deepEqual((r as { config: Config }).config.registryHostMirrors, { 'gcr.io': ['http://127.0.0.1:5000'], 'registry.k8s.io': ['http://127.0.0.1:5000'] });
  assert.throws(() => parseArgs(['--registry-host-mirror', 'gcr.io']), /expected host=URL/);
  assert.throws(() => parseArgs(['--registry-host-mirror', 'gcr.io=ftp://x']), /not a valid URI/);
});
