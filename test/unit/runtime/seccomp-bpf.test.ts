import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dockerDefaultProfile } from '../../../src/engine/containers/seccomp-default';
import { convertProfile, parseProfile } from '../../../src/engine/containers/seccomp';
import { compileSeccomp, nativeSyscalls, SeccompCompileError, type LinuxSeccomp } from '../../../src/runtime/builtin/seccomp-bpf';
import { longestJumps, run, validate, type SeccompData } from './classic-bpf';

const RET_KILL_PROCESS = 0x80000000;
const RET_KILL_THREAD = 0;
const RET_TRAP = 0x00030000;
const RET_TRACE = 0x7ff00000;
const RET_LOG = 0x7ffc0000;
const RET_ALLOW = 0x7fff0000;
const errno = (e: number) => (0x00050000 | e) >>> 0;
const EPERM = 1;
const ENOSYS = 38;

const { auditArch, cpu, numbers } = nativeSyscalls();
const nr = (name: string): number => {
  const n = numbers[name];
  assert.ok(n !== undefined, `${name} is in the syscall table`);
  return n;
};
const call = (name: string, ...args: Array<bigint | number>): SeccompData => ({ nr: nr(name), arch: auditArch, args });

/** Docker's default capabilities (dockerd's default set). */
const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
const BASE_PROFILE = '/usr/share/containers/seccomp.json';
const baseMissing = existsSync(BASE_PROFILE) ? false : `${BASE_PROFILE} is missing (apt-get install golang-github-containers-common)`;

/** The spec's `linux.seccomp` Berth writes for a container with `caps` under dockerd's default profile. */
function dockerDefault(caps: string[] = DEFAULT_CAPS): LinuxSeccomp {
  const profile = dockerDefaultProfile(parseProfile(readFileSync(BASE_PROFILE, 'utf8')));
  return convertProfile(profile, { capabilities: caps, privileged: false });
}

