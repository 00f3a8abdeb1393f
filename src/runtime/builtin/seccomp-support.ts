/**
 * The plan compiler's seccomp compiler: seccomp-bpf.ts, its refusals turned into the compiler's
 * own error so they read like every other reason a spec is refused.
 */
import type { SeccompCompiler } from './plan-compiler';
import { PlanError } from './plan-error';
import { compileSeccomp, SeccompCompileError } from './seccomp-bpf';

export const planSeccompCompiler: SeccompCompiler = (profile) => {
  try {
    return compileSeccomp(profile);
  } catch (err) {
    if (err instanceof SeccompCompileError) throw new PlanError(`seccomp: ${err.message}`);
    throw err;
  }
};
