/**
 * Reading host-local's on-disk state (`<dataDir>/<network>/<ip>`, each file holding
 * `<containerId>\r\n<ifname>`; plus `last_reserved_ip.N` and `lock`). Berth reads it to reject a
 * taken static address with a clear error before running the plugin, and to find allocations of
 * containers that no longer exist when the daemon starts. Writes stay the plugin's business,
 * except removing a whole network's directory and putting back the `last_reserved_ip.N` cursors
 * after a static allocation (dockerd's next dynamic address does not jump past a static one).
 */
import { readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isIpv4 } from './ipv4';
import { isIpv6 } from './ipv6';

export interface IpamAllocation {
  ip: string;
  containerId: string;
  ifname: string;
}

export async function readAllocations(ipamDir: string, network: string): Promise<IpamAllocation[]> {
  let names: string[];
  try {
    names = await readdir(join(ipamDir, network));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: IpamAllocation[] = [];
  for (const ip of names.filter((n) => isIpv4(n) || isIpv6(n))) {
    const alloc = await readAllocation(ipamDir, network, ip);
    if (alloc) out.push(alloc);
  }
  return out;
}

export async function readAllocation(ipamDir: string, network: string, ip: string): Promise<IpamAllocation | undefined> {
  try {
    const [containerId = '', ifname = ''] = (await readFile(join(ipamDir, network, ip), 'utf8')).split(/\r?\n/);
    return { ip, containerId: containerId.trim(), ifname: ifname.trim() };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function removeAllocation(ipamDir: string, network: string, ip: string): Promise<void> {
  await unlink(join(ipamDir, network, ip)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

export async function listIpamNetworks(ipamDir: string): Promise<string[]> {
  try {
    return (await readdir(ipamDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function removeIpamNetwork(ipamDir: string, network: string): Promise<void> {
  await rm(join(ipamDir, network), { recursive: true, force: true });
}

/** host-local's per-range allocation cursors (`last_reserved_ip.<range index>` → address). */
export async function readCursors(ipamDir: string, network: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let names: string[];
  try {
    names = await readdir(join(ipamDir, network));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const name of names.filter((n) => /^last_reserved_ip\.\d+$/.test(n))) {
    out.set(name, await readFile(join(ipamDir, network, name), 'utf8'));
  }
  return out;
}

/** Puts the cursors back as `readCursors` found them (removing ones that did not exist). */
export async function restoreCursors(ipamDir: string, network: string, before: ReadonlyMap<string, string>): Promise<void> {
  for (const name of (await readCursors(ipamDir, network)).keys()) {
    const old = before.get(name);
    if (old === undefined) await unlink(join(ipamDir, network, name)).catch(() => undefined);
    else await writeFile(join(ipamDir, network, name), old);
  }
}
