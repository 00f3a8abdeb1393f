/**
 * `--log-driver` and `--log-opt` (HostConfig.LogConfig) with dockerd's drivers, rules and
 * messages (`[moby] daemon/logger/{factory.go,jsonfilelog,local}`): `json-file` (the default),
 * `local` and `none`. Options are checked in two steps as dockerd does: unknown drivers and
 * option names at create (400), option values when the container starts (500, "failed to
 * initialize logging driver: ..."). How the log is kept on disk is told in docs/logging.md.
 */
import { InvalidParameterError } from '../../errors';
import { fromHumanSize, ramInBytes } from '../byte-sizes';

export type LogDriverName = 'json-file' | 'local' | 'none';

export interface LogSettings {
  driver: LogDriverName;
  /** Rotate once the file reaches this many bytes (undefined: never). */
  maxSize?: number;
  /** Files kept, the live one included. */
  maxFile: number;
}

export interface LogConfig {
  Type: string;
  Config: Record<string, string>;
}

/** dockerd's default driver (`docker info` LoggingDriver). */
export const DEFAULT_LOG_DRIVER = 'json-file';

/** Attribute options every file driver accepts (labels, env and tag go into each entry). */
const ATTRIBUTE_OPTS = ['labels', 'labels-regex', 'env', 'env-regex', 'tag'];
const DRIVER_OPTS: Record<Exclude<LogDriverName, 'none'>, Set<string>> = {
  'json-file': new Set(['max-file', 'max-size', 'compress', ...ATTRIBUTE_OPTS]),
  local: new Set(['max-file', 'max-size', 'compress', ...ATTRIBUTE_OPTS]),
};
/** Options dockerd handles for every driver (the log copier's buffering). */
const GENERIC_OPTS = new Set(['mode', 'max-buffer-size']);

/** `local`'s defaults (`[moby] daemon/logger/local/local.go`). */
const LOCAL_MAX_SIZE = 20 * 1024 * 1024;
const LOCAL_MAX_FILE = 5;

/** An error in a log option's value, found when the container starts; dockerd answers 500. */
export class LogDriverInitError extends Error {
  constructor(reason: string) {
    super(`failed to initialize logging driver: ${reason}`);
  }
}

/** The LogConfig dockerd stores at create: Type defaults to json-file, Config to `{}`. */
export function normalizeLogConfig(config: { Type?: string; Config?: Record<string, string> | null } | undefined): LogConfig {
  return { Type: config?.Type || DEFAULT_LOG_DRIVER, Config: { ...(config?.Config ?? {}) } };
}

/** The checks dockerd makes at create (`logger.ValidateLogOpts`): driver and option names. */
export function validateLogConfig(config: { Type?: string; Config?: Record<string, string> | null } | undefined): void {
  const { Type: type, Config: opts } = normalizeLogConfig(config);
  if (type === 'none') return;
  if (!(type in DRIVER_OPTS)) throw new InvalidParameterError(`error looking up logging plugin ${type}: plugin "${type}" not found`);
  const mode = opts.mode ?? '';
  if (!['', 'blocking', 'non-blocking'].includes(mode)) throw new InvalidParameterError(`logger: logging mode not supported: ${mode}`);
  if (opts['max-buffer-size'] !== undefined) {
    if (mode !== 'non-blocking') throw new InvalidParameterError("logger: max-buffer-size option is only supported with 'mode=non-blocking'");
    if (ramInBytes(opts['max-buffer-size']) === undefined) {
      throw new InvalidParameterError(`error parsing option max-buffer-size: invalid size: '${opts['max-buffer-size']}'`);
    }
  }
  const known = DRIVER_OPTS[type as 'json-file' | 'local'];
  for (const key of Object.keys(opts)) {
    if (GENERIC_OPTS.has(key) || known.has(key)) continue;
    throw new InvalidParameterError(type === 'local' ? `unknown log opt '${key}' for log driver local` : `unknown log opt '${key}' for ${type} log driver`);
  }
}

/** The settings a starting container's log is kept with; option values checked as dockerd does. */
export function logSettings(config: { Type?: string; Config?: Record<string, string> | null } | undefined): LogSettings {
  validateLogConfig(config);
  const { Type: type, Config: opts } = normalizeLogConfig(config);
  if (type === 'none') return { driver: 'none', maxFile: 1 };
  return type === 'local' ? localSettings(opts) : jsonFileSettings(opts);
}

function jsonFileSettings(opts: Record<string, string>): LogSettings {
  let maxSize: number | undefined;
  if (opts['max-size'] !== undefined) {
    maxSize = fromHumanSize(opts['max-size']);
    if (maxSize === undefined) throw new LogDriverInitError(`invalid size: '${opts['max-size']}'`);
    if (maxSize <= 0) throw new LogDriverInitError('max-size must be a positive number');
  }
  let maxFile = 1;
  if (opts['max-file'] !== undefined) {
    maxFile = atoi(opts['max-file'], '');
    if (maxFile < 1) throw new LogDriverInitError('max-file cannot be less than 1');
  }
  if (opts.compress !== undefined) {
    const compress = parseBool(opts.compress, '');
    if (compress && (maxFile === 1 || maxSize === undefined)) {
      throw new LogDriverInitError('compress cannot be true when max-file is less than 2 or max-size is not set');
    }
  }
  // Without max-size nothing rotates, so only the live file exists (dockerd ignores max-file then).
  return { driver: 'json-file', maxSize, maxFile: maxSize === undefined ? 1 : maxFile };
}

