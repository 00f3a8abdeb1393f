/**
 * What a rootless daemon changes in every bundle's spec, for runc and crun alike: cgroups as far
 * as the host delegates them (rootless-cgroups.ts), and the default `ping_group_range`, whose
 * `0 2147483647` the kernel refuses (EINVAL) in a user namespace mapping fewer groups: it becomes
 * `0 <highest mapped gid>`, so unprivileged ping still works for every group the container has.
 */
import { readFileSync } from 'node:fs';
import { rootlessCgroupSpec, type RootlessCgroups } from './rootless-cgroups';
import type { RuntimeSpec } from './types';

const PING_RANGE = 'net.ipv4.ping_group_range';
const DEFAULT_PING_RANGE = '0 2147483647';

export function rootlessSpec(spec: RuntimeSpec, cgroups: RootlessCgroups, highestGid: number): void {
  rootlessCgroupSpec(spec, cgroups);
  const sysctl = spec.linux?.sysctl;
  if (sysctl?.[PING_RANGE] === DEFAULT_PING_RANGE) sysctl[PING_RANGE] = `0 ${highestGid}`;
}

/** The highest gid mapped into this process's user namespace (from /proc/self/gid_map). */
export function highestMappedGid(gidMap = readGidMap()): number {
  let highest = 0;
  for (const line of gidMap.split('\n')) {
    const [inside, , length] = line.trim().split(/\s+/).map(Number);
    if (Number.isFinite(inside) && Number.isFinite(length) && length > 0) highest = Math.max(highest, inside + length - 1);
  }
  return highest;
}

function readGidMap(): string {
  try {
    return readFileSync('/proc/self/gid_map', 'utf8');
  } catch {
    return '0 0 1';
  }
}
