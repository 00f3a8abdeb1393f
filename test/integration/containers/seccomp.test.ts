import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { needsRuntime, startBerth, type Berth } from '../harness';
import { buildSeccompProbe, probeAnswers } from './seccomp-probe';

const BERTHD = join(resolve(__dirname, '..', '..', '..', '..'), 'bin', 'berthd');

/**
 * What a container answers under dockerd's default profile (moby's profiles/seccomp as of
 * v0.2.1). Measured against the dockerd 20.10 on our machines, which answers the same except for
 * the two calls refused since: socket(AF_VSOCK) (dockerd 24) and io_uring_setup (dockerd 25),
 * which 20.10 lets through. ptrace of PID 1 is allowed by the profile (kernel >= 4.8); with
 * no Yama LSM the kernel lets a container's root trace its own processes.
 */
const DEFAULT_ANSWERS = {
  getpid: 'ok',
  uname: 'ok',
  unshare: 'EPERM',
  mount: 'EPERM',
  keyctl: 'EPERM',
  add_key: 'EPERM',
  ptrace: 'ok',
  kexec_load: 'EPERM',
  open_by_handle_at: 'EPERM',
  bpf: 'EPERM',
  clone3: 'ENOSYS',
  clone_newns: 'EPERM',
  personality_query: 'ok',
  personality_odd: 'EPERM',
  syslog: 'EPERM',
  sethostname: 'EPERM',
  socket_vsock: 'EPERM',
  io_uring_setup: 'EPERM',
  userfaultfd: 'EPERM',
};

/** With --cap-add SYS_ADMIN the profile lets the namespace and mount calls through; the kernel then answers (ENOENT: no such mount point, EINVAL: bad arguments). */
const SYS_ADMIN_ANSWERS = {
  ...DEFAULT_ANSWERS,
  unshare: 'ok',
  mount: 'ENOENT',
  bpf: 'EINVAL',
  clone3: 'EINVAL',
  clone_newns: 'ok',
  sethostname: 'EINVAL',
};

