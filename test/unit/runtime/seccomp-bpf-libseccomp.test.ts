/**
 * compileSeccomp against libseccomp, the library runc and crun compile profiles with: a small C
 * program (built here, libseccomp.so.2 opened with dlopen, so no -dev package is needed) adds the
 * same rules as runc does and exports libseccomp's program; both programs then run on the same
 * inputs in the test interpreter and must give the same verdicts. Compared: native syscalls up
 * to the highest one the profile names (above it runc prepends its own ENOSYS stub, and
 * libseccomp may know newer syscalls than this machine's headers).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dockerDefaultProfile } from '../../../src/engine/containers/seccomp-default';
import { convertProfile, parseProfile } from '../../../src/engine/containers/seccomp';
import { compileSeccomp, nativeSyscalls, type LinuxSeccomp } from '../../../src/runtime/builtin/seccomp-bpf';
import { run } from './classic-bpf';

/** Reads rules from stdin (`default <action>`, `rule <action> <name> <argc> (<arg> <op> <a> <b>)*`), writes libseccomp's BPF to stdout. */
const EXPORTER_C = String.raw`
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct cmp { unsigned int arg; int op; uint64_t a, b; };

int main(void) {
  void *lib = dlopen("libseccomp.so.2", RTLD_NOW);
  if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 77; }
  void *(*init)(uint32_t) = (void *(*)(uint32_t))dlsym(lib, "seccomp_init");
  int (*resolve)(const char *) = (int (*)(const char *))dlsym(lib, "seccomp_syscall_resolve_name");
  int (*add)(void *, uint32_t, int, unsigned int, const struct cmp *) =
    (int (*)(void *, uint32_t, int, unsigned int, const struct cmp *))dlsym(lib, "seccomp_rule_add_array");
  int (*export_bpf)(void *, int) = (int (*)(void *, int))dlsym(lib, "seccomp_export_bpf");
  if (!init || !resolve || !add || !export_bpf) { fprintf(stderr, "libseccomp symbols missing\n"); return 77; }
  char word[64], name[128];
  uint32_t action;
  if (scanf("%63s %u", word, &action) != 2 || strcmp(word, "default")) return 2;
  void *ctx = init(action);
  if (!ctx) return 3;
  while (scanf("%63s %u %127s", word, &action, name) == 3) {
    unsigned int argc;
    struct cmp args[16];
    if (scanf("%u", &argc) != 1 || argc > 16) return 2;
    for (unsigned int i = 0; i < argc; i++) {
      unsigned long long a, b;
      if (scanf("%u %d %llu %llu", &args[i].arg, &args[i].op, &a, &b) != 4) return 2;
      args[i].a = a;
      args[i].b = b;
    }
    int nr = resolve(name);
    if (nr == -1) continue; /* __NR_SCMP_ERROR: unknown here, runc skips it */
    int r = add(ctx, action, nr, argc, args);
    if (r != 0) { fprintf(stderr, "rule %s: %d\n", name, r); return 4; }
  }
  fflush(stdout);
  return export_bpf(ctx, 1) == 0 ? 0 : 5;
}
`;

const OPS: Record<string, number> = { SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7 };
const ACTIONS: Record<string, (errnoRet?: number) => number> = {
  SCMP_ACT_ALLOW: () => 0x7fff0000,
  SCMP_ACT_ERRNO: (e = 1) => (0x00050000 | e) >>> 0,
  SCMP_ACT_KILL_PROCESS: () => 0x80000000,
  SCMP_ACT_TRAP: () => 0x00030000,
  SCMP_ACT_LOG: () => 0x7ffc0000,
  SCMP_ACT_TRACE: (e = 1) => (0x7ff00000 | e) >>> 0,
};

