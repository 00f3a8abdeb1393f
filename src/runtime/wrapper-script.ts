/**
 * Shell scripts Berth generates and runs in place of a runtime binary where the runtime needs a
 * tweak of its surroundings (crun on hybrid cgroup hosts, runsc's start on newer kernels): the
 * quoting they are written with and their atomic, owner-only write.
 */
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `s` as one sh word. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Write the script `<dir>/<fileName>` atomically, executable by its owner only; returns its path. */
export async function writeWrapperScript(dir: string, fileName: string, text: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const target = join(dir, fileName);
  const tmp = `${target}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o700 });
  await chmod(tmp, 0o700);
  await rename(tmp, target);
  return target;
}