/** dockerd's default seccomp profile, `--security-opt seccomp=...`, `--privileged` and the daemon's `--seccomp-profile`. */
describe('containers: seccomp', () => {
  let berth: Berth;
  let probeDir: string;
  let profile: string;
  const extra: Berth[] = [];
  before(async () => {
    berth = await startBerth();
    probeDir = join(berth.dir, 'probe');
    mkdirSync(probeDir);
    buildSeccompProbe(probeDir);
    profile = join(berth.dir, 'no-chmod.json');
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod', 'fchmodat'], action: 'SCMP_ACT_ERRNO' }] }));
  });
  after(async () => {
    for (const b of extra) await b.cleanup();
    await berth?.cleanup();
  });

  const probe = (b: Berth, args: string[]) => probeAnswers(b.ok(['run', '--rm', ...args, '-v', `${probeDir}:/p:ro`, 'busybox', '/p/probe']));
  const seccompField = (b: Berth, args: string[]) => /Seccomp:\s+(\d)/.exec(b.ok(['run', '--rm', ...args, 'busybox', 'grep', 'Seccomp:', '/proc/self/status']))?.[1];

  for (const runtime of ['runc', 'crun']) {
    it(`${runtime}: every container gets dockerd's default profile, with its capability rules`, { skip: needsRuntime(runtime) }, () => {
      assert.equal(seccompField(berth, ['--runtime', runtime]), '2');
      assert.deepEqual(probe(berth, ['--runtime', runtime]), DEFAULT_ANSWERS);
      assert.deepEqual(probe(berth, ['--runtime', runtime, '--cap-add', 'SYS_ADMIN']), SYS_ADMIN_ANSWERS);
      assert.equal(probe(berth, ['--runtime', runtime, '--cap-add', 'DAC_READ_SEARCH']).open_by_handle_at, 'EFAULT');
    });

    it(`${runtime}: seccomp=unconfined and --privileged run without a filter`, { skip: needsRuntime(runtime) }, () => {
      assert.equal(seccompField(berth, ['--runtime', runtime, '--security-opt', 'seccomp=unconfined']), '0');
      assert.equal(seccompField(berth, ['--runtime', runtime, '--privileged']), '0');
      const free = probe(berth, ['--runtime', runtime, '--security-opt', 'seccomp=unconfined']);
      assert.equal(free.keyctl, 'ok');
      assert.equal(free.personality_odd, 'ok');
      assert.equal(free.clone3, 'EINVAL');
    });
  }

  it("execs run under their container's filter", () => {
    berth.ok(['run', '-d', '--name', 'confined', 'busybox', 'sleep', '300']);
    assert.match(berth.ok(['exec', 'confined', 'grep', 'Seccomp:', '/proc/self/status']), /Seccomp:\s+2/);
    const e = berth.docker(['exec', 'confined', 'unshare', '-U', 'true']);
    assert.notEqual(e.code, 0);
    assert.match(e.stderr, /Operation not permitted/);
    berth.ok(['run', '-d', '--name', 'free', '--security-opt', 'seccomp=unconfined', 'busybox', 'sleep', '300']);
    assert.match(berth.ok(['exec', 'free', 'grep', 'Seccomp:', '/proc/self/status']), /Seccomp:\s+0/);
    berth.ok(['exec', 'free', 'unshare', '-U', 'true']);
  });

  it('filters the container and its execs with a profile given with --security-opt; privileged containers ignore it', () => {
    const r = berth.docker(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'sh', '-c', 'grep Seccomp: /proc/self/status; chmod 400 /']);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /Seccomp:\s+2/);
    assert.match(r.stderr, /chmod: \/: Operation not permitted/);
    berth.ok(['run', '-d', '--name', 'filtered', '--security-opt', `seccomp=${profile}`, 'busybox', 'sleep', '300']);
    assert.match(berth.docker(['exec', 'filtered', 'chmod', '400', '/']).stderr, /Operation not permitted/);
    // The custom profile allows what the default refuses.
    assert.equal(berth.ok(['exec', 'filtered', 'sh', '-c', 'unshare -U true && echo ok']).trim(), 'ok');
    assert.equal(berth.ok(['run', '--rm', '--privileged', '--security-opt', `seccomp=${profile}`, 'busybox', 'sh', '-c', 'chmod 755 / && echo ok']).trim(), 'ok');
  });

  it("refuses a malformed profile in dockerd's words", () => {
    const bad = join(berth.dir, 'both.json');
    writeFileSync(bad, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] }));
    const r = berth.docker(['run', '--rm', '--security-opt', `seccomp=${bad}`, 'busybox', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /both 'architectures' and 'archMap' are specified in the seccomp profile/);
  });

  it('docker info names the builtin profile', () => {
    const info = JSON.parse(berth.ok(['info', '--format', '{{json .}}']));
    assert.deepEqual(info.SecurityOptions, ['name=seccomp,profile=builtin']);
    assert.ok(!info.Warnings?.some((w: string) => /seccomp/.test(w)));
  });

  it('--seccomp-profile unconfined: no filter unless a container asks for builtin', async () => {
    const b = await startBerth({ extraArgs: ['--seccomp-profile', 'unconfined'] });
    extra.push(b);
    assert.equal(seccompField(b, []), '0');
    assert.equal(seccompField(b, ['--security-opt', 'seccomp=builtin']), '2');
    const info = JSON.parse(b.ok(['info', '--format', '{{json .}}']));
    assert.deepEqual(info.SecurityOptions, ['name=seccomp,profile=unconfined']);
    assert.ok(info.Warnings.includes('WARNING: daemon is not using the default seccomp profile'));
  });

  it('daemon.json seccomp-profile: a file path becomes every container\'s profile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-seccomp-'));
    try {
      const cfg = join(dir, 'daemon.json');
      writeFileSync(cfg, JSON.stringify({ 'seccomp-profile': profile }));
      const b = await startBerth({ extraArgs: ['--config-file', cfg] });
      extra.push(b);
      assert.match(b.docker(['run', '--rm', 'busybox', 'chmod', '400', '/']).stderr, /Operation not permitted/);
      assert.equal(seccompField(b, ['--security-opt', 'seccomp=unconfined']), '0');
      assert.deepEqual(JSON.parse(b.ok(['info', '--format', '{{json .SecurityOptions}}'])), [`name=seccomp,profile=${profile}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start when the profile file is missing, before creating anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-seccomp-'));
    try {
      const sock = join(dir, 'b.sock');
      const r = spawnSync(BERTHD, ['-H', `unix://${sock}`, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--seccomp-profile', join(dir, 'missing.json')], { timeout: 60_000 });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr.toString(), /opening seccomp profile \(.*missing\.json\) failed/);
      assert.equal(existsSync(sock), false);
      assert.equal(existsSync(join(dir, 'data')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
