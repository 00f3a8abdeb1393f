/**
 * kubelet's CNI configuration directory, read as containerd and CRI-O read it: the first file
 * (in name order) ending in .conflist, .conf or .json that parses is the pod network. A single
 * plugin `.conf` becomes a one-plugin list. No usable file means the network is not ready.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface PodNetworkConf {
  /** The file it came from. */
  file: string;
  name: string;
  cniVersion: string;
  /** The configuration list as the plugins receive it. */
  conflist: { cniVersion: string; name: string; plugins: Array<Record<string, unknown>> };
}

const EXTENSIONS = ['.conflist', '.conf', '.json'];

/** The pod network of `dir`, or why there is none (the reason is NetworkReady's message). */
export async function readPodNetworkConf(dir: string): Promise<PodNetworkConf | { missing: string }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => EXTENSIONS.some((e) => n.endsWith(e))).sort();
  } catch {
    names = [];
  }
  for (const name of names) {
    const file = join(dir, name);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    } catch {
      continue;
    }
    const cniVersion = typeof parsed.cniVersion === 'string' ? parsed.cniVersion : '0.4.0';
    const netName = typeof parsed.name === 'string' ? parsed.name : '';
    if (!netName) continue;
    if (name.endsWith('.conflist')) {
      const plugins = Array.isArray(parsed.plugins) ? (parsed.plugins as Array<Record<string, unknown>>) : [];
      if (plugins.length === 0) continue;
      return { file, name: netName, cniVersion, conflist: { cniVersion, name: netName, plugins } };
    }
    if (typeof parsed.type !== 'string') continue;
    const plugin = { ...parsed };
    delete plugin.name;
    delete plugin.cniVersion;
    return { file, name: netName, cniVersion, conflist: { cniVersion, name: netName, plugins: [plugin] } };
  }
  return { missing: `cni config uninitialized: no network config found in ${dir}` };
}
