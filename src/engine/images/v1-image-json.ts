/**
 * A v1 image JSON as dockerd re-marshals it through its V1Image struct before making an image
 * config of it, which it does for images saved by Docker older than 1.8.3 (`[moby v20.10]
 * image/v1/imagev1.go` MakeConfigFromV1Config, `image/image.go` V1Image, `api/types/container`
 * Config): only the struct's fields, in its order, keys matched without regard to case.
 */
import { InvalidParameterError } from '../../errors';
import { goString, goTime } from './go-json';

type Json = Record<string, unknown>;

/** The V1Image marshalling of `v1` (parsed JSON). */
export function v1ImageJson(v1: Json, what: string): string {
  const f = fieldsOf(v1, what);
  const out: string[] = [];
  const str = (key: string, name = key) => {
    const v = f.string(name);
    if (v) out.push(`${goString(key)}:${goString(v)}`);
  };
  str('id');
  str('parent');
  str('comment');
  out.push(`"created":${goString(goTime(f.raw('created'), what))}`);
  str('container');
  out.push(`"container_config":${containerConfig(f.object('container_config') ?? {}, what)}`);
  str('docker_version');
  str('author');
  const config = f.object('config');
  if (config) out.push(`"config":${containerConfig(config, what)}`);
  str('architecture');
  str('variant');
  str('os');
  const size = f.raw('size');
  if (typeof size === 'number' && size !== 0) out.push(`"Size":${Math.trunc(size)}`);
  return `{${out.join(',')}}`;
}

/** container.Config's marshalling. */
function containerConfig(c: Json, what: string): string {
  const f = fieldsOf(c, what);
  const out: string[] = [];
  const put = (key: string, value: string | undefined) => value !== undefined && out.push(`${goString(key)}:${value}`);
  const str = (key: string, omitEmpty = false) => put(key, omitEmpty && !f.string(key) ? undefined : goString(f.string(key)));
  const bool = (key: string, omitEmpty = false) => put(key, omitEmpty && !f.bool(key) ? undefined : String(f.bool(key)));
  str('Hostname');
  str('Domainname');
  str('User');
  bool('AttachStdin');
  bool('AttachStdout');
  bool('AttachStderr');
  const ports = f.object('ExposedPorts');
  if (ports && Object.keys(ports).length) put('ExposedPorts', emptyStructMap(ports));
  bool('Tty');
  bool('OpenStdin');
  bool('StdinOnce');
  put('Env', strings(f.raw('Env'), what));
  put('Cmd', strSlice(f.raw('Cmd'), what));
  const health = f.object('Healthcheck');
  if (health) put('Healthcheck', healthConfig(health, what));
  bool('ArgsEscaped', true);
  str('Image');
  const volumes = f.object('Volumes');
  put('Volumes', volumes ? emptyStructMap(volumes) : 'null');
  str('WorkingDir');
  put('Entrypoint', strSlice(f.raw('Entrypoint'), what));
  bool('NetworkDisabled', true);
  str('MacAddress', true);
  put('OnBuild', strings(f.raw('OnBuild'), what));
  const labels = f.object('Labels');
  put('Labels', labels ? `{${sortedKeys(labels).map((k) => `${goString(k)}:${goString(String(labels[k]))}`).join(',')}}` : 'null');
  str('StopSignal', true);
  const stopTimeout = f.raw('StopTimeout');
  if (typeof stopTimeout === 'number') put('StopTimeout', String(Math.trunc(stopTimeout)));
  const shell = strSlice(f.raw('Shell'), what);
  if (shell !== 'null' && shell !== '[]') put('Shell', shell);
  return `{${out.join(',')}}`;
}

function healthConfig(h: Json, what: string): string {
  const f = fieldsOf(h, what);
  const out: string[] = [];
  const test = strings(f.raw('Test'), what);
  if (test !== 'null' && test !== '[]') out.push(`"Test":${test}`);
  for (const key of ['Interval', 'Timeout', 'StartPeriod', 'Retries']) {
    const v = f.raw(key);
    if (typeof v === 'number' && v !== 0) out.push(`${goString(key)}:${Math.trunc(v)}`);
  }
  return `{${out.join(',')}}`;
}

/** Go's lookup of struct fields in a JSON object: exact name, else any case; the last one given wins. */
function fieldsOf(obj: Json, what: string) {
  const raw = (name: string): unknown => {
    let found: unknown;
    for (const [k, v] of Object.entries(obj)) if (k === name || k.toLowerCase() === name.toLowerCase()) found = v;
    return found;
  };
  const typed = <T>(name: string, type: string, fallback: T): T => {
    const v = raw(name);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== type) throw new InvalidParameterError(`${what}: ${name} is not a ${type}`);
    return v as T;
  };
  return {
    raw,
    string: (name: string) => typed(name, 'string', ''),
    bool: (name: string) => typed(name, 'boolean', false),
    object: (name: string): Json | undefined => {
      const v = raw(name);
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidParameterError(`${what}: ${name} is not an object`);
      return v as Json;
    },
  };
}

function strings(v: unknown, what: string): string {
  if (v === undefined || v === null) return 'null';
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new InvalidParameterError(`${what}: expected a list of strings`);
  return `[${v.map(goString).join(',')}]`;
}

/** strslice.StrSlice: a string is a list of one. */
const strSlice = (v: unknown, what: string): string => (typeof v === 'string' ? `[${goString(v)}]` : strings(v, what));

const sortedKeys = (o: Json) => Object.keys(o).sort((a, b) => Buffer.from(a).compare(Buffer.from(b)));
const emptyStructMap = (o: Json) => `{${sortedKeys(o).map((k) => `${goString(k)}:{}`).join(',')}}`;
