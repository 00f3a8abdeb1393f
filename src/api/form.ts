import { InvalidParameterError } from '../errors';
import { parseJsonText } from './validation/json-text';

/** Query-string coercions with Docker's lenient rules (moby httputils/form.go). */
export type Query = Record<string, string | string[] | undefined>;

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** False only for "", "0", "no", "false", "none"; absent → `dflt`. */
export function boolValue(q: Query, key: string, dflt = false): boolean {
  const v = first(q[key]);
  if (v === undefined) return dflt;
  return !['', '0', 'no', 'false', 'none'].includes(v.trim().toLowerCase());
}

export function stringValue(q: Query, key: string): string | undefined {
  return first(q[key]);
}

/** Every value of a repeated parameter (`changes=a&changes=b`). */
export function stringsValue(q: Query, key: string): string[] {
  const v = q[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Integer or undefined when absent/empty; 400 when malformed. */
export function intValue(q: Query, key: string, what = key): number | undefined {
  const v = first(q[key]);
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new InvalidParameterError(`invalid value for ${what}: ${v}`);
  return Number(v);
}

export function uint32Value(q: Query, key: string, what: string): number {
  const v = first(q[key]) ?? '';
  if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw new InvalidParameterError(`invalid ${what} "${v}"`);
  return Number(v);
}

/**
 * `filters` as JSON: `{"k":{"v":true}}` (Go CLI) or `{"k":["v"]}` (docker-py, compose v1).
 * Returns key → values.
 */
export function filtersValue(q: Query): Record<string, string[]> {
  const raw = first(q.filters);
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = parseJsonText(raw).value;
  } catch (err) {
    throw new InvalidParameterError(`invalid filter: ${(err as Error).message.replace(/^invalid JSON: /, '')}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidParameterError('invalid filter: expected a JSON object');
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(parsed)) {
    // Go decodes these into map[string][]string or map[string]map[string]bool: nothing deeper.
    if (Array.isArray(v)) {
      if (v.some((x) => typeof x !== 'string')) throw new InvalidParameterError(`invalid filter: value of '${k}' must be a list of strings`);
      out[k] = v as string[];
    }
    else if (v && typeof v === 'object') out[k] = Object.entries(v).filter(([, on]) => on).map(([val]) => val);
    else throw new InvalidParameterError(`invalid filter: value of '${k}' must be a list or a set`);
  }
  return out;
}

/** Unix seconds from `<s>` or `<s>.<nanos>`; 0 when absent. */
export function timestampValue(q: Query, key: string): number {
  const v = first(q[key]);
  if (!v) return 0;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new InvalidParameterError(`invalid value for ${key}: ${v}`);
  return Number(v);
}

/**
 * A JSON body's object with its keys matched to `fields` as Go's encoding/json matches struct
 * fields: an exact name, else the same name in another case (`tty`, `detachKeys` as docker-py
 * sends it); a later key wins. Keys that name no field are dropped.
 */
export function goFields<K extends string>(body: Record<string, unknown>, fields: readonly K[]): Partial<Record<K, unknown>> {
  const folded = new Map(fields.map((f) => [f.toLowerCase(), f]));
  const out: Partial<Record<K, unknown>> = {};
  for (const [key, value] of Object.entries(body)) {
    const field = (fields as readonly string[]).includes(key) ? (key as K) : folded.get(key.toLowerCase());
    if (field !== undefined) out[field] = value;
  }
  return out;
}
