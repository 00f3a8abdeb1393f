/**
 * The parts of an OCI runtime spec (config.json) and process (process.json) the plan compiler
 * reads, as opencontainers/runtime-spec names them. Everything is optional: the compiler takes
 * any runc-compatible bundle, not only those Berth writes.
 */
import type { LinuxSeccomp } from './seccomp-bpf';

export interface OciUserSpec {
  uid?: number;
  gid?: number;
  umask?: number;
  additionalGids?: number[];
  username?: string;
}

export interface OciCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface OciProcessSpec {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user?: OciUserSpec;
  args?: string[];
  commandLine?: string;
  env?: string[];
  cwd?: string;
  capabilities?: OciCapabilities;
  rlimits?: Array<{ type: string; hard: number; soft: number }>;
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  apparmorProfile?: string;
  selinuxLabel?: string;
  ioPriority?: unknown;
  scheduler?: unknown;
}

export interface OciMountSpec {
  destination: string;
  source?: string;
  type?: string;
  options?: string[];
  uidMappings?: unknown;
  gidMappings?: unknown;
}

export interface OciHookSpec {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface OciDeviceRule {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

export interface OciResources {
  devices?: OciDeviceRule[];
  memory?: { limit?: number; reservation?: number; swap?: number; kernel?: number; kernelTCP?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string; realtimeRuntime?: number; realtimePeriod?: number; idle?: number };
  pids?: { limit: number };
  blockIO?: { weight?: number; leafWeight?: number; weightDevice?: unknown[]; throttleReadBpsDevice?: unknown[]; throttleWriteBpsDevice?: unknown[]; throttleReadIOPSDevice?: unknown[]; throttleWriteIOPSDevice?: unknown[] };
  hugepageLimits?: unknown[];
  network?: unknown;
  rdma?: unknown;
  unified?: Record<string, string>;
}

export interface OciLinuxSpec {
  namespaces?: Array<{ type: string; path?: string }>;
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
  devices?: Array<{ path: string; type: string; major?: number; minor?: number; fileMode?: number; uid?: number; gid?: number }>;
  cgroupsPath?: string;
  resources?: OciResources;
  sysctl?: Record<string, string>;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  rootfsPropagation?: string;
  mountLabel?: string;
  seccomp?: LinuxSeccomp;
  personality?: unknown;
  intelRdt?: unknown;
  timeOffsets?: unknown;
}

export interface OciRuntimeSpec {
  ociVersion?: string;
  process?: OciProcessSpec;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts?: OciMountSpec[];
  hooks?: Partial<Record<string, OciHookSpec[]>>;
  annotations?: Record<string, string>;
  linux?: OciLinuxSpec;
}
