/**
 * kubelet's side of a pod network for a test daemon: a bridge conflist (bridge + host-local +
 * portmap, as a kubeadm node's CNI set-up) written into the daemon's own CNI directory, on a
 * bridge and subnet of its own, and the cleanup that removes the bridge again.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Berth } from '../harness';
import { freeSubnet } from '../network/free-subnet';

export interface PodNetwork {
  bridge: string;
  /** e.g. 10.199.7.0/24 */
  subnet: string;
  /** The bridge's address, the pods' gateway. */
  gateway: string;
  remove(): void;
}

export function writePodNetwork(berth: Berth, name = 'pods'): PodNetwork {
  const bridge = `bc${randomBytes(3).toString('hex')}`;
  const subnet = freeSubnet(199);
  const gateway = subnet.replace(/\.0\/24$/, '.1');
  mkdirSync(berth.cniConfDir, { recursive: true });
  const conflist = {
    cniVersion: '0.4.0',
    name,
    plugins: [
      { type: 'bridge', bridge, isGateway: true, ipMasq: false, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet, gateway }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(berth.dir, 'cni-ipam') } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  writeFileSync(join(berth.cniConfDir, `10-${name}.conflist`), JSON.stringify(conflist, null, 2));
  return { bridge, subnet, gateway, remove: () => void spawnSync('ip', ['link', 'del', bridge]) };
}