describe('compileSeccomp', () => {
  it('the table comes from this machine\'s headers', () => {
    assert.equal(cpu, ({ x64: 'x86_64', arm64: 'aarch64' } as Record<string, string>)[process.arch]);
    if (cpu === 'x86_64') {
      assert.equal(auditArch, 0xc000003e);
      assert.deepEqual([numbers.read, numbers.write, numbers.clone, numbers.unshare], [0, 1, 56, 272]);
    }
    assert.ok(Object.keys(numbers).length > 300);
  });

  it('decides as dockerd\'s default profile does', { skip: baseMissing }, () => {
    const profile = dockerDefault();
    const started = process.hrtime.bigint();
    const { program, flags } = compileSeccomp(profile);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    validate(program);
    assert.equal(flags, 0);
    assert.ok(ms < 1000, `compiled in ${ms} ms`);
    const verdict = (d: SeccompData) => run(program, d);

    for (const name of ['read', 'write', 'openat', 'execve', 'exit_group', 'getpid', 'futex', 'chroot', 'mknodat']) {
      assert.equal(verdict(call(name)), RET_ALLOW, name);
    }
    // clone: allowed without namespace flags (glibc's fork: CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD).
    assert.equal(verdict(call('clone', 0x01200011)), RET_ALLOW);
    assert.equal(verdict(call('clone', 0x003d0f00)), RET_ALLOW, 'pthread_create\'s flags');
    assert.equal(verdict(call('clone', 0x01200011n | (0xffffn << 32n))), RET_ALLOW, 'the mask covers the low half only');
    for (const flag of [0x00020000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x02000000]) {
      assert.equal(verdict(call('clone', 0x01200011 | flag)), errno(EPERM), `clone with 0x${flag.toString(16)}`);
    }
    assert.equal(verdict(call('clone3')), errno(ENOSYS), 'clone3 falls back to clone');
    for (const name of ['unshare', 'mount', 'umount2', 'keyctl', 'add_key', 'setns', 'pivot_root', 'reboot', 'bpf']) {
      if (numbers[name] === undefined) continue;
      assert.equal(verdict(call(name)), errno(EPERM), name);
    }
    // personality: the query and the few personas the profile names.
    for (const p of [0, 8, 0x20000, 0x20008, 0xffffffff]) assert.equal(verdict(call('personality', p)), RET_ALLOW, `personality(0x${p.toString(16)})`);
    for (const p of [1, 0x0400000, 0x1_0000_0000n, 0xffff_ffff_ffff_ffffn]) assert.equal(verdict(call('personality', p)), errno(EPERM), `personality(0x${p.toString(16)})`);
    // socket: every family but AF_ALG (38) and AF_VSOCK (40).
    for (const family of [1, 2, 10, 16, 17, 37, 39, 41, 44]) assert.equal(verdict(call('socket', family, 1, 0)), RET_ALLOW, `socket(${family})`);
    for (const family of [38, 40]) assert.equal(verdict(call('socket', family, 1, 0)), errno(EPERM), `socket(${family})`);
    // A syscall the profile does not name, a number no syscall has, nr -1.
    assert.equal(verdict(call('kexec_load')), errno(EPERM));
    // Above every syscall the profile names: ENOSYS, so a newer libc falls back (runc's stub).
    const highest = Math.max(...profile.syscalls!.flatMap((s) => s.names.map((n) => numbers[n] ?? 0)));
    assert.equal(verdict({ nr: highest, arch: auditArch }), RET_ALLOW);
    assert.equal(verdict({ nr: highest + 1, arch: auditArch }), errno(ENOSYS));
    assert.equal(verdict({ nr: 4000, arch: auditArch }), errno(ENOSYS));
    if (cpu === 'x86_64') {
      assert.equal(verdict({ nr: 0xffffffff, arch: auditArch }), errno(EPERM), 'nr -1 gets the default');
      // x32 and i386 are listed by the profile, but only the native ABI is filtered: they are killed.
      assert.equal(verdict({ nr: 0x40000000 | 39, arch: auditArch }), RET_KILL_PROCESS, 'x32 getpid');
      assert.equal(verdict({ nr: 20, arch: 0x40000003 }), RET_KILL_PROCESS, 'i386 getpid');
    }
    assert.equal(verdict({ nr: nr('read'), arch: 0x40000028 }), RET_KILL_PROCESS, 'arm (AUDIT_ARCH_ARM)');

    // With CAP_SYS_ADMIN, the namespace calls are allowed.
    const admin = compileSeccomp(dockerDefault([...DEFAULT_CAPS, 'CAP_SYS_ADMIN'])).program;
    assert.equal(run(admin, call('unshare', 0x20000)), RET_ALLOW);
    assert.equal(run(admin, call('clone', 0x01200011 | 0x20000)), RET_ALLOW);
    assert.equal(run(admin, call('mount')), RET_ALLOW);
    assert.equal(run(admin, call('keyctl')), errno(EPERM));
  });

  it('compares 64-bit arguments with every operator, high halves included', () => {
    const v = 0x1_0000_0005n;
    const ops: Array<[string, (a: bigint) => boolean]> = [
      ['SCMP_CMP_NE', (a) => a !== v],
      ['SCMP_CMP_LT', (a) => a < v],
      ['SCMP_CMP_LE', (a) => a <= v],
      ['SCMP_CMP_EQ', (a) => a === v],
      ['SCMP_CMP_GE', (a) => a >= v],
      ['SCMP_CMP_GT', (a) => a > v],
    ];
    const mask = 0xff00_0000_00ffn;
    const datum = 0x1200_0000_0034n;
    const syscalls = ['getpid', 'getppid', 'getuid', 'getgid', 'geteuid', 'getegid', 'gettid'];
    const profile: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        ...ops.map(([op], i) => ({ names: [syscalls[i]], action: 'SCMP_ACT_ERRNO', errnoRet: 100 + i, args: [{ index: 3, value: v, op }] })),
        { names: ['gettid'], action: 'SCMP_ACT_ERRNO', errnoRet: 107, args: [{ index: 5, value: mask, valueTwo: datum, op: 'SCMP_CMP_MASKED_EQ' }] },
      ],
    };
    const { program } = compileSeccomp(profile);
    const values = [0n, 5n, 6n, 4n, v - 1n, v, v + 1n, 0xffff_ffffn, 0x1_0000_0000n, 0x1_ffff_ffffn, 0x2_0000_0005n, 0x2_0000_0000n, 0xffff_ffff_ffff_ffffn];
    for (const a of values) {
      ops.forEach(([op, holds], i) => {
        const args = [0, 0, 0, a, 0, 0];
        assert.equal(run(program, call(syscalls[i], ...args)), holds(a) ? errno(100 + i) : RET_ALLOW, `${op}: 0x${a.toString(16)} vs 0x${v.toString(16)}`);
      });
    }
    const masked = [datum, datum | 0x00ff_ffff_ff00n, datum ^ 0x0100_0000_0000n, datum ^ 1n, 0n, 0xffff_ffff_ffff_ffffn, 0x0034n, 0x1200_0000_0000n];
    for (const a of masked) {
      assert.equal(run(program, call('gettid', 0, 0, 0, 0, 0, a)), (a & mask) === datum ? errno(107) : RET_ALLOW, `MASKED_EQ 0x${a.toString(16)}`);
    }
  });

  it('ANDs the conditions of a rule and tries the rules of a syscall in order', () => {
    const { program } = compileSeccomp({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 11, args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
        { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 12, args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
        { names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 100, op: 'SCMP_CMP_GT' }] },
        // Gives the default verdict: dropped as runc drops it, so the rule after it decides.
        { names: ['getpid'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
        { names: ['getpid', 'no_such_syscall'], action: 'SCMP_ACT_ALLOW' },
      ],
    });
    assert.equal(run(program, call('kill', 1, 9)), errno(11));
    assert.equal(run(program, call('kill', 2, 9)), errno(12));
    assert.equal(run(program, call('kill', 1, 15)), errno(EPERM), 'no rule holds: the default');
    assert.equal(run(program, call('kill', 200, 9)), errno(12), 'the earlier rule wins');
    assert.equal(run(program, call('kill', 200, 15)), RET_ALLOW);
    assert.equal(run(program, call('getpid', 1)), RET_ALLOW);
    assert.equal(run(program, call('getppid')), errno(EPERM));
  });

  it('answers ENOSYS above the profile\'s syscalls only as runc does', () => {
    const getpid = nr('getpid');
    const profile = (over: Partial<LinuxSeccomp>): Buffer => compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_NATIVE'], syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }], ...over }).program;
    assert.equal(run(profile({}), { nr: getpid + 1, arch: auditArch }), errno(ENOSYS));
    assert.equal(run(profile({}), { nr: getpid - 1, arch: auditArch }), errno(EPERM));
    assert.equal(run(profile({ architectures: [] }), { nr: getpid + 1, arch: auditArch }), errno(EPERM), 'native architecture not listed');
    assert.equal(run(profile({ defaultAction: 'SCMP_ACT_KILL_PROCESS' }), { nr: getpid + 1, arch: auditArch }), errno(ENOSYS));
    for (const defaultAction of ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE']) {
      const { program } = compileSeccomp({ defaultAction, architectures: ['SCMP_ARCH_NATIVE'], syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO' }] });
      assert.notEqual(run(program, { nr: getpid + 1, arch: auditArch }), errno(ENOSYS), defaultAction);
    }
  });

  it('maps every action and its errnoRet', () => {
    const actions: Array<[{ action: string; errnoRet?: number }, number]> = [
      [{ action: 'SCMP_ACT_ALLOW' }, RET_ALLOW],
      [{ action: 'SCMP_ACT_ERRNO' }, errno(EPERM)],
      [{ action: 'SCMP_ACT_ERRNO', errnoRet: 13 }, errno(13)],
      [{ action: 'SCMP_ACT_KILL' }, RET_KILL_THREAD],
      [{ action: 'SCMP_ACT_KILL_THREAD' }, RET_KILL_THREAD],
      [{ action: 'SCMP_ACT_KILL_PROCESS' }, RET_KILL_PROCESS],
      [{ action: 'SCMP_ACT_TRAP' }, RET_TRAP],
      [{ action: 'SCMP_ACT_TRACE' }, (RET_TRACE | EPERM) >>> 0],
      [{ action: 'SCMP_ACT_TRACE', errnoRet: 4242 }, (RET_TRACE | 4242) >>> 0],
      [{ action: 'SCMP_ACT_LOG' }, RET_LOG],
    ];
    for (const [rule, ret] of actions) {
      const { program } = compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 99, syscalls: [{ names: ['getpid'], ...rule }] });
      assert.equal(run(program, call('getpid')), ret, JSON.stringify(rule));
      assert.equal(run(program, call('getppid')), errno(99), 'defaultErrnoRet');
      const asDefault = compileSeccomp({ defaultAction: rule.action, defaultErrnoRet: rule.errnoRet }).program;
      assert.equal(run(asDefault, call('getppid')), ret, `default ${JSON.stringify(rule)}`);
    }
    assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_NOTIFY' }] }),
      (err: Error) => err instanceof SeccompCompileError && /SCMP_ACT_NOTIFY is not supported by the berth runtime/.test(err.message));
    assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_SOMETIMES' }), /unknown seccomp action "SCMP_ACT_SOMETIMES"/);
    assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: -1 }), /errnoRet -1/);
    assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] }), /argument index 6/);
    assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0, op: 'SCMP_CMP_ABOUT' }] }] }), /comparison operator "SCMP_CMP_ABOUT"/);
    assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_VAX'] }), /architecture "SCMP_ARCH_VAX"/);
  });

  it('turns the spec\'s flags into SECCOMP_FILTER_FLAG_* bits', () => {
    assert.equal(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC'] }).flags, 1);
    assert.equal(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] }).flags, 6);
    assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] }), /SECCOMP_FILTER_FLAG_NEW_LISTENER/);
  });

  it('lays out a long program with long jumps only where BPF allows them', () => {
    // Every syscall of the table with a conditional rule: over 2000 instructions.
    const names = Object.keys(numbers);
    const profile: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: names.map((name) => ({ names: [name], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x1_0000_0000n + BigInt(numbers[name]), op: 'SCMP_CMP_EQ' }] })),
    };
    const { program } = compileSeccomp(profile);
    validate(program);
    const jumps = longestJumps(program);
    assert.ok(program.length / 8 > 2000, `${program.length / 8} instructions`);
    assert.ok(jumps.ja > 255, `the longest JA jumps ${jumps.ja}`);
    assert.ok(jumps.conditional <= 255);
    for (const name of names) {
      const n = numbers[name];
      assert.equal(run(program, call(name, 0x1_0000_0000n + BigInt(n))), RET_ALLOW, name);
      assert.equal(run(program, call(name, n)), errno(EPERM), name);
      assert.equal(run(program, call(name, 0x1_0000_0000n + BigInt(n) + 1n)), errno(EPERM), name);
    }
    // Beyond what the kernel loads: refused with the reason.
    const tooBig: LinuxSeccomp = { ...profile, syscalls: [...profile.syscalls!, ...profile.syscalls!.map((s) => ({ ...s, action: 'SCMP_ACT_LOG' }))] };
    assert.throws(() => compileSeccomp(tooBig), /too large: \d+ BPF instructions/);
    // One rule whose conditions span more than a conditional jump reaches.
    const longRule = Array.from({ length: 70 }, (_, i) => ({ index: i % 6, value: i, op: 'SCMP_CMP_EQ' }));
    assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: longRule }] }),
      (err: Error) => err instanceof SeccompCompileError && /too many argument conditions/.test(err.message));
  });

  it('memoizes by the profile\'s text, handing out copies', () => {
    const profile: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
    const first = compileSeccomp(profile);
    first.program.fill(0);
    const second = compileSeccomp(JSON.parse(JSON.stringify(profile)) as LinuxSeccomp);
    assert.equal(run(second.program, call('read')), RET_ALLOW);
  });
});

