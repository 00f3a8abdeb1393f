/**
 * `--change` of docker commit and docker import: Dockerfile instructions applied to an image
 * config as dockerd's BuildFromConfig does (`[moby] builder/dockerfile`): parsed and checked by
 * the one Dockerfile parser (../dockerfile), their variables expanded from the config's Env,
 * then applied. Only the instructions that change metadata are allowed. The builder applies its
 * own metadata-only steps (EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK, ONBUILD) with applyInstruction.
 */
import { posix } from 'node:path';
import { InvalidParameterError } from '../../errors';
import { parseChanges, type Instruction } from '../dockerfile/instructions';
import { expandInstructionArgs } from '../dockerfile/shell-lexer';
import { envObject, mergeEnv } from '../env-vars';
import { parseGoDuration } from '../filter-args';
import type { ContainerImageConfig } from './types';

const VALID = new Set(['cmd', 'entrypoint', 'healthcheck', 'env', 'expose', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir']);

const HEALTHCHECK_FLAGS: Record<string, 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval' | 'Retries'> = {
  interval: 'Interval',
  timeout: 'Timeout',
  'start-period': 'StartPeriod',
  'start-interval': 'StartInterval',
  retries: 'Retries',
};

/** Applies `changes` (one instruction each; `\n`-separated ones too) to a copy of `config`. */
export function applyConfigChanges(config: ContainerImageConfig, changes: readonly string[]): ContainerImageConfig {
  const { escapeToken, instructions } = parseChanges(changes.join('\n'), VALID);
  let out: ContainerImageConfig = { ...config };
  // Each instruction sees the Env the ones before it made, as dockerd's dispatch does.
  for (const ins of instructions) out = applyInstruction(out, ins, expandInstructionArgs(ins, envObject(out.Env ?? []), escapeToken));
  return out;
}

/** One checked metadata instruction, its arguments already expanded, applied to a copy of `config`. */
export function applyInstruction(config: ContainerImageConfig, ins: Instruction, args: string[]): ContainerImageConfig {
  const out: ContainerImageConfig = { ...config };
  switch (ins.cmd) {
    case 'cmd':
      out.Cmd = commandForm(ins, args, out.Shell);
      break;
    case 'entrypoint':
      out.Entrypoint = ins.json || args.length ? commandForm(ins, args, out.Shell) : null;
      break;
    case 'env':
      out.Env = mergeEnv(out.Env ?? [], pairs(args).map(([k, v]) => `${k}=${v}`));
      break;
    case 'label':
      out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(pairs(args)) };
      break;
    case 'expose': {
      const exposed = { ...(out.ExposedPorts ?? {}) };
      for (const p of args) {
        if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw new InvalidParameterError(`invalid containerPort: ${p.split('/')[0]}`);
        exposed[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
      }
      out.ExposedPorts = exposed;
      break;
    }
    case 'volume':
      out.Volumes = { ...(out.Volumes ?? {}), ...Object.fromEntries(args.map((v) => [v, {}])) };
      break;
    case 'user':
      out.User = args[0];
      break;
    case 'stopsignal':
      out.StopSignal = args[0];
      break;
    case 'workdir':
      out.WorkingDir = posix.resolve(out.WorkingDir || '/', args[0]);
      break;
    case 'onbuild':
      out.OnBuild = [...(out.OnBuild ?? []), args[0].trim()];
      break;
    case 'healthcheck':
      out.Healthcheck = healthcheck(ins, args);
      break;
    default:
      throw new InvalidParameterError(`${ins.cmd} is not a valid change command`);
  }
  return out;
}

/** The exec form as given, or the shell form run by the image's shell. */
function commandForm(ins: Instruction, args: string[], shell: string[] | undefined): string[] {
  if (ins.json) return args;
  return [...(shell?.length ? shell : ['/bin/sh', '-c']), args[0] ?? ''];
}

/** ENV and LABEL arguments come as name, value, name, value, ... */
function pairs(args: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < args.length; i += 2) out.push([args[i], args[i + 1]]);
  return out;
}

/** `NONE`, or `CMD …` with the flags (already checked by the parser) as durations and a count. */
function healthcheck(ins: Instruction, args: string[]): Record<string, unknown> {
  if (args[0] === 'NONE') return { Test: ['NONE'] };
  const hc: Record<string, unknown> = {};
  for (const [flag, value] of Object.entries(ins.flags)) {
    const key = HEALTHCHECK_FLAGS[flag];
    // An empty value leaves the default, as dockerd's parseOptInterval does.
    if (!key || value === '') continue;
    if (key === 'Retries') hc.Retries = Number.parseInt(value, 10);
    else {
      const ms = parseGoDuration(value);
      if (ms === undefined) throw new InvalidParameterError(`time: invalid duration "${value}"`);
      hc[key] = Math.round(ms * 1e6);
    }
  }
  hc.Test = ins.json ? ['CMD', ...args.slice(1)] : ['CMD-SHELL', args[1]];
  return hc;
}
