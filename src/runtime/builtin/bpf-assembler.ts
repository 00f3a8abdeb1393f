/**
 * A classic-BPF assembler for seccomp filters: instructions with symbolic jump targets (labels),
 * resolved into `struct sock_filter` records (8 bytes: u16 code, u8 jt, u8 jf, u32 k, host byte
 * order). Conditional jumps reach at most 255 instructions ahead; `ja` reaches any distance.
 * Used by seccomp-bpf.ts, which decides the layout.
 */
import { endianness } from 'node:os';

// Classic BPF opcodes (linux/filter.h): the few a seccomp filter needs.
export const LD_W_ABS = 0x20;
export const ALU_AND_K = 0x54;
export const JA = 0x05;
export const JEQ_K = 0x15;
export const JGT_K = 0x25;
export const JGE_K = 0x35;
export const RET_K = 0x06;

/** A jump target: an instruction index, known once the label is placed. */
export type Label = { at?: number };
/** A label, the next instruction, or a number of instructions to skip. */
export type Target = Label | 'next' | number;

interface Insn {
  code: number;
  k: number;
  jt?: Target;
  jf?: Target;
  /** JA's target (its offset is k). */
  to?: Label;
}

/** A conditional jump farther than its 8-bit offset reaches: the layout must use `ja` instead. */
export class JumpTooFarError extends RangeError {}

/** Collects instructions with symbolic targets and resolves them, refusing any conditional jump beyond 255. */
export class Assembler {
  readonly insns: Insn[] = [];
  label(): Label {
    return {};
  }
  place(l: Label): void {
    l.at = this.insns.length;
  }
  emit(code: number, k: number, jt?: Target, jf?: Target): void {
    this.insns.push({ code, k: k >>> 0, jt, jf });
  }
  ja(to: Label): void {
    this.insns.push({ code: JA, k: 0, to });
  }
  ret(value: number): void {
    this.emit(RET_K, value);
  }
  assemble(): Buffer {
    const le = endianness() === 'LE';
    const out = Buffer.alloc(this.insns.length * 8);
    this.insns.forEach((insn, i) => {
      const offset = (t: Target | undefined): number => {
        if (t === undefined || t === 'next') return 0;
        if (typeof t === 'number') return t;
        if (t.at === undefined || t.at <= i) throw new Error('bpf-assembler: a jump to an unplaced or earlier label');
        return t.at - i - 1;
      };
      let k = insn.k;
      if (insn.to) k = offset(insn.to);
      const jt = offset(insn.jt);
      const jf = offset(insn.jf);
      if (jt > 255 || jf > 255) throw new JumpTooFarError(`instruction ${i} jumps ${Math.max(jt, jf)} instructions ahead`);
      const at = i * 8;
      if (le) {
        out.writeUInt16LE(insn.code, at);
        out.writeUInt32LE(k, at + 4);
      } else {
        out.writeUInt16BE(insn.code, at);
        out.writeUInt32BE(k, at + 4);
      }
      out[at + 2] = jt;
      out[at + 3] = jf;
    });
    return out;
  }
}

