/**
 * Filters of GET /networks and POST /networks/prune, with dockerd's semantics and messages
 * (moby daemon/network/filter.go, daemon/prune.go, api/types/filters, api/types/time).
 */
import { InvalidParameterError } from '../errors';
import { isPredefined, type NetworkRecord } from './types';
import { labelsMatch } from '../labels';

export type Filters = Record<string, string[]>;

const LIST_FILTERS = new Set(['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
const PRUNE_FILTERS = new Set(['until', 'label', 'label!']);

function validateKeys(filters: Filters, accepted: Set<string>): void {
  for (const key of Object.keys(filters)) {
    if (!accepted.has(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
  }
}

/** `filters.Args.Match`: an exact value, or a (Go RE2-like) regular expression found in `source`. */
function matches(values: readonly string[], source: string): boolean {
  return values.some((v) => {
    if (v === source) return true;
    try {
      return new RegExp(v).test(source);
    } catch {
      return false;
    }
  });
}


function danglingValue(filters: Filters): boolean | undefined {
  const values = filters.dangling;
  if (!values?.length) return undefined;
  if (values.length > 1) throw new InvalidParameterError('got more than one value for filter key "dangling"');
  if (values[0] === '1' || values[0] === 'true') return true;
  if (values[0] === '0' || values[0] === 'false') return false;
  throw new InvalidParameterError(`invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`);
}

/** Rejects unknown keys and bad values before anything is listed. */
export function validateListFilters(filters: Filters): void {
  validateKeys(filters, LIST_FILTERS);
  danglingValue(filters);
  for (const t of filters.type ?? []) {
    // dockerd answers this with a 500 (a plain error); it is the client's mistake, so 400 here.
    if (t !== 'custom' && t !== 'builtin') throw new InvalidParameterError(`invalid filter: 'type'='${t}'`);
  }
}

/**
 * The networks passing every filter: keys AND-ed, values of one key OR-ed (labels AND-ed), as
 * dockerd's `FilterNetworks`. `inUse` says whether a network has endpoints (for `dangling`).
 */
export function filterNetworks(records: readonly NetworkRecord[], filters: Filters, inUse: (id: string) => boolean): NetworkRecord[] {
  validateListFilters(filters);
  const has = (key: string) => (filters[key]?.length ?? 0) > 0;
  let out = records.filter((r) => {
    if (has('driver') && !filters.driver.includes(r.driver)) return false;
    if (has('name') && !matches(filters.name, r.name)) return false;
    if (has('id') && !matches(filters.id, r.id)) return false;
    if (has('label') && !labelsMatch(filters.label, r.labels)) return false;
    if (has('scope') && !filters.scope.includes('local')) return false;
    return true;
  });
  const dangling = danglingValue(filters);
  if (dangling !== undefined) {
    out = out.filter((r) => {
      const used = isPredefined(r.name) || inUse(r.id);
      return dangling ? !used : used;
    });
  }
  if (has('type')) {
    const wantBuiltin = filters.type.includes('builtin');
    const wantCustom = filters.type.includes('custom');
    out = out.filter((r) => (isPredefined(r.name) ? wantBuiltin : wantCustom));
  }
  return out;
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

export interface PruneFilter {
  /** Only networks created before this time (ms since the epoch). */
  until?: number;
  labels: string[];
  notLabels: string[];
}

/** Validates prune filters (`until`, `label`, `label!`) and reads `until`. */
export function parsePruneFilters(filters: Filters, now: number): PruneFilter {
  validateKeys(filters, PRUNE_FILTERS);
  const until = filters.until ?? [];
  if (until.length > 1) throw new InvalidParameterError('more than one until filter specified');
  return {
    until: until.length ? parseTimeFilter(until[0], now) : undefined,
    labels: filters.label ?? [],
    notLabels: filters['label!'] ?? [],
  };
}

/** dockerd's `matchLabels` for prune: all of `label`, and not all of `label!`. */
export function pruneLabelsMatch(f: PruneFilter, labels: Record<string, string>): boolean {
  if (!labelsMatch(f.labels, labels)) return false;
  if (f.notLabels.length && labelsMatch(f.notLabels, labels)) return false;
  return true;
}
