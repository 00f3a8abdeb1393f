/**
 * Filters of GET /networks and POST /networks/prune, with dockerd's semantics and messages
 * (moby daemon/network/filter.go, daemon/prune.go, api/types/filters, api/types/time).
 */
import { InvalidParameterError } from '../../errors';
import { isPredefined, type NetworkRecord } from './types';
import { labelsMatch, matchesAny, parseTimeFilter, validateFilterKeys, type Filters } from '../filter-args';

export type { Filters };

const LIST_FILTERS = new Set(['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
const PRUNE_FILTERS = new Set(['until', 'label', 'label!']);

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
  validateFilterKeys(filters, LIST_FILTERS);
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
    if (has('name') && !matchesAny(filters.name, r.name)) return false;
    if (has('id') && !matchesAny(filters.id, r.id)) return false;
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

export interface PruneFilter {
  /** Only networks created before this time (ms since the epoch). */
  until?: number;
  labels: string[];
  notLabels: string[];
}

/** Validates prune filters (`until`, `label`, `label!`) and reads `until`. */
export function parsePruneFilters(filters: Filters, now: number): PruneFilter {
  validateFilterKeys(filters, PRUNE_FILTERS);
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
