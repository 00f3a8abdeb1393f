/**
 * The OCI spec's `linux.seccomp` profile compiled into the classic BPF program seccomp(2) takes
 * (an array of `struct sock_filter`, 8 bytes each, host byte order), deciding as runc does with
 * libseccomp: the rules of a syscall are tried in order and the first whose argument conditions
 * all hold gives its action; a syscall no rule names, or whose rules all fail, gets the default
 * action; a rule whose action is the default is dropped (runc skips it); a syscall name this
 * architecture does not have is skipped.
 *
 * Layout, so that no conditional jump needs more than the 8 bits BPF gives it:
 *   1. the architecture check (below: what a foreign architecture gets), then runc's ENOSYS
 *      for syscalls newer than the profile (see enosysAbove);
 *   2. a binary search over the numbers of the syscalls that have rules, each branch a `jge`
 *      that skips or takes one `ja` (32-bit offset) to the upper half; a leaf compares a few
 *      numbers, each followed by the syscall's verdict (`ret`) or a `ja` to its rule block;
 *   3. one rule block per syscall with argument conditions: each rule's checks jump at most past
 *      that rule (a few instructions per condition), the block ends with the default verdict.
 * The syscall numbers come from syscalls.json, generated at build time from the C headers
 * (scripts/build-syscall-table.js).
 */
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { ALU_AND_K, Assembler, JEQ_K, JGE_K, JGT_K, JumpTooFarError, LD_W_ABS, type Label } from './bpf-assembler';

export interface LinuxSeccompArg {
  index: number;
  /** uint64; a bigint keeps values above 2^53 exact. */
  value: number | bigint;
  valueTwo?: number | bigint;
  op: string;
}

export interface LinuxSeccompSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: LinuxSeccompArg[];
}

/** The OCI spec's `linux.seccomp`. */
export interface LinuxSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  syscalls?: LinuxSeccompSyscall[];
}

export interface CompiledSeccomp {
  /** `struct sock_filter[]`, host byte order. */
  program: Buffer;
  /** SECCOMP_FILTER_FLAG_* for seccomp(SECCOMP_SET_MODE_FILTER, flags, ...). */
  flags: number;
}

/** A profile the runtime cannot honour; the message says why. */
export class SeccompCompileError extends Error {}

interface SyscallTable {
  machine: string;
  cpu: string;
  auditArch: number;
  scmpArch: string;
  syscalls: Record<string, number>;
}

/** Node's architecture names → the build's (gcc's) CPU name. */
const NODE_CPU: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };

let table: SyscallTable | undefined;
function syscallTable(): SyscallTable {
  if (!table) {
    const path = join(__dirname, 'syscalls.json');
    const loaded = JSON.parse(readFileSync(path, 'utf8')) as SyscallTable;
    if (loaded.cpu !== NODE_CPU[process.arch]) {
      throw new SeccompCompileError(`${path} lists the system calls of ${loaded.cpu}, not of this machine (${process.arch}); rebuild Berth here`);
    }
    table = loaded;
  }
  return table;
}

/** The build architecture's audit arch (AUDIT_ARCH_*) and its syscall numbers by name. */
export function nativeSyscalls(): { auditArch: number; cpu: string; numbers: Readonly<Record<string, number>> } {
  const t = syscallTable();
  return { auditArch: t.auditArch, cpu: t.cpu, numbers: t.syscalls };
}

// seccomp return values (linux/seccomp.h).
const RET_KILL_PROCESS = 0x80000000;
const RET_KILL_THREAD = 0x00000000;
const RET_TRAP = 0x00030000;
const RET_ERRNO = 0x00050000;
const RET_TRACE = 0x7ff00000;
const RET_LOG = 0x7ffc0000;
const RET_ALLOW = 0x7fff0000;
const EPERM = 1;
const ENOSYS = 38;

const FILTER_FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};

/** libseccomp's architecture names a profile may list (validated, see the architecture check). */
const SCMP_ARCHES = new Set([
  'SCMP_ARCH_NATIVE', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
]);

