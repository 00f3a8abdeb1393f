import type { ImageRecord } from '../images/types';
import { InvalidParameterError } from '../../errors';
import type { ContainerConfig } from './types';
import { mergeEnv } from '../env-vars';

const toList = (v: string[] | string | null | undefined): string[] | undefined =>
  v === undefined || v === null ? undefined : typeof v === 'string' ? [v] : v;

/**
 * Completes a create request's Config from the image, as dockerd does: a container Entrypoint
 * drops the image's Cmd; unset fields come from the image. Returns the merged Config and the
 * process path/args.
 */
export function mergeImageConfig(config: ContainerConfig, image: ImageRecord): { config: ContainerConfig; path: string; args: string[] } {
  const img = image.config.config ?? {};
  const entrypoint = toList(config.Entrypoint);
  let cmd = toList(config.Cmd);
  const userSetEntrypoint = entrypoint !== undefined;
  const finalEntrypoint = userSetEntrypoint ? entrypoint : toList(img.Entrypoint ?? undefined);
  if (cmd === undefined || (cmd.length === 0 && !userSetEntrypoint)) cmd = userSetEntrypoint ? [] : toList(img.Cmd ?? undefined);
  // An empty entrypoint (`--entrypoint ""`) means "no entrypoint".
  const ep = finalEntrypoint && finalEntrypoint.length === 1 && finalEntrypoint[0] === '' ? [] : finalEntrypoint ?? [];
  const argv = [...ep, ...(cmd ?? [])];
  if (argv.length === 0) throw new InvalidParameterError('no command specified');
  const merged: ContainerConfig = {
    ...config,
    Env: mergeEnv(img.Env ?? [], config.Env ?? []),
    Cmd: cmd ?? null,
    Entrypoint: ep.length ? ep : null,
    WorkingDir: config.WorkingDir || img.WorkingDir || '',
    User: config.User || img.User || '',
    Labels: { ...(img.Labels ?? {}), ...(config.Labels ?? {}) },
    StopSignal: config.StopSignal || img.StopSignal || undefined,
    ExposedPorts: config.ExposedPorts ?? img.ExposedPorts ?? undefined,
    Volumes: config.Volumes ?? img.Volumes ?? null,
    Healthcheck: config.Healthcheck ?? img.Healthcheck ?? undefined,
    OnBuild: config.OnBuild ?? null,
  };
  if (merged.StopSignal === undefined) delete merged.StopSignal;
  if (merged.ExposedPorts === undefined) delete merged.ExposedPorts;
  if (merged.Healthcheck === undefined) delete merged.Healthcheck;
  return { config: merged, path: argv[0], args: argv.slice(1) };
}

/** Checks the types of the fields Berth acts on; dockerd answers 400 for these. */
export function validateConfig(config: unknown): asserts config is ContainerConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new InvalidParameterError('invalid JSON: container config must be an object');
  const c = config as Record<string, unknown>;
  const checkStrings = (key: string, allowString: boolean) => {
    const v = c[key];
    if (v === undefined || v === null) return;
    if (allowString && typeof v === 'string') return;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      throw new InvalidParameterError(`invalid JSON: json: cannot unmarshal ${jsonType(v)} into Go struct field ContainerConfigWrapper.${key} of type []string`);
    }
  };
  checkStrings('Env', false);
  checkStrings('Cmd', true);
  checkStrings('Entrypoint', true);
  for (const key of ['Image', 'User', 'WorkingDir', 'Hostname', 'StopSignal']) {
    if (c[key] !== undefined && c[key] !== null && typeof c[key] !== 'string') {
      throw new InvalidParameterError(`invalid JSON: json: cannot unmarshal ${jsonType(c[key])} into Go struct field ContainerConfigWrapper.${key} of type string`);
    }
  }
  for (const key of ['Tty', 'OpenStdin', 'StdinOnce', 'AttachStdin', 'AttachStdout', 'AttachStderr']) {
    if (c[key] !== undefined && c[key] !== null && typeof c[key] !== 'boolean') {
      throw new InvalidParameterError(`invalid JSON: json: cannot unmarshal ${jsonType(c[key])} into Go struct field ContainerConfigWrapper.${key} of type bool`);
    }
  }
  if (c.Labels !== undefined && c.Labels !== null && (typeof c.Labels !== 'object' || Array.isArray(c.Labels))) {
    throw new InvalidParameterError(`invalid JSON: json: cannot unmarshal ${jsonType(c.Labels)} into Go struct field ContainerConfigWrapper.Labels of type map[string]string`);
  }
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}
