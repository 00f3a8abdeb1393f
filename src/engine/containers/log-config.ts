/**
 * `--log-driver` and `--log-opt` (HostConfig.LogConfig) with dockerd's json-file semantics and
 * messages (`[moby] daemon/logger/jsonfilelog`): the log lives in the container's own file
 * (conmon's k8s-file format), `max-size` rotates it into at most `max-file` files; `none` keeps
 * no log at all.
 */
import { InvalidParameterError } from '../errors';

export interface LogSettings {
  driver: 'json-file' | 'none';
  /** Rotate once the file reaches this many bytes (undefined: never). */
  maxSize?: number;
  /** Files kept, the live one included. */
  maxFile: number;
}

const DRIVERS = new Set(['', 'json-file', 'local', 'k8s-file', 'none']);
const JSON_FILE_OPTS = new Set(['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag', 'mode', 'max-buffer-size']);

/** Go's units.FromHumanSize/RAMInBytes as json-file reads max-size: `10m`, `1g`, `512k`, bytes. */
function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(text.trim());
  if (!m) throw new InvalidParameterError(`invalid size: '${text}'`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't' | 'p'];
  return Math.floor(Number(m[1]) * mult);
}

export function logSettings(config: { Type?: string; Config?: Record<string, string> } | undefined): LogSettings {
  const type = config?.Type ?? '';
  const opts = config?.Config ?? {};
  if (!DRIVERS.has(type)) throw new InvalidParameterError(`logger: no log driver named '${type}' is registered`);
  if (type === 'none') {
    const first = Object.keys(opts)[0];
    if (first) throw new InvalidParameterError(`unknown log opt '${first}' for none log driver`);
    return { driver: 'none', maxFile: 1 };
  }
  const name = type || 'json-file';
  for (const key of Object.keys(opts)) {
    if (!JSON_FILE_OPTS.has(key)) throw new InvalidParameterError(`unknown log opt '${key}' for ${name} log driver`);
  }
  const maxSize = opts['max-size'] !== undefined && opts['max-size'] !== '-1' ? parseSize(opts['max-size']) : undefined;
  let maxFile = 1;
  if (opts['max-file'] !== undefined) {
    maxFile = Number(opts['max-file']);
    if (!Number.isInteger(maxFile)) throw new InvalidParameterError(`strconv.Atoi: parsing ${JSON.stringify(opts['max-file'])}: invalid syntax`);
    if (maxFile < 1) throw new InvalidParameterError('max-file cannot be less than 1');
    if (maxFile > 1 && maxSize === undefined) throw new InvalidParameterError('max-file can only be used with max-size');
  }
  return { driver: 'json-file', maxSize, maxFile };
}

/** The files of a log, oldest first: `<path>.<n>` … `<path>.1`, then `<path>`. */
export function logFiles(path: string, maxFile: number): string[] {
  const out: string[] = [];
  for (let i = maxFile - 1; i >= 1; i--) out.push(`${path}.${i}`);
  out.push(path);
  return out;
}

/**
 * What `docker logs --details` puts before each line (dockerd's ExtraAttributes): the labels and
 * environment variables named by `--log-opt labels/env` (or matching labels-regex/env-regex),
 * `k=v` sorted by key, values query-escaped, joined by commas.
 */
export function logDetails(opts: Record<string, string> | undefined, labels: Record<string, string>, env: readonly string[]): string {
  if (!opts) return '';
  const attrs = new Map<string, string>();
  const names = (v: string | undefined) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const envMap = new Map(env.map((e) => [e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')), e.includes('=') ? e.slice(e.indexOf('=') + 1) : '']));
  for (const k of names(opts.labels)) if (k in labels) attrs.set(k, labels[k]);
  for (const k of names(opts.env)) if (envMap.has(k)) attrs.set(k, envMap.get(k)!);
  const regex = (v: string | undefined) => (v ? safeRegExp(v) : undefined);
  const lr = regex(opts['labels-regex']);
  if (lr) for (const [k, v] of Object.entries(labels)) if (lr.test(k)) attrs.set(k, v);
  const er = regex(opts['env-regex']);
  if (er) for (const [k, v] of envMap) if (er.test(k)) attrs.set(k, v);
  return [...attrs.keys()].sort().map((k) => `${k}=${encodeURIComponent(attrs.get(k)!).replace(/%20/g, '+')}`).join(',');
}

function safeRegExp(source: string): RegExp | undefined {
  try {
    return new RegExp(source);
  } catch {
    return undefined;
  }
}
