import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidParameterError } from '../../../../src/errors';
import { seccompFor, seccompOption, type DaemonSeccomp } from '../../../../src/engine/containers/seccomp';

const ctx = { capabilities: ['CAP_CHOWN', 'CAP_SYS_ADMIN'], privileged: false, arch: 'amd64', kernel: '6.1.0-13-amd64' };
const builtin = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
const unconfinedDaemon: DaemonSeccomp = { profile: 'unconfined', builtin };
const builtinDaemon: DaemonSeccomp = { profile: 'builtin', containerDefault: builtin, builtin };

describe('seccomp profiles from SecurityOpt', () => {
  it('reads seccomp=… and the old seccomp:… form', () => {
    assert.equal(seccompOption(['no-new-privileges', 'seccomp=unconfined']), 'unconfined');
    assert.equal(seccompOption(['seccomp:{"a":1}']), '{"a":1}');
    assert.equal(seccompOption(['apparmor=x']), undefined);
    assert.equal(seccompOption(undefined), undefined);
  });

  it('no filter when unconfined, privileged (even with a profile named), or the daemon is unconfined', () => {
    assert.equal(seccompFor(['seccomp=unconfined'], ctx, builtinDaemon), undefined);
    assert.equal(seccompFor([], ctx, unconfinedDaemon), undefined);
    assert.equal(seccompFor([], { ...ctx, privileged: true }, builtinDaemon), undefined);
    assert.equal(seccompFor(['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'], { ...ctx, privileged: true }, builtinDaemon), undefined);
  });

  it("the daemon's profile by default; builtin or a named profile win over it", () => {
    assert.deepEqual(seccompFor([], ctx, builtinDaemon)?.syscalls, [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }]);
    assert.equal(seccompFor(['seccomp=builtin'], ctx, unconfinedDaemon)?.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(seccompFor(['seccomp={"defaultAction":"SCMP_ACT_LOG"}'], ctx, builtinDaemon)?.defaultAction, 'SCMP_ACT_LOG');
    assert.throws(() => seccompFor(['seccomp=builtin'], ctx, { profile: 'unconfined', builtinMissing: 'install it' }), (e: Error) => e instanceof InvalidParameterError && e.message === 'install it');
  });

  it('converts a profile: native arch map, includes/excludes, single names', () => {
    const profile = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 1,
      archMap: [
        { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
        { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
      ],
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        { name: 'sethostname', action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['bpf'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_BPF'] } },
        { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
        { names: ['modify_ldt'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['amd64'] } },
        { names: ['old_thing'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '5.0' } },
        { names: ['sync_file_range2'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['SCMP_ARCH_PPC64LE'] } },
        { names: ['chown'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_CHOWN'] } },
        { names: ['new_thing'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '6.5' } },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }] },
        { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
      ],
    };
    const out = seccompFor([`seccomp=${JSON.stringify(profile)}`], ctx, unconfinedDaemon)!;
    assert.equal(out.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(out.defaultErrnoRet, 1);
    assert.deepEqual(out.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.deepEqual(out.syscalls, [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['sethostname'], action: 'SCMP_ACT_ALLOW' },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW' },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ]);
  });

  it("refuses a profile that is not JSON in dockerd's words", () => {
    assert.throws(() => seccompFor(['seccomp={bad'], ctx, builtinDaemon), (e: Error) => e instanceof InvalidParameterError && /^Decoding seccomp profile failed: /.test(e.message));
    const both = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] };
    assert.throws(() => seccompFor([`seccomp=${JSON.stringify(both)}`], ctx, builtinDaemon), /both 'architectures' and 'archMap'/);
  });
});