/** Loads a program with seccomp(2) after PR_SET_NO_NEW_PRIVS, then makes the calls named on its command line and prints each result. */
const LOADER_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  static unsigned char buf[65536];
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror("open"); return 2; }
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  struct sock_fprog prog = { .len = (unsigned short)(n / 8), .filter = (struct sock_filter *)buf };
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("prctl"); return 2; }
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)atoi(argv[2]), &prog) != 0) { printf("load %d\n", errno); return 3; }
  for (int i = 3; i < argc; i++) {
    const char *op = argv[i];
    long r = -1;
    errno = 0;
    if (!strcmp(op, "getpid")) r = syscall(SYS_getpid);
    else if (!strcmp(op, "getppid")) r = syscall(SYS_getppid);
    else if (!strcmp(op, "unshare-uts")) r = syscall(SYS_unshare, CLONE_NEWUTS);
    else if (!strcmp(op, "socket-inet")) r = syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
    else if (!strcmp(op, "socket-vsock")) r = syscall(SYS_socket, 40, SOCK_STREAM, 0);
    else if (!strcmp(op, "personality-query")) r = syscall(SYS_personality, 0xffffffffUL);
    else if (!strcmp(op, "personality-high")) r = syscall(SYS_personality, 0x100000000UL);
    else if (!strcmp(op, "fork")) { pid_t p = fork(); if (p == 0) _exit(0); r = p > 0 ? 0 : -1; }
#ifdef __x86_64__
    else if (!strcmp(op, "x32-getpid")) r = syscall(0x40000000 | 39);
#endif
    else { printf("%s unknown\n", op); continue; }
    printf("%s %s %d\n", op, r < 0 ? "fail" : "ok", r < 0 ? errno : 0);
    fflush(stdout);
  }
  return 0;
}
`;

const gccMissing = spawnSync('gcc', ['--version']).error ? 'gcc is not installed (apt-get install gcc libc6-dev)' : false;

describe('compileSeccomp, loaded by the kernel', { skip: gccMissing }, () => {
  const withLoader = async (t: { after: (fn: () => Promise<void>) => void }): Promise<(program: Buffer, flags: number, ops: string[]) => ReturnType<typeof spawnSync> & { results: Record<string, string> }> => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-seccomp-bpf-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'loader.c'), LOADER_C);
    const cc = spawnSync('gcc', ['-O0', '-o', join(dir, 'loader'), join(dir, 'loader.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    let count = 0;
    return (program, flags, ops) => {
      const file = join(dir, `p${count++}.bpf`);
      writeFileSync(file, program);
      const r = spawnSync(join(dir, 'loader'), [file, String(flags), ...ops], { encoding: 'utf8' });
      const results: Record<string, string> = {};
      for (const line of (r.stdout as string).split('\n').filter(Boolean)) {
        const [op, ...rest] = line.split(' ');
        results[op] = rest.join(' ');
      }
      return Object.assign(r, { results });
    };
  };

  it('refuses what dockerd\'s default profile refuses, with EPERM, and lets the rest run', { skip: baseMissing }, async (t) => {
    const load = await withLoader(t);
    const { program, flags } = compileSeccomp({ ...dockerDefault(), flags: ['SECCOMP_FILTER_FLAG_TSYNC'] });
    const ops = ['getpid', 'fork', 'socket-inet', 'personality-query', 'unshare-uts', 'socket-vsock', 'personality-high'];
    const r = load(program, flags, ops);
    assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
    assert.deepEqual(r.results, {
      getpid: 'ok 0', fork: 'ok 0', 'socket-inet': 'ok 0', 'personality-query': 'ok 0',
      'unshare-uts': 'fail 1', 'socket-vsock': 'fail 1', 'personality-high': 'fail 1',
    });
    // Without the filter, the same process (root here) may unshare: the EPERM above was the filter's.
    if (process.getuid?.() === 0) {
      const open = load(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }).program, 0, ['unshare-uts']);
      assert.equal(open.results['unshare-uts'], 'ok 0');
    }
    if (cpu === 'x86_64') {
      const x32 = load(program, flags, ['getpid', 'x32-getpid', 'getppid']);
      assert.equal(x32.signal, 'SIGSYS', 'an x32 syscall kills the process');
      assert.deepEqual(x32.results, { getpid: 'ok 0' });
    }
  });

  it('loads a program that needs long jumps', async (t) => {
    const load = await withLoader(t);
    const profile: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        ...Object.entries(numbers).map(([name, n]) => ({ names: [name], action: 'SCMP_ACT_ERRNO', errnoRet: 7, args: [{ index: 0, value: 0x1_0000_0000n + BigInt(n), op: 'SCMP_CMP_EQ' }] })),
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 8, args: [{ index: 0, value: 0x1_0000_0000, op: 'SCMP_CMP_EQ' }] },
      ],
    };
    const { program, flags } = compileSeccomp(profile);
    assert.ok(longestJumps(program).ja > 255);
    const r = load(program, flags, ['getpid', 'personality-high']);
    assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
    assert.deepEqual(r.results, { getpid: 'ok 0', 'personality-high': 'fail 8' });
  });

  it('returns a rule\'s errnoRet and the default\'s', async (t) => {
    const load = await withLoader(t);
    const { program, flags } = compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 77 },
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 78, args: [{ index: 0, value: 0x1_0000_0000, op: 'SCMP_CMP_GE' }] },
      ],
    });
    const r = load(program, flags, ['getpid', 'getppid', 'personality-query', 'personality-high']);
    assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
    assert.deepEqual(r.results, { getpid: 'ok 0', getppid: 'fail 77', 'personality-query': 'ok 0', 'personality-high': 'fail 78' });
    const byDefault = load(compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 79, syscalls: [{ names: ['write', 'exit_group', 'getpid', 'fstat', 'newfstatat'], action: 'SCMP_ACT_ALLOW' }] }).program, 0, ['getpid', 'getppid']);
    assert.deepEqual(byDefault.results, { getpid: 'ok 0', getppid: 'fail 79' });
  });
});
