/**
 * A daemon whose runtimes can place containers in no cgroup (rootless on cgroup v1, or v2 without
 * delegation) drops every cgroup limit of a create request with dockerd's own warning for each
 * (`[moby] daemon/daemon_unix.go` verifyPlatformContainerResources with no cgroup support), and
 * refuses `--cpus` as dockerd does there. The stored HostConfig is the one without the limits.
 */
import { InvalidParameterError } from '../../errors';
import type { HostConfig } from './types';

const set = (v: unknown): boolean => typeof v === 'number' && v !== 0;
const listed = (v: unknown): boolean => Array.isArray(v) && v.length > 0;

export function discardCgroupLimits(hc: HostConfig): { hostConfig: HostConfig; warnings: string[] } {
  const out: HostConfig = { ...hc };
  const warnings: string[] = [];
  const r = out as Record<string, unknown>;
  if (typeof r.Memory === 'number' && r.Memory > 0) {
    warnings.push('Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
    r.Memory = 0;
    r.MemorySwap = -1;
  } else if (typeof r.MemorySwap === 'number' && r.MemorySwap > 0) {
    // --memory-swap without --memory: dockerd's own refusal still applies.
    throw new InvalidParameterError('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (typeof r.MemorySwappiness === 'number' && r.MemorySwappiness !== -1) {
    warnings.push('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
  }
  if (r.MemorySwappiness !== undefined) r.MemorySwappiness = null;
  if (typeof r.MemoryReservation === 'number' && r.MemoryReservation > 0) {
    warnings.push('Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.');
    r.MemoryReservation = 0;
  }
  if (typeof r.KernelMemory === 'number' && r.KernelMemory > 0) {
    warnings.push('Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
    r.KernelMemory = 0;
  }
  if (r.OomKillDisable === true) warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
  if (r.OomKillDisable !== undefined) r.OomKillDisable = null;
  if (typeof r.PidsLimit === 'number') {
    if (r.PidsLimit > 0) warnings.push('Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.');
    r.PidsLimit = null;
  }
  if (typeof r.NanoCpus === 'number' && r.NanoCpus > 0) {
    throw new InvalidParameterError('NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted');
  }
  if (typeof r.CpuShares === 'number' && r.CpuShares > 0) {
    warnings.push('Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.');
    r.CpuShares = 0;
  }
  if (set(r.CpuPeriod) || set(r.CpuQuota)) {
    warnings.push('Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.');
    r.CpuPeriod = 0;
    r.CpuQuota = 0;
  }
  if (r.CpusetCpus || r.CpusetMems) {
    warnings.push('Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
    r.CpusetCpus = '';
    r.CpusetMems = '';
  }
  if (typeof r.BlkioWeight === 'number' && r.BlkioWeight > 0) {
    warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
    r.BlkioWeight = 0;
  }
  const devices: Array<[string, string]> = [
    ['BlkioWeightDevice', 'Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.'],
    ['BlkioDeviceReadBps', 'Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.'],
    ['BlkioDeviceWriteBps', 'Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.'],
    ['BlkioDeviceReadIOps', 'Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.'],
    ['BlkioDeviceWriteIOps', 'Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.'],
  ];
  for (const [field, warning] of devices) {
    if (!listed(r[field])) continue;
    warnings.push(warning);
    r[field] = [];
  }
  return { hostConfig: out, warnings };
}