function localSettings(opts: Record<string, string>): LogSettings {
  let maxSize = LOCAL_MAX_SIZE;
  if (opts['max-size'] !== undefined) {
    const v = fromHumanSize(opts['max-size']);
    if (v === undefined) throw new LogDriverInitError(`invalid value for max-size: ${opts['max-size']}: invalid size: '${opts['max-size']}'`);
    maxSize = v;
  }
  const maxFile = opts['max-file'] !== undefined ? atoi(opts['max-file'], `invalid value for max-file: ${opts['max-file']}: `) : LOCAL_MAX_FILE;
  const compress = opts.compress !== undefined ? parseBool(opts.compress, 'invalid boolean value for compress: ') : true;
  if (maxSize < 0) throw new LogDriverInitError('max-size must not be negative');
  if (maxFile < 0) throw new LogDriverInitError('max-file must not be negative');
  if (compress && maxFile <= 1) throw new LogDriverInitError('compression cannot be enabled when max file count is 1');
  // dockerd's local driver treats 0 as "no limit" for both.
  return { driver: 'local', maxSize: maxSize === 0 ? undefined : maxSize, maxFile: maxSize === 0 || maxFile === 0 ? 1 : maxFile };
}

/** Go's strconv.Atoi with its error text. */
function atoi(text: string, prefix: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new LogDriverInitError(`${prefix}strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
  return Number(text);
}

/** Go's strconv.ParseBool with its error text. */
function parseBool(text: string, prefix: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  throw new LogDriverInitError(`${prefix}strconv.ParseBool: parsing ${JSON.stringify(text)}: invalid syntax`);
}

/** The files of a log, oldest first: `<path>.<n>` … `<path>.1`, then `<path>`. */
export function logFiles(path: string, maxFile: number): string[] {
  const out: string[] = [];
  for (let i = maxFile - 1; i >= 1; i--) out.push(`${path}.${i}`);
  out.push(path);
  return out;
}

/** What `--log-opt tag` templates and the attributes are made from. */
export interface LogSource {
  opts: Record<string, string> | undefined;
  labels: Record<string, string>;
  env: readonly string[];
  /** Full container ID, name without its slash, Config.Image, image ID (`sha256:...`). */
  id: string;
  name: string;
  imageName: string;
  imageId: string;
}

/**
 * `--log-opt tag`: dockerd's template over the container (`{{.ID}}`, `{{.FullID}}`, `{{.Name}}`,
 * `{{.ImageID}}`, `{{.ImageFullID}}`, `{{.ImageName}}`, `{{.DaemonName}}`).
 */
export function logTag(template: string, src: LogSource): string {
  const fields: Record<string, string> = {
    ID: src.id.slice(0, 12),
    FullID: src.id,
    Name: src.name,
    ImageID: src.imageId.replace(/^sha256:/, '').slice(0, 12),
    ImageFullID: src.imageId,
    ImageName: src.imageName,
    DaemonName: 'docker',
  };
  return template.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (all, f: string) => fields[f] ?? all);
}

/**
 * The attributes named by `--log-opt labels/env` (or matching labels-regex/env-regex) and the
 * `tag`: what dockerd stores as `attrs` in each entry and `docker logs --details` puts before
 * each line.
 */
export function logAttributes(src: LogSource): Map<string, string> {
  const { opts, labels, env } = src;
  const attrs = new Map<string, string>();
  if (!opts) return attrs;
  const names = (v: string | undefined) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const envMap = new Map(env.map((e) => [e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')), e.includes('=') ? e.slice(e.indexOf('=') + 1) : '']));
  for (const k of names(opts.labels)) if (k in labels) attrs.set(k, labels[k]);
  for (const k of names(opts.env)) if (envMap.has(k)) attrs.set(k, envMap.get(k)!);
  const regex = (v: string | undefined) => (v ? safeRegExp(v) : undefined);
  const lr = regex(opts['labels-regex']);
  if (lr) for (const [k, v] of Object.entries(labels)) if (lr.test(k)) attrs.set(k, v);
  const er = regex(opts['env-regex']);
  if (er) for (const [k, v] of envMap) if (er.test(k)) attrs.set(k, v);
  if (opts.tag) attrs.set('tag', logTag(opts.tag, src));
  return attrs;
}

/** `docker logs --details`' prefix: `k=v` sorted by key, values query-escaped, joined by commas. */
export function logDetails(src: LogSource): string {
  const attrs = logAttributes(src);
  return [...attrs.keys()].sort().map((k) => `${k}=${encodeURIComponent(attrs.get(k)!).replace(/%20/g, '+')}`).join(',');
}

function safeRegExp(source: string): RegExp | undefined {
  try {
    return new RegExp(source);
  } catch {
    return undefined;
  }
}
