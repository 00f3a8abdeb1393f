/**
 * What Berth hands a runc-compatible runtime, checked through a recording runtime
 * (test/fixtures/recording-runtime: records each call and the bundle's config.json, then runs
 * runc). It stands in for runtimes that cannot be installed here (sysbox-runc, kata's OCI
 * runtime): the verbs and their order, who calls them, the runtimeArgs and `--root` on every call,
 * and the spec (namespaces, mounts, masked paths, capabilities, seccomp, rlimits, cgroups).
 * Also the runtime configuration as dockerd has it: daemon.json `runtimes` with `--add-runtime`,
 * `docker info`, `HostConfig.Runtime`, an unknown runtime at create.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { apiJson, installedRuntime, needsRuntime, startBerth, type Berth } from '../harness';
import { waitFor } from '../wait';

const REPO = resolve(__dirname, '..', '..', '..', '..');
const FIXTURE = join(REPO, 'test', 'fixtures', 'recording-runtime');
const runc = installedRuntime('runc');

/** One runtime call: who ran it (conmon or Berth) and its argv. */
interface Call {
  caller: string;
  argv: string[];
}

/** The recorder's `calls` file: fields end in NUL, records in newline (see the fixture). */
function readCalls(dir: string): Call[] {
  const file = join(dir, 'calls');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\0\n')
    .filter(Boolean)
    .map((rec) => {
      const [caller, ...argv] = rec.split('\0');
      return { caller, argv };
    });
}

const VERBS = new Set(['create', 'start', 'state', 'kill', 'delete', 'exec', 'pause', 'resume', 'update']);
const verbOf = (c: Call) => c.argv.find((a) => VERBS.has(a))!;

