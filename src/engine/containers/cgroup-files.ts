/**
 * Where a container's cgroup lives on the host: Berth gives every container the cgroupfs path
 * `/berth/<id>` (see starter.ts), under each v1 controller or once in the v2 hierarchy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';

export const containerCgroupPath = (id: string) => `/berth/${id}`;

/** The container's directory for `controller` (v1), or its one directory (v2). */
export function cgroupDir(version: 1 | 2, id: string, controller: string): string {
  return version === 2 ? join(CGROUP_ROOT, containerCgroupPath(id)) : join(CGROUP_ROOT, controller, containerCgroupPath(id));
}

/** Every process in the container (its exec sessions included). */
export async function containerPids(version: 1 | 2, id: string): Promise<number[]> {
  const text = await readFile(join(cgroupDir(version, id, 'pids'), 'cgroup.procs'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

let hugetlb: boolean | undefined;

/**
 * Whether the host has the hugetlb controller (v1: its hierarchy; v2: listed at the root).
 * kubelet asks a zero limit for every page size the node has, and a runtime fails to apply a
 * limit without the controller; containerd leaves hugetlb alone by default for that reason.
 */
export function hugetlbAvailable(version: 1 | 2): boolean {
  if (hugetlb === undefined) {
    try {
      hugetlb = version === 2 ? readFileSync(join(CGROUP_ROOT, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('hugetlb') : existsSync(join(CGROUP_ROOT, 'hugetlb'));
    } catch {
      hugetlb = false;
    }
  }
  return hugetlb;
}
