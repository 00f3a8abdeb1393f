/**
 * The HostConfig fields that become the container process's limits and privileges:
 * memory/CPU/PIDs (cgroup resources), ulimits, devices, `no-new-privileges`, with dockerd's
 * checks and messages (`[moby] daemon/daemon_unix.go` verifyPlatformContainerResources,
 * `opts/ulimit`, `daemon/oci_linux.go`).
 */
import { statSync } from 'node:fs';
import { cpus } from 'node:os';
import type { RuntimeResources } from '../../runtime/types';
import { InvalidParameterError } from '../../errors';
import type { SpecDevice, SpecRlimit } from './oci-spec-types';
import type { HostConfig } from './types';

const MIN_MEMORY = 6 * 1024 * 1024;
const CPU_PERIOD = 100_000;

const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v !== 0 ? v : undefined);

/** cgroup resources of a create or update request; 400 for what dockerd refuses. */
export function hostResources(hc: HostConfig): RuntimeResources {
  const memory = int(hc.Memory);
  const swap = int(hc.MemorySwap);
  const nano = int(hc.NanoCpus);
  const quota = int(hc.CpuQuota);
  const period = int(hc.CpuPeriod);
  if (memory !== undefined && memory < MIN_MEMORY) throw new InvalidParameterError('Minimum memory limit allowed is 6MB');
  if (swap !== undefined && swap > 0 && memory === undefined) throw new InvalidParameterError('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (swap !== undefined && swap > 0 && memory !== undefined && swap < memory) throw new InvalidParameterError('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (nano !== undefined && (quota !== undefined || period !== undefined)) throw new InvalidParameterError('Conflicting options: Nano CPUs and CPU Period/Quota cannot both be set');
  if (nano !== undefined && (nano < 0.01e9 || nano > cpus().length * 1e9)) {
    throw new InvalidParameterError(`Range of CPUs is from 0.01 to ${cpus().length}.00, as there are only ${cpus().length} CPUs available`);
  }
  const shares = int(hc.CpuShares);
  if (shares !== undefined && shares < 0) throw new InvalidParameterError(`invalid CPU shares (${shares}): value must be a positive integer`);
  if (period !== undefined && (period < 1000 || period > 1_000_000)) {
    throw new InvalidParameterError('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  // -1 is "no limit"; any other value below 1000 fails in the kernel at start.
  if (quota !== undefined && quota !== -1 && quota < 1000) throw new InvalidParameterError('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  const reservation = int(hc.MemoryReservation);
  if (reservation !== undefined && reservation < MIN_MEMORY) throw new InvalidParameterError('Minimum memory reservation allowed is 6MB');
  if (memory !== undefined && reservation !== undefined && memory < reservation) {
    throw new InvalidParameterError('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  const oomScoreAdj = int((hc as { OomScoreAdj?: unknown }).OomScoreAdj);
  if (oomScoreAdj !== undefined && (oomScoreAdj < -1000 || oomScoreAdj > 1000)) {
    throw new InvalidParameterError(`Invalid value ${oomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  }
  const blkioWeight = int((hc as { BlkioWeight?: unknown }).BlkioWeight);
  if (blkioWeight !== undefined && (blkioWeight < 10 || blkioWeight > 1000)) throw new InvalidParameterError('Range of blkio weight is from 10 to 1000');
  const pids = typeof hc.PidsLimit === 'number' && hc.PidsLimit !== 0 ? (hc.PidsLimit < 0 ? -1 : hc.PidsLimit) : undefined;
  const out: RuntimeResources = {};
  if (memory !== undefined) out.memory = memory;
  if (swap !== undefined) out.memorySwap = swap;
  if (int(hc.CpuShares) !== undefined) out.cpuShares = hc.CpuShares as number;
  if (nano !== undefined) {
    out.cpuPeriod = CPU_PERIOD;
    out.cpuQuota = Math.round((nano * CPU_PERIOD) / 1e9);
  }
  if (quota !== undefined) out.cpuQuota = quota;
  if (period !== undefined) out.cpuPeriod = period;
  if (typeof hc.CpusetCpus === 'string' && hc.CpusetCpus) {
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(hc.CpusetCpus)) throw new InvalidParameterError(`Invalid value ${hc.CpusetCpus} for cpuset cpus`);
    out.cpusetCpus = hc.CpusetCpus;
  }
  if (typeof hc.CpusetMems === 'string' && hc.CpusetMems) {
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(hc.CpusetMems)) throw new InvalidParameterError(`Invalid value ${hc.CpusetMems} for cpuset mems`);
    out.cpusetMems = hc.CpusetMems;
  }
  if (pids !== undefined) out.pidsLimit = pids;
  // Not a Docker field: the CRI's hugepage limits (`[{ PageSize: "2MB", Limit: bytes }]`).
  const huge = Array.isArray(hc.HugepageLimits) ? (hc.HugepageLimits as Array<{ PageSize?: unknown; Limit?: unknown }>) : [];
  for (const h of huge) {
    if (typeof h.PageSize !== 'string' || !/^\d+[KMGT]B$/.test(h.PageSize) || typeof h.Limit !== 'number' || h.Limit < 0) throw new InvalidParameterError(`invalid hugepage limit ${JSON.stringify(h)}`);
  }
  if (huge.length) out.hugepageLimits = huge.map((h) => ({ pageSize: h.PageSize as string, limit: h.Limit as number }));
  return out;
}

interface Ulimit {
  Name?: string;
  Soft?: number;
  Hard?: number;
}

/** `--ulimit nofile=1024:2048` as OCI rlimits (`RLIMIT_NOFILE`). */
export function ulimits(hc: HostConfig): SpecRlimit[] {
  const list = (hc.Ulimits ?? []) as Ulimit[];
  return list.map((u) => {
    const name = String(u.Name ?? '').toLowerCase();
    if (!/^[a-z]+$/.test(name)) throw new InvalidParameterError(`invalid ulimit type: ${u.Name}`);
    const soft = Number(u.Soft ?? 0);
    const hard = Number(u.Hard ?? soft);
    if (soft > hard) throw new InvalidParameterError(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
    return { type: `RLIMIT_${name.toUpperCase()}`, soft, hard };
  });
}

/** `--security-opt no-new-privileges[=true|:true]`. */
export function noNewPrivileges(hc: HostConfig): boolean {
  return ((hc.SecurityOpt ?? []) as string[]).some((o) => /^no-new-privileges([:=]true)?$/.test(o));
}

interface DeviceMapping {
  PathOnHost?: string;
  PathInContainer?: string;
  CgroupPermissions?: string;
}

/** `--device /dev/x[:/dev/y][:rwm]`: the host node's type and numbers, allowed in the cgroup. */
export function hostDevices(hc: HostConfig): SpecDevice[] {
  return ((hc.Devices ?? []) as DeviceMapping[]).map((d) => {
    const host = String(d.PathOnHost ?? '');
    let st;
    try {
      st = statSync(host);
    } catch {
      throw new InvalidParameterError(`error gathering device information while adding custom device "${host}": no such file or directory`);
    }
    if (!st.isCharacterDevice() && !st.isBlockDevice()) throw new InvalidParameterError(`error gathering device information while adding custom device "${host}": not a device node`);
    return {
      path: d.PathInContainer || host,
      type: st.isCharacterDevice() ? 'c' : 'b',
      major: Math.floor(st.rdev / 256) & 0xfff,
      minor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00),
      fileMode: st.mode & 0o777,
      uid: 0,
      gid: 0,
      access: d.CgroupPermissions || 'rwm',
    };
  });
}
