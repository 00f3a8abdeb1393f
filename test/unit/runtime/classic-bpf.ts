/**
 * A small classic-BPF interpreter for the tests of seccomp-bpf.ts: checks a program as the
 * kernel's loader would (length, known opcodes, jumps inside the program, a `ret` at the end)
 * and runs it on a `struct seccomp_data`. Only the instructions a seccomp filter uses are known.
 */
import { endianness } from 'node:os';

export interface SeccompData {
  nr: number;
  arch: number;
  /** Up to six 64-bit arguments; missing ones are 0. */
  args?: Array<bigint | number>;
  instructionPointer?: bigint;
}

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const LE = endianness() === 'LE';

export function decode(program: Buffer): Insn[] {
  if (program.length % 8 !== 0) throw new Error(`program length ${program.length} is not a multiple of 8`);
  const insns: Insn[] = [];
  for (let at = 0; at < program.length; at += 8) {
    insns.push({
      code: LE ? program.readUInt16LE(at) : program.readUInt16BE(at),
      jt: program[at + 2],
      jf: program[at + 3],
      k: LE ? program.readUInt32LE(at + 4) : program.readUInt32BE(at + 4),
    });
  }
  return insns;
}

const LD_W_ABS = 0x20;
const LDX_IMM = 0x01;
const TAX = 0x07;
const TXA = 0x87;
const ALU_AND_K = 0x54;
const ALU_OR_K = 0x44;
const JA = 0x05;
const JEQ_K = 0x15;
const JGT_K = 0x25;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;

/** Throws what the kernel would refuse to load. */
export function validate(program: Buffer): Insn[] {
  const insns = decode(program);
  if (insns.length === 0 || insns.length > 4096) throw new Error(`program of ${insns.length} instructions`);
  insns.forEach((insn, i) => {
    const land = (off: number) => {
      if (i + 1 + off >= insns.length) throw new Error(`instruction ${i} jumps out of the program`);
    };
    switch (insn.code) {
      case LD_W_ABS:
        if (insn.k % 4 !== 0 || insn.k >= 64) throw new Error(`instruction ${i} loads seccomp_data offset ${insn.k}`);
        break;
      case JA:
        land(insn.k);
        break;
      case JEQ_K: case JGT_K: case JGE_K: case JSET_K:
        land(insn.jt);
        land(insn.jf);
        break;
      case LDX_IMM: case TAX: case TXA: case ALU_AND_K: case ALU_OR_K: case RET_K:
        break;
      default:
        throw new Error(`instruction ${i} has unknown opcode 0x${insn.code.toString(16)}`);
    }
  });
  if (insns[insns.length - 1].code !== RET_K) throw new Error('the program does not end with ret');
  return insns;
}

export function seccompData(data: SeccompData): Buffer {
  const buf = Buffer.alloc(64);
  const u32 = (v: number, at: number) => (LE ? buf.writeUInt32LE(v >>> 0, at) : buf.writeUInt32BE(v >>> 0, at));
  const u64 = (v: bigint, at: number) => (LE ? buf.writeBigUInt64LE(v, at) : buf.writeBigUInt64BE(v, at));
  u32(data.nr, 0);
  u32(data.arch, 4);
  u64(data.instructionPointer ?? 0n, 8);
  (data.args ?? []).forEach((a, i) => u64(BigInt(a), 16 + 8 * i));
  return buf;
}

/** Programs already checked, so a test may run one on thousands of inputs. */
const validated = new WeakMap<Buffer, Insn[]>();

/** Runs the program on `data`; returns the filter's 32-bit verdict (SECCOMP_RET_*). */
export function run(program: Buffer, data: SeccompData): number {
  let insns = validated.get(program);
  if (!insns) validated.set(program, (insns = validate(program)));
  const input = seccompData(data);
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    const { code, jt, jf, k } = insns[pc];
    switch (code) {
      case LD_W_ABS: a = LE ? input.readUInt32LE(k) : input.readUInt32BE(k); break;
      case LDX_IMM: x = k; break;
      case TAX: x = a; break;
      case TXA: a = x; break;
      case ALU_AND_K: a = (a & k) >>> 0; break;
      case ALU_OR_K: a = (a | k) >>> 0; break;
      case JA: pc += k; break;
      case JEQ_K: pc += a === k ? jt : jf; break;
      case JGT_K: pc += a > k ? jt : jf; break;
      case JGE_K: pc += a >= k ? jt : jf; break;
      case JSET_K: pc += (a & k) !== 0 ? jt : jf; break;
      case RET_K: return k;
    }
  }
  throw new Error('fell off the end of the program');
}

/** The longest jump of each kind in the program, to show a layout needed (and made) long jumps. */
export function longestJumps(program: Buffer): { conditional: number; ja: number } {
  let conditional = 0;
  let ja = 0;
  for (const insn of decode(program)) {
    if (insn.code === JA) ja = Math.max(ja, insn.k);
    else if ((insn.code & 0x07) === 0x05) conditional = Math.max(conditional, insn.jt, insn.jf);
  }
  return { conditional, ja };
}
