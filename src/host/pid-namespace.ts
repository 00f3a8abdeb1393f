/**
 * The processes that share a process's pid namespace, read from /proc: a container's processes
 * where it has no cgroup to list them (a rootless daemon on cgroup v1).
 */
import { readdir, readlink } from 'node:fs/promises';

export async function pidsInNamespaceOf(pid: number): Promise<number[]> {
  const ns = await readlink(`/proc/${pid}/ns/pid`).catch(() => undefined);
  if (!ns) return [];
  // The daemon's own namespace (`--pid=host`) would be every process on the host: the one only.
  if (ns === (await readlink('/proc/self/ns/pid').catch(() => undefined))) return [pid];
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    if ((await readlink(`/proc/${name}/ns/pid`).catch(() => undefined)) === ns) out.push(Number(name));
  }
  return out.sort((a, b) => a - b);
}