/** The `ret` value of an action; errnoRet is the errno (ERRNO) or the tracer's data (TRACE), EPERM when absent as in runc. */
function actionValue(action: string, errnoRet: number | undefined): number {
  const data = (): number => {
    const v = errnoRet ?? EPERM;
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new SeccompCompileError(`seccomp errnoRet ${v} is not a number from 0 to 65535`);
    return v;
  };
  switch (action) {
    case 'SCMP_ACT_ALLOW': return RET_ALLOW;
    case 'SCMP_ACT_ERRNO': return (RET_ERRNO | data()) >>> 0;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return RET_KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS': return RET_KILL_PROCESS;
    case 'SCMP_ACT_TRAP': return RET_TRAP;
    case 'SCMP_ACT_TRACE': return (RET_TRACE | data()) >>> 0;
    case 'SCMP_ACT_LOG': return RET_LOG;
    case 'SCMP_ACT_NOTIFY':
      throw new SeccompCompileError('seccomp action SCMP_ACT_NOTIFY is not supported by the berth runtime (it has no seccomp notification listener); use runc or crun for this profile');
    default:
      throw new SeccompCompileError(`unknown seccomp action ${JSON.stringify(action)}`);
  }
}

// struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_ARGS = 16;
/** x32 system calls run with the x86_64 audit arch and this bit set in nr. */
const X32_SYSCALL_BIT = 0x40000000;

/** A rule after validation: its verdict and its conditions with 64-bit operands. */
interface Rule {
  ret: number;
  conds: Array<{ index: number; op: string; value: bigint; valueTwo: bigint }>;
}

function uint64(v: number | bigint | undefined, what: string): bigint {
  if (v === undefined) return 0n;
  if (typeof v !== 'number' && typeof v !== 'bigint') throw new SeccompCompileError(`seccomp ${what} ${JSON.stringify(v)} is not a number`);
  if (typeof v === 'number' && !Number.isInteger(v)) throw new SeccompCompileError(`seccomp ${what} ${v} is not an integer`);
  const b = BigInt(v);
  if (b < 0n || b > 0xffffffffffffffffn) throw new SeccompCompileError(`seccomp ${what} ${v} is not an unsigned 64-bit number`);
  return b;
}

