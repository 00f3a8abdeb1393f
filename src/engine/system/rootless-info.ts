/**
 * `docker info` of a rootless daemon, as dockerd's: SecurityOptions lists `name=rootless`; without
 * usable cgroups (v1 hosts, or v2 without delegation) the cgroup driver is `none`, no limit is
 * supported and Warnings carries dockerd's own rootless-without-cgroups warning.
 */

export interface RootlessInfo {
  /** The daemon can place containers in cgroups (v2 with delegation). */
  cgroups: boolean;
}

const NO_CGROUPS_V1 = 'WARNING: Running in rootless-mode without cgroups. To enable cgroups in rootless-mode, you need to boot the system in cgroup v2 mode.';
const NO_CGROUPS_V2 = 'WARNING: Running in rootless-mode without cgroups. Systemd is required to enable cgroups in rootless-mode.';

interface InfoFields {
  CgroupVersion: string;
  SecurityOptions: string[];
  Warnings: string[];
}

export function withRootlessInfo<T extends InfoFields>(info: T, rootless: RootlessInfo): T {
  const out = { ...info, SecurityOptions: [...info.SecurityOptions, 'name=rootless'] };
  if (rootless.cgroups) return out;
  return {
    ...out,
    CgroupDriver: 'none',
    MemoryLimit: false,
    SwapLimit: false,
    CpuCfsPeriod: false,
    CpuCfsQuota: false,
    CPUShares: false,
    CPUSet: false,
    PidsLimit: false,
    OomKillDisable: false,
    Warnings: [...info.Warnings, info.CgroupVersion === '2' ? NO_CGROUPS_V2 : NO_CGROUPS_V1],
  };
}
