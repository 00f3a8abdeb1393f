/**
 * Docker's filter arguments (`api/types/filters`) and the value parsers its filters share:
 * used by the container, network, volume and image filters so each speaks dockerd's language.
 */
import { InvalidParameterError } from '../errors';

/** A decoded `filters` query parameter: key → values. */
export type Filters = Record<string, string[]>;

/** Rejects keys a filter does not know, with dockerd's message. */
export function validateFilterKeys(filters: Filters, accepted: ReadonlySet<string>): void {
  for (const key of Object.keys(filters)) {
    if (!accepted.has(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
  }
}

/** `filters.Args.Match`: an exact value, or a regular expression found in `source`. */
export function matchesAny(values: readonly string[], source: string): boolean {
  return values.some((v) => {
    if (v === source) return true;
    try {
      return new RegExp(v).test(source);
    } catch {
      return false;
    }
  });
}

/** Go's `strconv.ParseBool`; undefined when the text is not one of its spellings. */
export function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/**
 * Docker's label filter (`filters.Args.MatchKVList`): every `key` or `key=value` must be among
 * the labels.
 */
export function labelsMatch(values: readonly string[], labels: Record<string, string>): boolean {
  if (!values.length) return true;
  return values.every((v) => {
    const eq = v.indexOf('=');
    const key = eq < 0 ? v : v.slice(0, eq);
    if (!Object.prototype.hasOwnProperty.call(labels, key)) return false;
    return eq < 0 || labels[key] === v.slice(eq + 1);
  });
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's `time.ParseDuration`, in milliseconds; undefined when `s` is not a duration. */
export function parseGoDuration(s: string): number | undefined {
  const m = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$/.exec(s);
  if (!m) return undefined;
  if (m[2] === '0') return 0;
  let total = 0;
  for (const part of m[2].matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(part[1]) * DURATION_UNITS[part[2]];
  return m[1] === '-' ? -total : total;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2})(?::(\d{2})(?::(\d{2})(\.\d+)?)?)?)?([Zz]|[+-]\d{2}:\d{2})?$/;

/**
 * A time filter value (`until`) in milliseconds since the epoch, as dockerd's
 * `timetypes.GetTimestamp` reads it: a Go duration before `now`, a Unix timestamp
 * (`<seconds>[.<fraction>]`), or an RFC 3339 date/time (local time when it has no zone).
 */
export function parseTimeFilter(value: string, now: number): number {
  const d = value === '0' ? undefined : parseGoDuration(value);
  if (d !== undefined) return now - d;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const m = DATE_TIME.exec(value);
  if (m) {
    const [y, mo, da, h = '0', mi = '0', s = '0'] = m.slice(1, 7);
    const ms = Math.floor(Number(m[7] ?? 0) * 1000);
    const fields = [Number(y), Number(mo) - 1, Number(da), Number(h), Number(mi), Number(s), ms] as const;
    if (!m[8]) return new Date(...fields).getTime();
    let t = Date.UTC(...fields);
    if (!/^[Zz]$/.test(m[8])) {
      const sign = m[8][0] === '-' ? -1 : 1;
      t -= sign * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6))) * 60_000;
    }
    return t;
  }
  throw new InvalidParameterError(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
}
