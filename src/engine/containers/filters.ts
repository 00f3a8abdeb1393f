import { InvalidParameterError } from '../../errors';
import { labelsMatch } from '../filter-args';
import type { ContainerRecord } from './types';

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const KNOWN = new Set(['id', 'name', 'label', 'status', 'exited', 'ancestor', 'before', 'since', 'health']);
const HEALTH = ['starting', 'healthy', 'unhealthy', 'none'];

/** Checks filter keys and values up front, with dockerd's messages. */
export function validateContainerFilters(filters: Record<string, string[]>): void {
  for (const key of Object.keys(filters)) {
    if (!KNOWN.has(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
  }
  for (const s of filters.status ?? []) {
    if (!STATUSES.includes(s)) throw new InvalidParameterError(`invalid filter 'status=${s}'`);
  }
  for (const h of filters.health ?? []) {
    if (!HEALTH.includes(h)) throw new InvalidParameterError(`Unrecognised filter value for health: ${h}`);
  }
  for (const e of filters.exited ?? []) {
    if (!/^-?\d+$/.test(e)) throw new InvalidParameterError(`invalid filter 'exited=${e}'`);
  }
}

/** Does `c` pass every filter? Values of one key are OR-ed (labels are AND-ed), keys AND-ed. */
export function matchesFilters(
  c: ContainerRecord,
  filters: Record<string, string[]>,
  resolveImage: (ref: string) => string | undefined,
  createdOf: (ref: string) => string | undefined,
): boolean {
  const any = (key: string, pred: (v: string) => boolean) => !filters[key]?.length || filters[key].some(pred);
  const labels = c.config.Labels ?? {};
  if (!labelsMatch(filters.label ?? [], labels)) return false;
  if (!any('id', (v) => c.id.startsWith(v))) return false;
  if (!any('name', (v) => safeRegex(v).test(c.name.slice(1)) || safeRegex(v).test(c.name))) return false;
  if (!any('status', (v) => c.state.Status === v)) return false;
  if (!any('health', (v) => (c.state.Health?.Status ?? 'none') === v)) return false;
  if (!any('exited', (v) => c.state.Status === 'exited' && c.state.ExitCode === Number(v))) return false;
  if (!any('ancestor', (v) => c.config.Image === v || resolveImage(v) === c.image)) return false;
  if (!any('before', (v) => { const t = createdOf(v); return t !== undefined && c.created < t; })) return false;
  if (!any('since', (v) => { const t = createdOf(v); return t !== undefined && c.created > t; })) return false;
  return true;
}

function safeRegex(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch {
    return new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  }
}
