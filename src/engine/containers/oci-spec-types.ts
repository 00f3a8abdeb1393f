/**
 * Input and output of `buildOciSpec`: plain data in, the OCI runtime-spec `config.json` shape
 * out (the subset Berth writes; field names follow opencontainers/runtime-spec config.md and
 * config-linux.md).
 */
import type { RuntimeResources } from '../../runtime/types';
import type { OciIdMapping } from '../userns/id-map';
import type { OciSeccomp } from './seccomp';

export interface SpecUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

export interface SpecMount {
  destination: string;
  source: string;
  type: string;
  options: string[];
}

export interface SpecRlimit {
  type: string;
  soft: number;
  hard: number;
}

/** A host device made available in the container (`--device`, or every device when privileged). */
export interface SpecDevice {
  /** Path inside the container. */
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
  /** Cgroup permissions, e.g. "rwm". */
  access: string;
}

export interface SpecInput {
  id: string;
  /** Absolute path of the container's root filesystem (the overlay mount). */
  rootfs: string;
  readonlyRootfs: boolean;
  /** Entrypoint + Cmd. */
  args: string[];
  /** The final environment (defaults and Config.Env already merged by the caller). */
  env: string[];
  cwd: string;
  user: SpecUser;
  tty: boolean;
  consoleSize?: { height: number; width: number };
  hostname: string;
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  /** Bytes for the /dev/shm tmpfs. */
  shmSize: number;
  /** Bind mounts and volumes (/etc/hosts, /etc/hostname, /etc/resolv.conf, -v ...). */
  extraMounts: SpecMount[];
  /** Join this network namespace (prepared by the network layer); otherwise a new one. */
  netnsPath?: string;
  /** Share the host's network namespace (`--network host`). */
  hostNetwork?: boolean;
  /** The network namespace is another container's (`--network container:x`): its owner set its sysctls. */
  sharedNetns?: boolean;
  /** IPC, PID and UTS namespaces (`--ipc`, `--pid`, `--uts`): a new one unless host or a path to join. */
  ipcNamespace?: NamespaceChoice;
  pidNamespace?: NamespaceChoice;
  utsNamespace?: NamespaceChoice;
  /**
   * userns-remap: a user namespace with these mappings (the spec's uidMappings/gidMappings), or
   * the namespace at `path` (a peer's whose net, IPC or PID namespace this container joins).
   */
  userNamespace?: { mappings: { uidMappings: OciIdMapping[]; gidMappings: OciIdMapping[] }; path?: string };
  /** cgroupfs path, e.g. `/berth/<id>`. */
  cgroupsPath: string;
  /** 2 gives the container a private cgroup namespace, like dockerd on cgroup v2. */
  cgroupVersion: 1 | 2;
  /** `--ulimit` / daemon default-ulimits. None by default: the container inherits the daemon's
   *  limits (a fixed RLIMIT_NOFILE above the daemon's hard limit fails without CAP_SYS_RESOURCE). */
  rlimits?: SpecRlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  /** User sysctls (`--sysctl`); they override the defaults for a private network namespace. */
  sysctls?: Record<string, string>;
  /** `--device-cgroup-rule` entries, e.g. "c 1:3 mr", "a *:* rwm". */
  deviceCgroupRules?: string[];
  devices?: SpecDevice[];
  resources?: RuntimeResources;
  /** Extra masked paths (dockerd adds /sys/devices/system/cpu/cpuN/thermal_throttle that exist). */
  extraMaskedPaths?: string[];
  /** The seccomp filter (the daemon's or the container's choice), already in the spec's shape; none when absent. */
  seccomp?: OciSeccomp;
  /** HostConfig.MaskedPaths / ReadonlyPaths: when set, they replace the defaults (dockerd's rule). */
  /** `rshared`/`rslave` when a bind mount asks for that propagation (dockerd's rule); else the runtime's default. */
  rootfsPropagation?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
}

/** A namespace of the container: its own, the host's (none in the spec), or one to join. */
export type NamespaceChoice = 'private' | 'host' | { path: string };

export interface OciLinuxDeviceCgroup {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

/** The OCI process (a container's, or an exec's process.json). */
export interface OciProcess {
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
  rlimits?: Array<{ type: string; hard: number; soft: number }>;
  noNewPrivileges: boolean;
  oomScoreAdj: number;
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly: boolean };
  hostname?: string;
  mounts: SpecMount[];
  /** Runtime-specific settings (crun: a precompiled seccomp filter, see seccomp-filter-cache.ts). */
  annotations?: Record<string, string>;
  linux: {
    namespaces: Array<{ type: string; path?: string }>;
    rootfsPropagation?: string;
    uidMappings?: OciIdMapping[];
    gidMappings?: OciIdMapping[];
    devices: Array<{ path: string; type: string; major: number; minor: number; fileMode?: number; uid?: number; gid?: number }>;
    cgroupsPath: string;
    resources: {
      devices: OciLinuxDeviceCgroup[];
      memory?: { limit?: number; swap?: number };
      cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
      pids?: { limit: number };
      hugepageLimits?: Array<{ pageSize: string; limit: number }>;
    };
    sysctl: Record<string, string>;
    maskedPaths: string[];
    readonlyPaths: string[];
    seccomp?: OciSeccomp;
  };
}
