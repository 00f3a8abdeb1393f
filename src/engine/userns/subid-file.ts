/**
 * /etc/subuid and /etc/subgid (`name-or-id:start:count` a line): parsing, the ranges of one user
 * as dockerd reads them, and the first free range dockerd gives a user it creates (`dockremap`).
 */
import type { IdRange } from './id-map';

export interface SubIdEntry {
  /** A user name or a numeric uid, as written. */
  owner: string;
  start: number;
  count: number;
}

/** Every well-formed line, in file order; blank lines and `#` comments are skipped. */
export function parseSubIdFile(text: string): SubIdEntry[] {
  const out: SubIdEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(':');
    if (parts.length !== 3 || !parts[0]) continue;
    const [owner, start, count] = parts;
    if (!/^\d+$/.test(start) || !/^\d+$/.test(count)) continue;
    out.push({ owner, start: Number(start), count: Number(count) });
  }
  return out;
}

/**
 * The user's ranges (lines naming the user or its uid, in file order) laid end to end from
 * container id 0, as dockerd builds its mapping: the first range holds container root.
 */
export function rangesOf(entries: readonly SubIdEntry[], user: { name: string; uid: number }): IdRange[] {
  const uid = String(user.uid);
  const ranges: IdRange[] = [];
  let containerId = 0;
  for (const e of entries) {
    if (e.owner !== user.name && e.owner !== uid) continue;
    if (e.count === 0) continue;
    ranges.push({ containerId, hostId: e.start, size: e.count });
    containerId += e.count;
  }
  return ranges;
}

/** dockerd's size and lowest start for a range it adds itself. */
export const DEFAULT_RANGE_SIZE = 65536;
export const DEFAULT_RANGE_START = 100000;

/**
 * The start of a free `DEFAULT_RANGE_SIZE` range at or above `DEFAULT_RANGE_START`: past every
 * range it would overlap (dockerd walks the sorted ranges the same way).
 */
export function nextFreeRange(entries: readonly SubIdEntry[]): number {
  let start = DEFAULT_RANGE_START;
  for (const e of [...entries].sort((a, b) => a.start - b.start)) {
    const end = start + DEFAULT_RANGE_SIZE;
    if (start < e.start + e.count && e.start < end) start = e.start + e.count;
  }
  return start;
}
