import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BASE_PROFILE_PATH, dockerDefaultProfile, loadDaemonSeccomp, SeccompSetupError } from '../../../../src/engine/containers/seccomp-default';
import { convertProfile, type DockerProfile, type OciSeccomp } from '../../../../src/engine/containers/seccomp';

const DEFAULT_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];

/** A made-up base in the containers-common shape: ENOSYS default, a broad allow-list, its own refusals and capability rules. */
const BASE: DockerProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 38,
  archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
  syscalls: [
    { names: ['kexec_load', 'vmsplice'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
    { names: ['read', 'write', 'keyctl', 'mount', 'unshare', 'clone', 'clone3', 'socket', 'ptrace', 'pivot_root'], action: 'SCMP_ACT_ALLOW' },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }] },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
    { names: ['chroot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_CHROOT'] } },
    { names: ['chroot'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, excludes: { caps: ['CAP_SYS_CHROOT'] } },
    { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [{ index: 0, value: 16, op: 'SCMP_CMP_EQ' }], excludes: { caps: ['CAP_AUDIT_WRITE'] } },
  ],
};

/** What the converted filter does with a call whose arguments no rule inspects: the action of an argument-free rule, else `args` (some arguments allowed), else the default. */
function answer(filter: OciSeccomp, name: string): string {
  const rules = filter.syscalls?.filter((s) => s.names.includes(name)) ?? [];
  const plain = rules.find((r) => !r.args?.length);
  if (plain) return plain.action === 'SCMP_ACT_ERRNO' ? `errno ${plain.errnoRet ?? filter.defaultErrnoRet}` : plain.action;
  if (rules.length) return 'args';
  return `errno ${filter.defaultErrnoRet}`;
}

const convert = (p: DockerProfile, caps: string[]) => convertProfile(p, { capabilities: caps, privileged: false, arch: 'amd64', kernel: '6.1.0' });

describe("dockerd's default seccomp profile from the containers-common base", () => {
  const profile = dockerDefaultProfile(BASE);

  it('refuses with EPERM and keeps the archMap', () => {
    assert.equal(profile.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(profile.defaultErrnoRet, 1);
    assert.deepEqual(convert(profile, DEFAULT_CAPS).architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  });

  it("keeps the base's plain allows, argument and architecture rules; drops its refusals and capability rules", () => {
    const f = convert(profile, DEFAULT_CAPS);
    assert.equal(answer(f, 'read'), 'SCMP_ACT_ALLOW');
    assert.equal(answer(f, 'arch_prctl'), 'SCMP_ACT_ALLOW');
    assert.equal(answer(f, 'personality'), 'args');
    assert.equal(answer(f, 'kexec_load'), 'errno 1');
    assert.ok(!f.syscalls?.some((s) => s.action === 'SCMP_ACT_ERRNO' && s.names.includes('socket')));
  });

  it('refuses what dockerd refuses even when the base allows it', () => {
    const f = convert(profile, [...DEFAULT_CAPS, 'CAP_SYS_ADMIN']);
    assert.equal(answer(f, 'keyctl'), 'errno 1');
    assert.equal(answer(f, 'pivot_root'), 'errno 1');
    assert.equal(answer(f, 'vmsplice'), 'SCMP_ACT_ALLOW');
  });

  it("applies dockerd's capability rules: namespaces and mounts need CAP_SYS_ADMIN, clone3 is ENOSYS without it", () => {
    const plain = convert(profile, DEFAULT_CAPS);
    assert.equal(answer(plain, 'mount'), 'errno 1');
    assert.equal(answer(plain, 'unshare'), 'errno 1');
    assert.equal(answer(plain, 'clone'), 'args');
    assert.equal(answer(plain, 'clone3'), 'errno 38');
    assert.equal(answer(plain, 'chroot'), 'SCMP_ACT_ALLOW');
    assert.equal(answer(plain, 'ptrace'), 'SCMP_ACT_ALLOW');
    assert.equal(answer(plain, 'socket'), 'args');
    const admin = convert(profile, [...DEFAULT_CAPS, 'CAP_SYS_ADMIN']);
    for (const n of ['mount', 'unshare', 'clone', 'clone3']) assert.equal(answer(admin, n), 'SCMP_ACT_ALLOW', n);
    assert.equal(answer(convert(profile, []), 'chroot'), 'errno 1');
    assert.equal(answer(convert(profile, ['CAP_SYS_PTRACE']), 'ptrace'), 'SCMP_ACT_ALLOW');
    assert.equal(answer(convertProfile(profile, { capabilities: [], privileged: false, arch: 'amd64', kernel: '4.4.0' }), 'ptrace'), 'errno 1');
  });
});

describe('the daemon seccomp setting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-seccomp-unit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const base = join(dir, 'base.json');
  writeFileSync(base, JSON.stringify(BASE));
  const missing = join(dir, 'missing.json');

  it('builtin (or nothing): every container gets the default profile', () => {
    for (const setting of [undefined, '', 'builtin']) {
      const s = loadDaemonSeccomp(setting, base);
      assert.equal(s.profile, 'builtin');
      assert.equal(s.containerDefault, s.builtin);
      assert.equal(s.builtin?.defaultErrnoRet, 1);
    }
  });

  it('without the base file, builtin stops the start and says what to install', () => {
    assert.throws(() => loadDaemonSeccomp('builtin', missing), (e: Error) => e instanceof SeccompSetupError && /apt-get install golang-github-containers-common/.test(e.message) && /--seccomp-profile unconfined/.test(e.message));
    const s = loadDaemonSeccomp('unconfined', missing);
    assert.equal(s.profile, 'unconfined');
    assert.equal(s.containerDefault, undefined);
    assert.match(s.builtinMissing ?? '', /golang-github-containers-common/);
  });

  it('a profile file becomes the containers default; a missing or malformed one stops the start', () => {
    const own = join(dir, 'own.json');
    writeFileSync(own, JSON.stringify({ defaultAction: 'SCMP_ACT_LOG' }));
    const s = loadDaemonSeccomp(own, base);
    assert.equal(s.profile, own);
    assert.equal(s.containerDefault?.defaultAction, 'SCMP_ACT_LOG');
    assert.throws(() => loadDaemonSeccomp(missing, base), /^Error: opening seccomp profile \(.*missing\.json\) failed/);
    writeFileSync(own, '{"defaultAction":');
    assert.throws(() => loadDaemonSeccomp(own, base), /Decoding seccomp profile failed/);
  });

  it(`builds from the installed ${BASE_PROFILE_PATH} when present`, { skip: !existsSync(BASE_PROFILE_PATH) }, () => {
    const f = convert(loadDaemonSeccomp('builtin').builtin!, DEFAULT_CAPS);
    assert.equal(answer(f, 'read'), 'SCMP_ACT_ALLOW');
    assert.equal(answer(f, 'keyctl'), 'errno 1');
    assert.equal(answer(f, 'add_key'), 'errno 1');
    assert.equal(answer(f, 'mount'), 'errno 1');
    assert.equal(answer(f, 'clone3'), 'errno 38');
    assert.equal(answer(f, 'io_uring_setup'), 'errno 1');
  });
});