const OPS = new Set(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']);

/** Emits the checks of one condition on a 64-bit argument: falls through when it holds, jumps to `fail` when not. */
function emitCondition(asm: Assembler, cond: Rule['conds'][number], fail: Label): void {
  const le = endianness() === 'LE';
  const lowAt = OFF_ARGS + 8 * cond.index + (le ? 0 : 4);
  const highAt = OFF_ARGS + 8 * cond.index + (le ? 4 : 0);
  const hi = (v: bigint) => Number(v >> 32n);
  const lo = (v: bigint) => Number(v & 0xffffffffn);
  const pass = asm.label();
  const v = cond.value;
  asm.emit(LD_W_ABS, highAt);
  switch (cond.op) {
    case 'SCMP_CMP_EQ':
      asm.emit(JEQ_K, hi(v), 'next', fail);
      asm.emit(LD_W_ABS, lowAt);
      asm.emit(JEQ_K, lo(v), 'next', fail);
      break;
    case 'SCMP_CMP_NE':
      asm.emit(JEQ_K, hi(v), 'next', pass);
      asm.emit(LD_W_ABS, lowAt);
      asm.emit(JEQ_K, lo(v), fail, 'next');
      break;
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
      asm.emit(JGT_K, hi(v), pass, 'next');
      asm.emit(JEQ_K, hi(v), 'next', fail);
      asm.emit(LD_W_ABS, lowAt);
      asm.emit(cond.op === 'SCMP_CMP_GT' ? JGT_K : JGE_K, lo(v), 'next', fail);
      break;
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE':
      asm.emit(JGT_K, hi(v), fail, 'next');
      asm.emit(JEQ_K, hi(v), 'next', pass);
      asm.emit(LD_W_ABS, lowAt);
      // a < v ⇔ !(a >= v); a <= v ⇔ !(a > v).
      asm.emit(cond.op === 'SCMP_CMP_LT' ? JGE_K : JGT_K, lo(v), fail, 'next');
      break;
    case 'SCMP_CMP_MASKED_EQ': {
      // value is the mask, valueTwo the datum (the OCI spec's and runc's reading).
      const datum = cond.valueTwo;
      asm.emit(ALU_AND_K, hi(v));
      asm.emit(JEQ_K, hi(datum), 'next', fail);
      asm.emit(LD_W_ABS, lowAt);
      asm.emit(ALU_AND_K, lo(v));
      asm.emit(JEQ_K, lo(datum), 'next', fail);
      break;
    }
  }
  asm.place(pass);
}

/** The rules of each syscall number of this architecture, in profile order, without rules that give the default verdict. */
function collectRules(profile: LinuxSeccomp, defaultRet: number): Map<number, Rule[]> {
  const numbers = syscallTable().syscalls;
  const bySyscall = new Map<number, Rule[]>();
  for (const s of profile.syscalls ?? []) {
    if (!s || !Array.isArray(s.names)) throw new SeccompCompileError('seccomp syscall rule without names');
    const ret = actionValue(s.action, s.errnoRet);
    const conds = (s.args ?? []).map((a) => {
      if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw new SeccompCompileError(`seccomp argument index ${a.index} is not 0 to 5`);
      if (!OPS.has(a.op)) throw new SeccompCompileError(`unknown seccomp comparison operator ${JSON.stringify(a.op)}`);
      return { index: a.index, op: a.op, value: uint64(a.value, 'value'), valueTwo: uint64(a.valueTwo, 'valueTwo') };
    });
    // runc drops these: the default already gives that verdict.
    if (ret === defaultRet) continue;
    for (const name of s.names) {
      const nr = Object.hasOwn(numbers, name) ? numbers[name] : undefined;
      if (nr === undefined) continue; // not a syscall of this architecture (runc skips it too)
      const rules = bySyscall.get(nr) ?? [];
      rules.push({ ret, conds });
      bySyscall.set(nr, rules);
    }
  }
  return bySyscall;
}

/**
 * runc's answer for syscalls newer than the profile: under a refusing default, a native syscall
 * numbered above every syscall the profile names gets ENOSYS instead of the default, so a newer
 * libc falls back to the older call it replaces (it would give up on EPERM). runc does this only
 * when the profile lists the native architecture and its default is not ENOSYS already or
 * permissive (ALLOW, LOG, TRACE). Returns that highest named number, or undefined for no stub.
 */
function enosysAbove(profile: LinuxSeccomp, defaultRet: number): number | undefined {
  const tbl = syscallTable();
  if (defaultRet === ((RET_ERRNO | ENOSYS) >>> 0) || ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(profile.defaultAction)) return undefined;
  if (!(profile.architectures ?? []).some((a) => a === tbl.scmpArch || a === 'SCMP_ARCH_NATIVE')) return undefined;
  let highest = 0;
  for (const s of profile.syscalls ?? []) {
    for (const name of s.names) if (Object.hasOwn(tbl.syscalls, name)) highest = Math.max(highest, tbl.syscalls[name]);
  }
  return highest > 0 ? highest : undefined;
}

/** How many numbers a leaf of the search compares one after the other. */
const LEAF_SIZE = 4;

function compile(profile: LinuxSeccomp): CompiledSeccomp {
  if (!profile || typeof profile.defaultAction !== 'string') throw new SeccompCompileError('seccomp profile without defaultAction');
  const tbl = syscallTable();
  const defaultRet = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  let flags = 0;
  for (const name of profile.flags ?? []) {
    const flag = FILTER_FLAGS[name];
    if (flag === undefined) throw new SeccompCompileError(`seccomp flag ${JSON.stringify(name)} is not supported by the berth runtime`);
    flags |= flag;
  }
  for (const arch of profile.architectures ?? []) {
    if (!SCMP_ARCHES.has(arch)) throw new SeccompCompileError(`unknown seccomp architecture ${JSON.stringify(arch)}`);
  }
  const bySyscall = collectRules(profile, defaultRet);
  const asm = new Assembler();

  // 1. Architecture. Only the native ABI is filtered by the table; every other one (x86 and x32
  // on x86_64, arm on aarch64), listed in `architectures` or not, is killed (KILL_PROCESS):
  // its syscall numbers differ, so letting it through would bypass the filter, and giving it the
  // default action would let a deny-list profile (default ALLOW) be bypassed the same way. A
  // clean SIGSYS is also clearer than the odd EPERMs a 32-bit program would meet with the
  // default action. runc filters those ABIs with their own tables; Berth has only the native
  // one (the build's headers), so a 32-bit binary in a container runs with runc, not here.
  asm.emit(LD_W_ABS, OFF_ARCH);
  asm.emit(JEQ_K, tbl.auditArch, 1, 'next');
  asm.ret(RET_KILL_PROCESS);
  asm.emit(LD_W_ABS, OFF_NR);
  const dispatch = asm.label();
  if (tbl.cpu === 'x86_64') {
    // nr -1 is no syscall (a tracer's "skip"): the kernel answers ENOSYS, the default decides.
    const defaultLabel = asm.label();
    asm.emit(JGE_K, X32_SYSCALL_BIT, 'next', dispatch);
    asm.emit(JEQ_K, 0xffffffff, defaultLabel, 'next');
    asm.ret(RET_KILL_PROCESS);
    asm.place(defaultLabel);
    asm.ret(defaultRet);
  }
  asm.place(dispatch);
  const newer = enosysAbove(profile, defaultRet);
  if (newer !== undefined) {
    asm.emit(JGT_K, newer, 'next', 1);
    asm.ret((RET_ERRNO | ENOSYS) >>> 0);
  }

  // 2. Binary search over the syscall numbers with rules.
  const numbers = [...bySyscall.keys()].sort((a, b) => a - b);
  const blocks: Array<{ label: Label; rules: Rule[] }> = [];
  const search = (keys: number[]): void => {
    if (keys.length <= LEAF_SIZE) {
      for (const nr of keys) {
        const rules = bySyscall.get(nr)!;
        asm.emit(JEQ_K, nr, 'next', 1);
        if (rules[0].conds.length === 0) asm.ret(rules[0].ret);
        else {
          const label = asm.label();
          blocks.push({ label, rules });
          asm.ja(label);
        }
      }
      asm.ret(defaultRet);
      return;
    }
    const mid = keys.length >> 1;
    const upper = asm.label();
    asm.emit(JGE_K, keys[mid], 'next', 1);
    asm.ja(upper);
    search(keys.slice(0, mid));
    asm.place(upper);
    search(keys.slice(mid));
  };
  search(numbers);

  // 3. Rule blocks.
  for (const { label, rules } of blocks) {
    asm.place(label);
    for (const rule of rules) {
      const next = asm.label();
      for (const cond of rule.conds) emitCondition(asm, cond, next);
      asm.ret(rule.ret);
      asm.place(next);
      // An unconditional rule ends the block: later rules cannot be reached.
      if (rule.conds.length === 0) break;
    }
    if (rules.every((r) => r.conds.length > 0)) asm.ret(defaultRet);
  }
  let program: Buffer;
  try {
    program = asm.assemble();
  } catch (err) {
    if (err instanceof JumpTooFarError) throw new SeccompCompileError('seccomp profile too complex: a rule has too many argument conditions');
    throw err;
  }
  if (program.length / 8 > 4096) throw new SeccompCompileError(`seccomp profile too large: ${program.length / 8} BPF instructions (the kernel takes at most 4096)`);
  return { program, flags };
}

/** Profiles in use at once are few (the default, a user's file or two); compiled ones are kept by their text. */
const MAX_MEMO = 32;
const memo = new Map<string, CompiledSeccomp>();

/**
 * Compiles `profile` (the OCI spec's `linux.seccomp`) for this machine's architecture. Throws
 * SeccompCompileError for what the runtime cannot honour (SCMP_ACT_NOTIFY, unknown actions,
 * operators, flags or architectures, a program over the kernel's 4096 instructions).
 */
export function compileSeccomp(profile: LinuxSeccomp): CompiledSeccomp {
  const key = JSON.stringify(profile, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  let compiled = memo.get(key);
  if (!compiled) {
    compiled = compile(profile);
    if (memo.size >= MAX_MEMO) memo.delete(memo.keys().next().value as string);
    memo.set(key, compiled);
  }
  // A copy: a caller that writes into its buffer must not change the next caller's program.
  return { program: Buffer.from(compiled.program), flags: compiled.flags };
}
