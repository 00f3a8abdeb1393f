/**
 * `docker events --filter`, with dockerd's matching (`[moby] daemon/events/filter.go`): keys are
 * AND-ed, values of one key OR-ed; containers match by ID (prefix) or name, images by ID or
 * reference (a tag-less one means any tag), `event` also by the part before `:`
 * (`health_status: healthy` matches `health_status`).
 */
import { labelsMatch, validateFilterKeys, type Filters } from '../filter-args';
import type { EventMessage } from './event-log';

const KEYS = new Set(['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume']);

export function eventFilter(filters: Filters): (e: EventMessage) => boolean {
  validateFilterKeys(filters, KEYS);
  const has = (k: string) => (filters[k]?.length ?? 0) > 0;
  return (e) => {
    const attrs = e.Actor.Attributes;
    if (has('type') && !filters.type.includes(e.Type)) return false;
    if (has('event')) {
      const base = e.Action.includes(':') ? e.Action.slice(0, e.Action.indexOf(':')) : e.Action;
      if (!filters.event.includes(e.Action) && !filters.event.includes(base)) return false;
    }
    if (has('scope') && !filters.scope.includes('local')) return false;
    if (has('daemon') && !(e.Type === 'daemon' && (filters.daemon.includes(e.Actor.ID) || filters.daemon.includes(attrs.name ?? '')))) return false;
    if (has('label') && !labelsMatch(filters.label, attrs)) return false;
    if (has('container') && !(e.Type === 'container' && nameOrIdMatches(filters.container, e.Actor.ID, attrs.name))) return false;
    if (has('network') && !(e.Type === 'network' && nameOrIdMatches(filters.network, e.Actor.ID, attrs.name))) return false;
    if (has('volume') && !(e.Type === 'volume' && filters.volume.includes(e.Actor.ID))) return false;
    if (has('image')) {
      const candidates = e.Type === 'image' ? [e.Actor.ID, attrs.name] : e.Type === 'container' ? [attrs.image] : [];
      if (!filters.image.some((f) => candidates.some((c) => c !== undefined && imageMatches(f, c)))) return false;
    }
    for (const k of ['config', 'node', 'plugin', 'secret', 'service']) if (has(k)) return false; // swarm/plugins: none here
    return true;
  };
}

function nameOrIdMatches(values: string[], id: string, name: string | undefined): boolean {
  return values.some((v) => v === name || (v.length > 0 && id.startsWith(v)));
}

/** `busybox` matches `busybox` and `busybox:<any tag>`; IDs with or without `sha256:`. */
function imageMatches(filter: string, candidate: string): boolean {
  if (filter === candidate) return true;
  const strip = (s: string) => s.replace(/^sha256:/, '');
  if (/^(sha256:)?[0-9a-f]{12,64}$/.test(filter) && strip(candidate).startsWith(strip(filter))) return true;
  const colon = candidate.lastIndexOf(':');
  const repo = colon > candidate.lastIndexOf('/') ? candidate.slice(0, colon) : candidate;
  return !filter.includes(':') && filter === repo;
}