describe('a recording runtime: what Berth hands any runc-compatible runtime', { skip: needsRuntime('runc') }, () => {
  let berth: Berth;
  let dir: string;
  let recorder: string;
  const recA = () => join(dir, 'rec-a');
  const recB = () => join(dir, 'rec-b');
  const argsA = () => [`--recorder-dir=${recA()}`, '--log-format', 'text'];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-recorder-'));
    recorder = join(dir, 'recorder');
    copyFileSync(FIXTURE, recorder);
    chmodSync(recorder, 0o755);
    const config = join(dir, 'daemon.json');
    writeFileSync(
      config,
      JSON.stringify({
        runtimes: {
          recorder: { path: recorder, runtimeArgs: argsA() },
          // The same binary under a second name: its own state dir and its own recordings.
          'recorder-b': { path: recorder, runtimeArgs: [`--recorder-dir=${recB()}`] },
        },
      }),
    );
    // Flag and file together, as dockerd merges them.
    berth = await startBerth({ extraArgs: ['--config-file', config, '--add-runtime', `Plain=${runc}`, '--add-runtime', 'ghost=/nonexistent/runtime'] });
  });
  after(async () => {
    await berth?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    for (const d of [recA(), recB()]) rmSync(d, { recursive: true, force: true });
  });

  /** The calls for one container (its id is the last argument of create, inside the others). */
  const callsFor = (id: string, rec = recA()) => readCalls(rec).filter((c) => c.argv.includes(id));
  const specOf = (id: string, rec = recA()) => JSON.parse(readFileSync(join(rec, `config-${id}.json`), 'utf8'));
  const runSpec = (args: string[]) => {
    const id = berth.ok(['create', '--runtime', 'recorder', ...args]).trim();
    berth.ok(['start', id]);
    return { id, spec: specOf(id) };
  };

  it('lists configured runtimes in docker info with path and runtimeArgs, as dockerd', () => {
    const info = JSON.parse(berth.ok(['info', '--format', '{{json .}}']));
    assert.deepEqual(info.Runtimes.recorder, { path: recorder, runtimeArgs: argsA() });
    assert.deepEqual(info.Runtimes.plain, { path: runc }, '--add-runtime names are lower-cased, as dockerd');
    assert.ok(info.Runtimes.runc);
    const line = berth.ok(['info']).split('\n').find((l) => l.trim().startsWith('Runtimes:'))!;
    assert.deepEqual(line.trim().split(/\s+/).slice(1).sort(), Object.keys(info.Runtimes).sort());
  });

  it('refuses an unknown runtime at create with dockerd\'s status and words, leaving nothing', async () => {
    const r = berth.docker(['create', '--runtime', 'nope', 'busybox']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), 'Error response from daemon: unknown or invalid runtime name: nope');
    const api = await apiJson(berth.socket, 'POST', '/v1.51/containers/create?name=never', { Image: 'busybox', HostConfig: { Runtime: 'nope' } });
    assert.equal(api.status, 400);
    assert.deepEqual(api.body, { message: 'unknown or invalid runtime name: nope' });
    assert.equal(berth.ok(['ps', '-aq']), '');
  });

  it('a configured runtime whose binary is missing: created, refused at start with the path, removable', () => {
    assert.deepEqual(JSON.parse(berth.ok(['info', '--format', '{{json .Runtimes.ghost}}'])), { path: '/nonexistent/runtime' });
    const r = berth.docker(['run', '--name', 'ghostly', '--runtime', 'ghost', 'busybox', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error response from daemon: unknown or invalid runtime name: ghost \(\/nonexistent\/runtime not found\)/);
    assert.equal(berth.ok(['inspect', '-f', '{{.State.Status}}', 'ghostly']), 'created\n');
    berth.ok(['rm', 'ghostly']);
  });

  it('fills HostConfig.Runtime with the default when the client sets none', () => {
    const id = berth.ok(['create', 'busybox', 'true']).trim();
    const [c] = JSON.parse(berth.ok(['inspect', id]));
    assert.equal(c.HostConfig.Runtime, JSON.parse(berth.ok(['info', '--format', '{{json .DefaultRuntime}}'])));
    const rec = JSON.parse(berth.ok(['inspect', berth.ok(['create', '--runtime', 'recorder', 'busybox', 'true']).trim()]))[0];
    assert.equal(rec.HostConfig.Runtime, 'recorder');
    berth.ok(['rm', id, rec.Id]);
  });

  it('docker run --rm: create by conmon, start and delete by Berth, runtimeArgs and --root on each', async () => {
    assert.equal(berth.ok(['run', '--rm', '--runtime', 'recorder', 'busybox', 'echo', 'hi']), 'hi\n');
    const create = readCalls(recA()).find((c) => verbOf(c) === 'create')!;
    const id = create.argv.at(-1)!;
    const calls = await waitFor(() => (callsFor(id).some((c) => verbOf(c) === 'delete') ? callsFor(id) : undefined), { what: 'the delete call', timeout: 30_000 });
    assert.deepEqual(calls.map(verbOf).filter((v) => v !== 'state'), ['create', 'start', 'delete']);
    const root = join(berth.execRoot, 'runtime-state', 'recorder');
    for (const c of calls) {
      // runtimeArgs first, then Berth's --root, as dockerd's wrapper script orders them.
      assert.deepEqual(c.argv.slice(0, 5), [...argsA(), '--root', root], c.argv.join(' '));
    }
    const bundle = join(berth.dataRoot, 'containers', id, 'bundle');
    assert.deepEqual(create.argv.slice(5), ['create', '--bundle', bundle, '--pid-file', join(bundle, 'pidfile'), id]);
    assert.equal(create.caller, 'conmon');
    for (const c of calls.filter((c) => verbOf(c) !== 'create')) assert.notEqual(c.caller, 'conmon', c.argv.join(' '));
  });

  it('docker run -d, exec, pause, update, restart, stop, rm: the verbs in order; exec runs under conmon', async () => {
    const id = berth.ok(['run', '-d', '--runtime', 'recorder', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']).trim();
    assert.ok(existsSync(join(berth.execRoot, 'runtime-state', 'recorder', id, 'state.json')), 'state under the runtime\'s own --root');
    assert.equal(berth.ok(['exec', id, 'echo', 'in']), 'in\n');
    berth.ok(['pause', id]);
    berth.ok(['unpause', id]);
    berth.ok(['update', '--cpu-shares', '512', id]);
    // After a daemon restart the calls still carry the runtime's arguments (checked below).
    await berth.restart();
    assert.equal(JSON.parse(berth.ok(['inspect', '-f', '{{json .State.Running}}', id])), true);
    berth.ok(['stop', '-t', '30', id]);
    berth.ok(['rm', id]);
    const calls = callsFor(id);
    assert.deepEqual(calls.map(verbOf).filter((v) => v !== 'state'), ['create', 'start', 'exec', 'pause', 'resume', 'update', 'kill', 'delete']);
    const exec = calls.find((c) => verbOf(c) === 'exec')!;
    assert.equal(exec.caller, 'conmon');
    assert.ok(exec.argv.includes('--detach') && exec.argv.includes('--process') && exec.argv.at(-1) === id, exec.argv.join(' '));
    const proc = JSON.parse(readFileSync(join(recA(), 'process-1.json'), 'utf8'));
    assert.deepEqual(proc.args, ['echo', 'in']);
    assert.deepEqual(calls.find((c) => verbOf(c) === 'kill')!.argv.slice(-2), [id, 'SIGTERM']);
    for (const c of calls) assert.deepEqual(c.argv.slice(0, 3), argsA());
  });

  it('two names on one binary keep separate state and separate runtimeArgs', () => {
    const id = berth.ok(['run', '-d', '--runtime', 'recorder-b', 'busybox', 'sleep', '60']).trim();
    assert.ok(existsSync(join(berth.execRoot, 'runtime-state', 'recorder-b', id, 'state.json')));
    assert.ok(!existsSync(join(berth.execRoot, 'runtime-state', 'recorder', id)));
    berth.ok(['rm', '-f', id]);
    const calls = callsFor(id, recB());
    assert.ok(calls.length >= 3);
    for (const c of calls) assert.deepEqual(c.argv.slice(0, 3), [`--recorder-dir=${recB()}`, '--root', join(berth.execRoot, 'runtime-state', 'recorder-b')]);
    assert.deepEqual(callsFor(id, recA()), []);
  });

  it('hands the default spec: namespaces with the bridge netns path, mounts, confinement, no hooks', () => {
    const { id, spec } = runSpec(['busybox', 'sleep', '60']);
    assert.deepEqual(spec.linux.namespaces, [
      { type: 'mount' },
      { type: 'network', path: join(berth.execRoot, 'netns', id) },
      { type: 'uts' },
      { type: 'pid' },
      { type: 'ipc' },
    ]);
    const mounts = Object.fromEntries(spec.mounts.map((m: { destination: string }) => [m.destination, m]));
    const types = Object.fromEntries(Object.entries(mounts).map(([d, m]) => [d, (m as { type: string }).type]));
    assert.deepEqual(types, {
      '/proc': 'proc',
      '/dev': 'tmpfs',
      '/dev/pts': 'devpts',
      '/sys': 'sysfs',
      '/sys/fs/cgroup': 'cgroup',
      '/dev/mqueue': 'mqueue',
      '/dev/shm': 'tmpfs',
      '/etc/resolv.conf': 'bind',
      '/etc/hostname': 'bind',
      '/etc/hosts': 'bind',
    });
    for (const f of ['resolv.conf', 'hostname', 'hosts']) {
      assert.equal(mounts[`/etc/${f}`].source, join(berth.dataRoot, 'containers', id, f));
      assert.deepEqual(mounts[`/etc/${f}`].options, ['rbind', 'rprivate']);
    }
    assert.ok(mounts['/sys'].options.includes('ro'));
    assert.ok(spec.linux.maskedPaths.includes('/proc/kcore') && spec.linux.maskedPaths.includes('/sys/firmware'));
    assert.ok(spec.linux.readonlyPaths.includes('/proc/sys') && spec.linux.readonlyPaths.includes('/proc/sysrq-trigger'));
    // dockerd's default capability set, in the order dockerd writes it.
    const caps = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
    for (const set of ['bounding', 'effective', 'permitted']) assert.deepEqual(spec.process.capabilities[set], caps, set);
    assert.equal(spec.linux.seccomp.defaultAction, 'SCMP_ACT_ERRNO');
    assert.ok(spec.linux.seccomp.syscalls.length > 0);
    assert.equal(spec.process.rlimits, undefined, 'no --ulimit, no daemon default: none, as dockerd');
    assert.match(spec.linux.cgroupsPath, new RegExp(`${id}$`));
    assert.equal(spec.root.readonly, false);
    // dockerd adds a prestart hook (`libnetwork-setkey`) because the runtime creates the network
    // namespace and dockerd must learn it after the fact to move the interfaces in. Berth creates
    // and wires the namespace first (CNI) and hands its path above, so it needs no hook.
    assert.equal(spec.hooks, undefined);
    berth.ok(['rm', '-f', id]);
  });

  it('host and shared namespaces: none for host, a /proc path for container:', () => {
    const host = runSpec(['--network', 'host', '--pid', 'host', '--ipc', 'host', '--uts', 'host', 'busybox', 'sleep', '60']);
    // dockerd lists the host's netns by path; omitting the entry keeps the runtime in the
    // daemon's (the host's) namespace just the same.
    assert.deepEqual(host.spec.linux.namespaces, [{ type: 'mount' }]);
    // --ipc host: the host's /dev/shm, bound in (dockerd's options).
    const shm = host.spec.mounts.find((m: { destination: string }) => m.destination === '/dev/shm');
    assert.deepEqual([shm.type, shm.source, shm.options], ['bind', '/dev/shm', ['rbind', 'rprivate']]);
    const target = berth.ok(['run', '-d', 'busybox', 'sleep', '60']).trim();
    const pid = JSON.parse(berth.ok(['inspect', '-f', '{{json .State.Pid}}', target]));
    const shared = runSpec(['--pid', `container:${target}`, '--network', 'none', 'busybox', 'sleep', '60']);
    const pidNs = shared.spec.linux.namespaces.find((n: { type: string }) => n.type === 'pid');
    assert.deepEqual(pidNs, { type: 'pid', path: `/proc/${pid}/ns/pid` });
    berth.ok(['rm', '-f', host.id, target, shared.id]);
  });

  it('volumes, binds, --read-only and --ulimit reach the spec', () => {
    const src = join(dir, 'bind-src');
    mkdirSync(src, { recursive: true });
    const { id, spec } = runSpec(['--read-only', '-v', `${src}:/b:ro`, '-v', 'recvol:/v', '--ulimit', 'nofile=100:200', 'busybox', 'sleep', '60']);
    assert.equal(spec.root.readonly, true);
    // As dockerd: with a read-only root the files Berth writes for the container are read-only too
    // (dockerd orders the options rbind,ro,rprivate; the order means nothing to a runtime).
    for (const f of ['/etc/resolv.conf', '/etc/hostname', '/etc/hosts']) {
      assert.deepEqual(spec.mounts.find((m: { destination: string }) => m.destination === f).options.sort(), ['rbind', 'ro', 'rprivate'], f);
    }
    const bind = spec.mounts.find((m: { destination: string }) => m.destination === '/b');
    assert.equal(bind.source, src);
    assert.equal(bind.type, 'bind');
    assert.ok(bind.options.includes('rbind') && bind.options.includes('ro'), bind.options.join(','));
    const vol = spec.mounts.find((m: { destination: string }) => m.destination === '/v');
    assert.equal(vol.source, join(berth.dataRoot, 'volumes', 'recvol', '_data'));
    assert.ok(vol.options.includes('rbind') && !vol.options.includes('ro'), vol.options.join(','));
    assert.deepEqual(spec.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 200, soft: 100 }]);
    berth.ok(['rm', '-f', id]);
    berth.ok(['volume', 'rm', 'recvol']);
  });

  it('--privileged: every capability, no masked paths, no seccomp, /sys writable', () => {
    const { id, spec } = runSpec(['--privileged', 'busybox', 'sleep', '60']);
    assert.ok(spec.process.capabilities.bounding.length > 14 && spec.process.capabilities.bounding.includes('CAP_SYS_ADMIN'));
    assert.ok(!spec.linux.maskedPaths?.length && !spec.linux.readonlyPaths?.length);
    assert.equal(spec.linux.seccomp, undefined);
    assert.ok(!spec.mounts.find((m: { destination: string }) => m.destination === '/sys').options.includes('ro'));
    berth.ok(['rm', '-f', id]);
  });

});

