import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Bytes of everything but directories under `dir`, each inode counted once (hard links), as
 * dockerd measures layers, containers' writable layers and volumes (moby's directory.Size).
 * Entries that vanish while it walks (a running container's files) are skipped.
 */
export async function treeSize(dir: string, seen = new Set<string>()): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      total += await treeSize(path, seen);
      continue;
    }
    const st = await lstat(path).catch(() => undefined);
    if (!st) continue;
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) continue;
    seen.add(key);
    total += st.size;
  }
  return total;
}
