/**
 * Filters of GET /volumes and POST /volumes/prune with dockerd's semantics and messages
 * (moby daemon/volume/service/convert.go `filtersToBy`, `withPrune`; api/types/filters).
 */
import { InvalidParameterError } from '../../errors';
import { labelsMatch, matchesAny, parseGoBool, validateFilterKeys, type Filters } from '../filter-args';

export type { Filters };
import { ANONYMOUS_LABEL, type VolumeRecord } from './types';

const LIST_FILTERS = new Set(['dangling', 'name', 'driver', 'label']);
const PRUNE_FILTERS = new Set(['label', 'label!', 'all']);

/** `filters.Args.GetBoolOrDefault`: "true"/"1" or "false"/"0", not both. */
function boolFilter(filters: Filters, key: string): boolean | undefined {
  const values = filters[key];
  if (values === undefined) return undefined;
  const isTrue = values.includes('true') || values.includes('1');
  const isFalse = values.includes('false') || values.includes('0');
  if (isTrue === isFalse) throw new InvalidParameterError(values.length ? `invalid filter '${key}=[${values.join(' ')}]'` : `invalid filter '${key}'`);
  return isTrue;
}

/** Labels as the filters see them (a volume without labels has none). */
const labelsOf = (v: VolumeRecord) => v.labels ?? {};

/** `label` must all match; volumes matching every `label!` are left out. */
function labelFilterPasses(filters: Filters, v: VolumeRecord): boolean {
  if (!labelsMatch(filters.label ?? [], labelsOf(v))) return false;
  const not = filters['label!'] ?? [];
  return !(not.length && labelsMatch(not, labelsOf(v)));
}

/**
 * The predicate of GET /volumes; validates first. `inUse` says whether containers use a volume.
 * Keys are AND-ed; values of `name` and `driver` OR-ed; labels AND-ed.
 */
export function listFilter(filters: Filters, inUse: (name: string) => boolean): (v: VolumeRecord) => boolean {
  validateFilterKeys(filters, LIST_FILTERS);
  const dangling = boolFilter(filters, 'dangling');
  return (v) => {
    if (filters.driver?.length && !filters.driver.includes(v.driver)) return false;
    if (filters.name && !matchesAny(filters.name, v.name)) return false;
    if (!labelFilterPasses(filters, v)) return false;
    return dangling === undefined || inUse(v.name) !== dangling;
  };
}

/**
 * The predicate of POST /volumes/prune, before the "unused" and "no driver options" checks.
 * Without `all=true` only anonymous volumes qualify (the API layer adds `all=true` for clients
 * older than 1.42).
 */
export function pruneFilter(filters: Filters): (v: VolumeRecord) => boolean {
  const all = filters.all ?? [];
  let anonymousOnly = true;
  if (all.length > 1) throw new InvalidParameterError(`invalid filter 'all=[${all.join(' ')}]': only one value is expected`);
  if (all.length === 1) {
    const b = parseGoBool(all[0]);
    if (b === undefined) throw new InvalidParameterError(`invalid filter 'all': strconv.ParseBool: parsing ${JSON.stringify(all[0])}: invalid syntax`);
    anonymousOnly = !b;
  }
  validateFilterKeys(filters, PRUNE_FILTERS);
  return (v) => (!anonymousOnly || ANONYMOUS_LABEL in labelsOf(v)) && labelFilterPasses(filters, v);
}