describe('runtime configuration dockerd refuses, refused at daemon start', () => {
  /** Starts berthd with `args` on throwaway paths; it must exit by itself. */
  const start = (args: string[]) => {
    const d = mkdtempSync(join(tmpdir(), 'berth-rtcfg-'));
    try {
      const r = spawnSync(process.execPath, [join(REPO, 'bin', 'berthd'), '-H', `unix://${d}/s.sock`, '--data-root', `${d}/data`, '--exec-root', `${d}/exec`, '--pidfile', `${d}/pid`, '--bridge', 'none', ...args], { encoding: 'utf8', timeout: 60_000 });
      return { code: r.status, stderr: r.stderr };
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  };
  const withFile = (content: object) => {
    const d = mkdtempSync(join(tmpdir(), 'berth-rtcfg-file-'));
    const f = join(d, 'daemon.json');
    writeFileSync(f, JSON.stringify(content));
    return { f, done: () => rmSync(d, { recursive: true, force: true }) };
  };

  it('a reserved or repeated --add-runtime name, with dockerd\'s words', () => {
    const r = start(['--add-runtime', 'runc=/usr/sbin/runc']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^berthd: invalid argument "runc=\/usr\/sbin\/runc" for "--add-runtime" flag: runtime name 'runc' is reserved\n/);
    assert.match(start(['--add-runtime', 'x=/a', '--add-runtime', 'x=/b']).stderr, /runtime 'x' was already defined/);
  });

  it('a shim v2 runtimeType Berth cannot run, and a default runtime that does not exist', () => {
    const file = withFile({ runtimes: { kata: { runtimeType: 'io.containerd.kata.v2' } } });
    try {
      const r = start(['--config-file', file.f]);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /runtime kata: runtimeType "io.containerd.kata.v2" is a containerd shim v2 runtime, which Berth cannot run/);
    } finally {
      file.done();
    }
    const r = start(['--default-runtime', 'nope']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /specified default runtime 'nope' does not exist/);
  });
});
