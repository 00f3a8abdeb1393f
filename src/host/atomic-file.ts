/**
 * Files rewritten while others may read them: the engine's (a container's hosts and resolv.conf,
 * the daemon's ID) and the built-in runtime's plans, which its executor reads.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes a file by temp name + rename so readers never see a torn file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
