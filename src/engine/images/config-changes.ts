/**
 * `--change` of docker commit and docker import: Dockerfile instructions applied to an image
 * config (`[moby] builder/dockerfile` BuildFromConfig). Only the instructions that change
 * metadata are allowed, with dockerd's message for the others.
 */
import { posix } from 'node:path';
import { InvalidParameterError } from '../../errors';
import { mergeEnv } from '../env-vars';
import { parseGoDuration } from '../filter-args';
import type { ContainerImageConfig } from './types';

const VALID = new Set(['cmd', 'entrypoint', 'healthcheck', 'env', 'expose', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir']);

/** Applies `changes` (one instruction each; `\n`-separated ones too) to a copy of `config`. */
export function applyConfigChanges(config: ContainerImageConfig, changes: readonly string[]): ContainerImageConfig {
  const out: ContainerImageConfig = { ...config };
  const lines = changes.flatMap((c) => c.split('\n')).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(line)!;
    const name = m[1].toLowerCase();
    const rest = m[2].trim();
    if (!VALID.has(name)) throw new InvalidParameterError(`${name} is not a valid change command`);
    const need = (min: number, got: number) => {
      if (got < min) throw new InvalidParameterError(`${name.toUpperCase()} requires at least ${min === 1 ? 'one argument' : `${min} arguments`}`);
    };
    switch (name) {
      case 'cmd':
        out.Cmd = commandForm(rest, out.Shell);
        break;
      case 'entrypoint':
        out.Entrypoint = commandForm(rest, out.Shell);
        if (!rest) out.Entrypoint = null;
        break;
      case 'env': {
        const pairs = keyValues(rest, 'ENV');
        need(1, pairs.length);
        out.Env = mergeEnv(out.Env ?? [], pairs.map(([k, v]) => `${k}=${v}`));
        break;
      }
      case 'label': {
        const pairs = keyValues(rest, 'LABEL');
        need(1, pairs.length);
        out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(pairs) };
        break;
      }
      case 'expose': {
        const ports = words(rest);
        need(1, ports.length);
        const exposed = { ...(out.ExposedPorts ?? {}) };
        for (const p of ports) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw new InvalidParameterError(`invalid containerPort: ${p.split('/')[0]}`);
          exposed[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        out.ExposedPorts = exposed;
        break;
      }
      case 'volume': {
        const vols = jsonArray(rest) ?? words(rest);
        need(1, vols.length);
        out.Volumes = { ...(out.Volumes ?? {}), ...Object.fromEntries(vols.map((v) => [v, {}])) };
        break;
      }
      case 'user':
      case 'stopsignal':
        need(1, rest ? 1 : 0);
        if (name === 'user') out.User = rest;
        else out.StopSignal = rest;
        break;
      case 'workdir':
        need(1, rest ? 1 : 0);
        out.WorkingDir = posix.resolve(out.WorkingDir || '/', rest);
        break;
      case 'onbuild':
        need(1, rest ? 1 : 0);
        out.OnBuild = [...(out.OnBuild ?? []), rest];
        break;
      case 'healthcheck':
        out.Healthcheck = healthcheck(rest);
        break;
    }
  }
  return out;
}

/** `["a","b"]` (JSON form) or shell form run by the image's shell. */
function commandForm(rest: string, shell: string[] | undefined): string[] {
  const json = jsonArray(rest);
  if (json) return json;
  return [...(shell?.length ? shell : ['/bin/sh', '-c']), rest];
}

function jsonArray(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Words split on unquoted blanks; quotes removed, backslash escapes honoured. */
function words(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length && quote !== "'") {
      cur += text[++i];
      inWord = true;
    } else if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new InvalidParameterError(`unexpected end of statement while looking for matching ${quote}`);
  if (inWord) out.push(cur);
  return out;
}

/** `k=v k2="v 2"`, or the legacy `k some value` form. */
function keyValues(rest: string, instr: string): Array<[string, string]> {
  const first = words(rest)[0] ?? '';
  if (!first.includes('=')) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(rest);
    if (!m) throw new InvalidParameterError(`${instr} must have two arguments`);
    return [[m[1], words(m[2]).join(' ')]];
  }
  return words(rest).map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new InvalidParameterError(`${instr} names can not be blank`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** `NONE`, or `[--interval=… --timeout=… --start-period=… --start-interval=… --retries=N] CMD …`. */
function healthcheck(rest: string): Record<string, unknown> {
  if (/^none$/i.test(rest)) return { Test: ['NONE'] };
  const hc: Record<string, unknown> = {};
  let text = rest;
  for (;;) {
    const m = /^--([a-z-]+)=(\S+)\s*/.exec(text);
    if (!m) break;
    text = text.slice(m[0].length);
    const key = { interval: 'Interval', timeout: 'Timeout', 'start-period': 'StartPeriod', 'start-interval': 'StartInterval', retries: 'Retries' }[m[1]];
    if (!key) throw new InvalidParameterError(`Unknown flag: ${m[1]}`);
    if (key === 'Retries') hc.Retries = Number.parseInt(m[2], 10);
    else {
      const ms = parseGoDuration(m[2]);
      if (ms === undefined) throw new InvalidParameterError(`time: invalid duration "${m[2]}"`);
      hc[key] = Math.round(ms * 1e6);
    }
  }
  const cm = /^cmd\s+([\s\S]+)$/i.exec(text);
  if (!cm) throw new InvalidParameterError('Unknown type "' + (text.split(/\s/)[0] ?? '') + '" in HEALTHCHECK (try CMD)');
  const json = jsonArray(cm[1].trim());
  hc.Test = json ? ['CMD', ...json] : ['CMD-SHELL', cm[1].trim()];
  return hc;
}
