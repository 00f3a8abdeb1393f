/**
 * Writing a bundle's plan files (`berth-plan`, `berth-seccomp.bpf`) and an exec's
 * `<process.json>.berth-plan`, atomically (temporary name, then rename), so the executor never
 * reads half a plan. Used by the daemon in-process and by compile-cli.js for bundles it did not
 * prepare.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../host/atomic-file';
import { detectCgroupHost } from './cgroup-host';
import { compileBundlePlan, compileProcessPlan, PLAN_FILE, SECCOMP_FILE, type PlanHost } from './plan-compiler';
import type { OciProcessSpec, OciRuntimeSpec } from './spec-types';

/** This host, as the compiler needs it (cgroups read once per call). */
export function currentPlanHost(compileSeccomp?: PlanHost['compileSeccomp']): PlanHost {
  return { cgroup: detectCgroupHost(), ...(compileSeccomp ? { compileSeccomp } : {}) };
}

/** Compile `spec` (default: `<bundle>/config.json`) into the bundle's plan files. */
export async function writeBundlePlan(bundleDir: string, host: PlanHost, spec?: OciRuntimeSpec): Promise<void> {
  const s = spec ?? (JSON.parse(await readFile(join(bundleDir, 'config.json'), 'utf8')) as OciRuntimeSpec);
  const { plan, seccomp } = compileBundlePlan(s, bundleDir, host);
  // The program first: a plan never names a program that is not there.
  if (seccomp) await writeFileAtomic(join(bundleDir, SECCOMP_FILE), seccomp);
  else await rm(join(bundleDir, SECCOMP_FILE), { force: true });
  await writeFileAtomic(join(bundleDir, PLAN_FILE), plan);
}

/** Compile an exec's process (default: read from `processPath`) into `<processPath>.berth-plan`. */
export async function writeProcessPlan(processPath: string, process?: OciProcessSpec, rootfs?: string): Promise<void> {
  const p = process ?? (JSON.parse(await readFile(processPath, 'utf8')) as OciProcessSpec);
  await writeFileAtomic(`${processPath}.${PLAN_FILE}`, compileProcessPlan(p, rootfs));
}
