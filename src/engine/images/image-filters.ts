/**
 * `docker images --filter` and `docker image prune --filter` with dockerd's keys and matching
 * (`[moby] daemon/images/images.go`, `image_prune.go`): dangling, label, before, since,
 * reference (path-style globs on the familiar name, with or without the tag), until.
 */
import { posix } from 'node:path';
import { InvalidParameterError } from '../../errors';
import { labelsMatch, parseGoBool, parseTimeFilter, validateFilterKeys, type Filters } from '../filter-args';
import type { ImageRecord } from './types';
import { unixSeconds } from './image-views';

const LIST_KEYS = new Set(['dangling', 'label', 'label!', 'before', 'since', 'reference', 'until']);
const PRUNE_KEYS = new Set(['dangling', 'label', 'label!', 'until']);

export interface FilterContext {
  /** Familiar names (`busybox:latest`) of an image. */
  names(rec: ImageRecord): string[];
  /** The image a `before`/`since` value names. */
  resolve(ref: string): Promise<ImageRecord>;
  now: number;
}

function danglingValue(filters: Filters): boolean | undefined {
  const v = filters.dangling;
  if (!v?.length) return undefined;
  const b = parseGoBool(v[0]);
  if (b === undefined) throw new InvalidParameterError(`invalid filter 'dangling=${v[0]}'`);
  return b;
}

/** Go's path.Match as dockerd uses it for `reference` (`*` does not cross `/`). */
function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return re.test(name);
}

/** dockerd's FamiliarMatch: the pattern against `name:tag` / `name@digest`, then the bare name. */
function referenceMatch(pattern: string, familiar: string): boolean {
  const at = familiar.indexOf('@');
  const colon = familiar.lastIndexOf(':');
  const repo = at >= 0 ? familiar.slice(0, at) : colon > familiar.lastIndexOf('/') ? familiar.slice(0, colon) : familiar;
  return globMatch(pattern, familiar) || globMatch(pattern, repo) || posix.basename(repo) === pattern;
}

function referenceMatches(patterns: string[], names: string[]): boolean {
  return names.some((n) => patterns.some((p) => referenceMatch(p, n)));
}

/** With a `reference` filter, which of an image's familiar names to list; undefined without one. */
export function shownReferences(filters: Filters): ((familiar: string) => boolean) | undefined {
  const patterns = filters.reference;
  if (!patterns?.length) return undefined;
  return (familiar) => patterns.some((p) => referenceMatch(p, familiar));
}

/** The predicate of GET /images/json (validated first). */
export async function imageListFilter(filters: Filters, ctx: FilterContext): Promise<(rec: ImageRecord) => boolean> {
  validateFilterKeys(filters, LIST_KEYS);
  const dangling = danglingValue(filters);
  const created = (r: ImageRecord) => unixSeconds(r.config.created);
  const before = filters.before?.length ? Math.min(...(await Promise.all(filters.before.map(async (b) => created(await ctx.resolve(b)))))) : undefined;
  const since = filters.since?.length ? Math.max(...(await Promise.all(filters.since.map(async (b) => created(await ctx.resolve(b)))))) : undefined;
  const until = filters.until?.length ? parseTimeFilter(filters.until[0], ctx.now) / 1000 : undefined;
  return (rec) => {
    const names = ctx.names(rec);
    const labels = rec.config.config?.Labels ?? {};
    if (dangling !== undefined && (names.length === 0) !== dangling) return false;
    if (!labelsMatch(filters.label ?? [], labels)) return false;
    if (filters['label!']?.length && labelsMatch(filters['label!'], labels)) return false;
    if (before !== undefined && !(created(rec) < before)) return false;
    if (since !== undefined && !(created(rec) > since)) return false;
    if (until !== undefined && !(created(rec) < until)) return false;
    if (filters.reference?.length && !referenceMatches(filters.reference, names)) return false;
    return true;
  };
}

/** The predicate of POST /images/prune: dangling only unless `dangling=false`. */
export function imagePruneFilter(filters: Filters, ctx: Pick<FilterContext, 'names' | 'now'>): (rec: ImageRecord) => boolean {
  validateFilterKeys(filters, PRUNE_KEYS);
  const danglingOnly = danglingValue(filters) ?? true;
  const until = filters.until?.length ? parseTimeFilter(filters.until[0], ctx.now) / 1000 : undefined;
  return (rec) => {
    const labels = rec.config.config?.Labels ?? {};
    if (danglingOnly && ctx.names(rec).length > 0) return false;
    if (until !== undefined && !(unixSeconds(rec.config.created) < until)) return false;
    if (!labelsMatch(filters.label ?? [], labels)) return false;
    if (filters['label!']?.length && labelsMatch(filters['label!'], labels)) return false;
    return true;
  };
}