/** The profile as runc hands it to libseccomp: rules with the default's action left out. */
function exporterInput(profile: LinuxSeccomp): string {
  const def = ACTIONS[profile.defaultAction](profile.defaultErrnoRet);
  const lines = [`default ${def}`];
  for (const s of profile.syscalls ?? []) {
    const action = ACTIONS[s.action](s.errnoRet);
    if (action === def) continue;
    const args = (s.args ?? []).map((a) => `${a.index} ${OPS[a.op]} ${BigInt(a.value)} ${BigInt(a.valueTwo ?? 0)}`);
    for (const name of s.names) lines.push(`rule ${action} ${name} ${args.length} ${args.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

const BASE_PROFILE = '/usr/share/containers/seccomp.json';
const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

function skipReason(): string | false {
  if (spawnSync('gcc', ['--version']).error) return 'gcc is not installed (apt-get install gcc libc6-dev)';
  if (!['/usr/lib/x86_64-linux-gnu/libseccomp.so.2', '/usr/lib/aarch64-linux-gnu/libseccomp.so.2'].some((p) => existsSync(p))) return 'libseccomp.so.2 is not installed (apt-get install libseccomp2)';
  if (!existsSync(BASE_PROFILE)) return `${BASE_PROFILE} is missing (apt-get install golang-github-containers-common)`;
  return false;
}

/** A fixed pseudo-random sequence (a 32-bit LCG), so a failure can be replayed. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
}

describe('compileSeccomp decides as libseccomp', { skip: skipReason() }, () => {
  const { auditArch, numbers } = nativeSyscalls();
  const edges = [0n, 1n, 2n, 7n, 8n, 38n, 39n, 40n, 41n, 0x20000n, 0x20008n, 0x1200011n, 0x7e020000n, 0x7fffffffn, 0x80000000n,
    0xfffffffen, 0xffffffffn, 0x1_0000_0000n, 0x1_0000_0004n, 0x1_0000_0005n, 0x1_0000_0006n, 0x2_0000_0005n,
    0x1200_0000_0034n, 0x12ff_0000_0034n, 0xffff_ffff_ffff_ffffn];

  const compare = async (t: { after: (fn: () => Promise<void>) => void }, profiles: Record<string, LinuxSeccomp>): Promise<void> => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-libseccomp-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'export.c'), EXPORTER_C);
    const cc = spawnSync('gcc', ['-O0', '-o', join(dir, 'export'), join(dir, 'export.c'), '-ldl'], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    for (const [label, profile] of Object.entries(profiles)) {
      const exported = spawnSync(join(dir, 'export'), { input: exporterInput(profile) });
      assert.equal(exported.status, 0, `${label}: ${exported.stderr}`);
      const theirs = exported.stdout;
      const ours = compileSeccomp(profile).program;
      const highest = Math.max(...(profile.syscalls ?? []).flatMap((s) => s.names.map((n) => numbers[n] ?? 0)));
      const next = lcg(15);
      const value = (): bigint => {
        const r = next() % 4;
        if (r < 2) return edges[next() % edges.length];
        if (r === 2) return BigInt(next());
        return (BigInt(next()) << 32n) | BigInt(next());
      };
      // Many argument sets for the syscalls with argument conditions, a few for the others.
      const conditional = new Set((profile.syscalls ?? []).filter((s) => s.args?.length).flatMap((s) => s.names.map((n) => numbers[n])));
      let checked = 0;
      for (let nr = 0; nr <= highest; nr++) {
        for (let i = 0; i < (conditional.has(nr) ? 5000 : 20); i++) {
          const args = Array.from({ length: 6 }, value);
          const input = { nr, arch: auditArch, args };
          assert.equal(run(ours, input).toString(16), run(theirs, input).toString(16), `${label}: nr ${nr}, args ${args.map((a) => a.toString(16)).join(',')}`);
          checked++;
        }
      }
      assert.ok(checked > 4000 + 5000 * conditional.size, `${label}: ${checked} inputs`);
    }
  };

  it('on dockerd\'s default profile, with and without CAP_SYS_ADMIN', async (t) => {
    const docker = dockerDefaultProfile(parseProfile(readFileSync(BASE_PROFILE, 'utf8')));
    await compare(t, {
      default: convertProfile(docker, { capabilities: DEFAULT_CAPS, privileged: false }),
      sysadmin: convertProfile(docker, { capabilities: [...DEFAULT_CAPS, 'CAP_SYS_ADMIN'], privileged: false }),
    });
  });

  it('on every comparison operator with 64-bit values, several conditions, every action', async (t) => {
    const v = 0x1_0000_0005n;
    const names = ['getuid', 'getgid', 'geteuid', 'getegid', 'getppid', 'getpgrp'];
    const ops = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT'];
    await compare(t, {
      operators: {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [
          ...ops.map((op, i) => ({ names: [names[i]], action: 'SCMP_ACT_ERRNO', errnoRet: 100 + i, args: [{ index: i, value: v, op }] })),
          { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 110, args: [{ index: 0, value: 0xfffffffe, op: 'SCMP_CMP_LE' }, { index: 1, value: 7, op: 'SCMP_CMP_EQ' }] },
          { names: ['gettid'], action: 'SCMP_ACT_ERRNO', errnoRet: 107, args: [{ index: 5, value: 0xff00_0000_00ffn, valueTwo: 0x1200_0000_0034n, op: 'SCMP_CMP_MASKED_EQ' }] },
          { names: ['tkill'], action: 'SCMP_ACT_KILL_PROCESS', args: [{ index: 2, value: 0x80000000, op: 'SCMP_CMP_GE' }] },
          { names: ['tgkill'], action: 'SCMP_ACT_TRAP' },
          { names: ['getsid'], action: 'SCMP_ACT_LOG' },
          { names: ['setsid'], action: 'SCMP_ACT_TRACE', errnoRet: 5 },
        ],
      },
    });
  });
});
