/**
 * Does the user own a subordinate id range (/etc/subuid, /etc/subgid)? newuidmap/newgidmap map
 * the rootless daemon's user namespace from these; without one rootlesskit can map a single id
 * only and no image with more than one owner could be unpacked.
 */
import { readFileSync } from 'node:fs';

export interface SubIdRange {
  start: number;
  count: number;
}

/** Ranges of `user` (name or uid, both forms appear in these files) in a subuid/subgid text. */
export function subIdRanges(text: string, user: { name: string; id: number }): SubIdRange[] {
  const out: SubIdRange[] = [];
  for (const line of text.split('\n')) {
    const [owner, start, count] = line.trim().split(':');
    if (owner !== user.name && owner !== String(user.id)) continue;
    if (!/^\d+$/.test(start ?? '') || !/^\d+$/.test(count ?? '') || Number(count) === 0) continue;
    out.push({ start: Number(start), count: Number(count) });
  }
  return out;
}

export function readSubIdRanges(file: string, user: { name: string; id: number }): SubIdRange[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // A missing file holds no range.
  }
  return subIdRanges(text, user);
}
