/**
 * The Config of an image made by docker commit (`[moby] daemon/commit.go` merge): the request's
 * config with the `--change` instructions applied, completed from the container's own Config
 * (environment and labels added by key, ports and volumes added, the rest only when unset).
 */
import { applyConfigChanges } from '../images/config-changes';
import type { ContainerImageConfig } from '../images/types';
import type { ContainerConfig } from './types';
import { envKey } from '../env-vars';

const IMAGE_FIELDS = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'Healthcheck', 'OnBuild', 'Shell'] as const;

const list = (v: string[] | string | null | undefined): string[] | null | undefined => (typeof v === 'string' ? [v] : v);

export function commitImageConfig(container: ContainerConfig, requested: ContainerConfig | undefined, changes: readonly string[]): ContainerImageConfig {
  const base: Record<string, unknown> = {};
  for (const f of IMAGE_FIELDS) {
    if (requested?.[f] !== undefined) base[f] = f === 'Cmd' || f === 'Entrypoint' ? list(requested[f] as string[] | string | null) : requested[f];
  }
  const user = applyConfigChanges(base as ContainerImageConfig, changes);
  const own = container;
  const out: ContainerImageConfig = { ...user };
  if (!out.User) out.User = own.User ?? '';
  if (!out.ExposedPorts || Object.keys(out.ExposedPorts).length === 0) out.ExposedPorts = own.ExposedPorts ?? undefined;
  else out.ExposedPorts = { ...(own.ExposedPorts ?? {}), ...out.ExposedPorts };
  const env = out.Env ?? [];
  out.Env = env.length ? [...env, ...(own.Env ?? []).filter((e) => !env.some((u) => envKey(u) === envKey(e)))] : (own.Env ?? []);
  out.Labels = { ...(own.Labels ?? {}), ...(out.Labels ?? {}) };
  if (!out.Entrypoint?.length) {
    if (!out.Cmd?.length) out.Cmd = list(own.Cmd) ?? null;
    if (out.Entrypoint === undefined) out.Entrypoint = list(own.Entrypoint) ?? null;
  }
  if (own.Healthcheck && out.Healthcheck === undefined) out.Healthcheck = own.Healthcheck;
  if (!out.WorkingDir) out.WorkingDir = own.WorkingDir ?? '';
  if (!out.Volumes || Object.keys(out.Volumes).length === 0) out.Volumes = own.Volumes ?? null;
  else out.Volumes = { ...(own.Volumes ?? {}), ...out.Volumes };
  if (!out.StopSignal && own.StopSignal) out.StopSignal = own.StopSignal;
  if (out.OnBuild === undefined) out.OnBuild = null;
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}
