/**
 * Where the plan compiler gets its seccomp compiler from. Until seccomp-bpf.ts (profile → BPF)
 * is part of this tree there is none, and the compiler refuses specs with a seccomp profile.
 */
import type { SeccompCompiler } from './plan-compiler';

export function hostSeccompCompiler(): SeccompCompiler | undefined {
  return undefined;
}
