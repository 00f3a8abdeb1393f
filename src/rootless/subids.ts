/**
 * Does the user own a subordinate id range (/etc/subuid, /etc/subgid)? newuidmap/newgidmap map
 * the rootless daemon's user namespace from these; without one rootlesskit can map a single id
 * only and no image with more than one owner could be unpacked. Parsing is the shared one of
 * userns-remap (engine/userns/subid-file.ts).
 */
import { readFileSync } from 'node:fs';
import { parseSubIdFile, rangesOf } from '../engine/userns/subid-file';

/** How many subordinate ids `user` (name or uid, both forms appear in these files) owns in `file`. */
export function subIdCount(file: string, user: { name: string; id: number }): number {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // A missing file holds no range.
  }
  return rangesOf(parseSubIdFile(text), { name: user.name, uid: user.id }).reduce((n, r) => n + r.size, 0);
}
