/**
 * The bridge device of a network, created before any container attaches (so the embedded DNS
 * server can bind to the gateway address right away); the CNI bridge plugin then reuses it.
 * A bridge Berth creates is labelled with the alias `berth:<owner>:<network id>`, where <owner>
 * identifies the daemon's data root: only such bridges are ever deleted, so a bridge that
 * existed before (`--bridge` pointing at an admin's device, docker0, another daemon's) is not.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { IpLink, LinkInfo } from './ip-link';
import { parseCidr } from './ipv4';
import { parseCidr6 } from './ipv6';
import type { BridgeNetworkSpec } from './types';

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

/** The owner tag of a daemon: a short hash of its data root. */
export function ownerTag(dataRoot: string): string {
  return createHash('sha256').update(resolve(dataRoot)).digest('hex').slice(0, 12);
}

export function bridgeAlias(owner: string, networkId: string): string {
  return `berth:${owner}:${networkId}`;
}

/** The network id of a bridge this owner created, or undefined. */
export function ownedNetworkId(owner: string, link: LinkInfo): string | undefined {
  const prefix = `berth:${owner}:`;
  if (link.kind !== 'bridge' || !link.alias?.startsWith(prefix)) return undefined;
  return link.alias.slice(prefix.length);
}

export async function ensureBridge(ip: IpLink, owner: string, spec: BridgeNetworkSpec): Promise<void> {
  const link = await ip.get(spec.bridge);
  if (!link) {
    await ip.addBridge(spec.bridge, { mtu: spec.mtu, alias: bridgeAlias(owner, spec.id) });
  } else if (link.kind !== 'bridge') {
    throw new Error(`network interface ${spec.bridge} exists and is not a bridge`);
  }
  await ip.ensureAddress(spec.bridge, `${spec.gateway}/${parseCidr(spec.subnet).bits}`);
  if (spec.ipv6) {
    // As dockerd does: IPv6 may be off by default (sysctl) on new devices; the bridge needs it.
    await writeFile(`/proc/sys/net/ipv6/conf/${spec.bridge}/disable_ipv6`, '0\n');
    await ip.ensureAddress(spec.bridge, `${spec.ipv6.gateway}/${parseCidr6(spec.ipv6.subnet)!.prefixLen}`, { nodad: true });
  }
  await ip.setUp(spec.bridge);
  if (!spec.internal) await enableIpForward();
}

/** Deletes the bridge if this owner created it for this network; returns whether it did. */
export async function removeBridge(ip: IpLink, owner: string, spec: BridgeNetworkSpec): Promise<boolean> {
  const link = await ip.get(spec.bridge);
  if (!link || ownedNetworkId(owner, link) !== spec.id) return false;
  await ip.delete(spec.bridge);
  return true;
}

async function enableIpForward(): Promise<void> {
  if ((await readFile(IP_FORWARD, 'utf8')).trim() === '1') return;
  await writeFile(IP_FORWARD, '1\n');
}
