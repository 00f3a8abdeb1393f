/**
 * Berth's built-in runtime as the registry offers it: where `npm run build` puts the executor
 * (beside this module's compiled copy), and the hooks that write its plans in the daemon's own
 * process when the engine writes a bundle or an exec's process.json.
 */
import { join } from 'node:path';
import type { OciRuntime } from '../types';
import { currentPlanHost, writeBundlePlan, writeProcessPlan } from './plan-files';
import type { PlanHost } from './plan-compiler';
import { planSeccompCompiler } from './seccomp-support';
import type { OciProcessSpec, OciRuntimeSpec } from './spec-types';

export const BERTH_RUNTIME_NAME = 'berth';
export const BERTH_RUNTIME_PATH = join(__dirname, 'berth-runtime');

/** prepareBundle and prepareProcess for the built-in runtime; the host's cgroups are read once. */
export function berthPlanHooks(): Required<Pick<OciRuntime, 'prepareBundle' | 'prepareProcess'>> {
  let host: PlanHost | undefined;
  const planHost = () => (host ??= currentPlanHost(planSeccompCompiler));
  return {
    prepareBundle: (_id, bundle, spec) => writeBundlePlan(bundle, planHost(), spec as OciRuntimeSpec),
    prepareProcess: (_id, processPath, process, rootfs) => writeProcessPlan(processPath, process as OciProcessSpec, rootfs),
  };
}
