/**
 * A CRI ContainerConfig as the container engine's create options: the pure translation, with
 * kubelet's meanings (command = entrypoint, args = cmd), containerd's defaults (no seccomp and
 * no masked paths unless asked for) and the pod's namespaces joined through the sandbox's infra
 * container (`container:<sandbox id>`).
 */
import { posix } from 'node:path';
import { InvalidParameterError } from '../errors';
import type { ContainerConfig, CreateContainerOptions, HostConfig } from '../engine/containers/types';
import { criLabels } from './cri-labels';
import { clampOomScoreAdj } from './oom-score';
import type { ContainerConfig__Output } from './generated/runtime/v1/ContainerConfig';
import type { LinuxContainerResources, LinuxContainerResources__Output } from './generated/runtime/v1/LinuxContainerResources';
import type { LinuxContainerSecurityContext__Output } from './generated/runtime/v1/LinuxContainerSecurityContext';
import type { Mount__Output } from './generated/runtime/v1/Mount';
import type { PodSandboxConfig__Output } from './generated/runtime/v1/PodSandboxConfig';
import type { ContainerMetadata__Output } from './generated/runtime/v1/ContainerMetadata';

export interface SandboxRef {
  id: string;
  config: PodSandboxConfig__Output;
  /** The runtime of the sandbox's infra container (an engine runtime name), '' for the default. */
  runtimeHandler: string;
}

export interface TranslateDeps {
  /** Reads a Localhost seccomp profile (a JSON file on the node). */
  readProfile(path: string): string;
  /** The lowest oom_score_adj the daemon may give (oom-score.ts); undefined: no floor. */
  oomScoreFloor?: number;
}

/** A CRI container's name, as containerd and cri-dockerd make it. */
export function containerName(m: ContainerMetadata__Output, pod: PodSandboxConfig__Output): string {
  const p = pod.metadata;
  return `k8s_${m.name}_${p?.name ?? ''}_${p?.namespace ?? ''}_${p?.uid ?? ''}_${m.attempt}`;
}

/** Where kubelet reads the container's log: `<log_directory>/<log_path>`, or none. */
export function criLogPath(pod: PodSandboxConfig__Output, config: ContainerConfig__Output): string | undefined {
  if (!pod.log_directory || !config.log_path) return undefined;
  return posix.join(pod.log_directory, config.log_path);
}

export function createOptions(config: ContainerConfig__Output, sandbox: SandboxRef, deps: TranslateDeps): CreateContainerOptions {
  const metadata = config.metadata;
  if (!metadata?.name) throw new InvalidParameterError('container config must include metadata with a name');
  const image = config.image?.image;
  if (!image) throw new InvalidParameterError('container config must include an image');
  const sc = config.linux?.security_context ?? null;
  const engineConfig: ContainerConfig = {
    Image: image,
    // An empty command keeps the image's entrypoint; a command without args drops the image's cmd.
    ...(config.command?.length ? { Entrypoint: config.command } : {}),
    ...(config.args?.length ? { Cmd: config.args } : {}),
    ...(config.working_dir ? { WorkingDir: config.working_dir } : {}),
    Env: (config.envs ?? []).map((e) => `${e.key}=${e.value}`),
    ...(userOf(sc) ? { User: userOf(sc) } : {}),
    Tty: !!config.tty,
    OpenStdin: !!config.stdin,
    StdinOnce: !!config.stdin_once,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Labels: criLabels('container', { metadata, labels: config.labels ?? {}, annotations: config.annotations ?? {}, config, sandboxId: sandbox.id }),
  };
  const hostConfig: HostConfig = {
    ...namespaceModes(sandbox.id, sc),
    ...(sandbox.runtimeHandler ? { Runtime: sandbox.runtimeHandler } : {}),
    ...(sandbox.config.linux?.cgroup_parent ? { CgroupParent: sandbox.config.linux.cgroup_parent } : {}),
    Binds: (config.mounts ?? []).map(bindOf),
    Devices: (config.devices ?? []).map((d) => ({ PathOnHost: d.host_path, PathInContainer: d.container_path, CgroupPermissions: d.permissions || 'rwm' })),
    ...resourcesOf(config.linux?.resources ?? null, deps.oomScoreFloor),
    ...securityOf(sc, deps),
    RestartPolicy: { Name: 'no' },
  };
  const logPath = criLogPath(sandbox.config, config);
  return { name: containerName(metadata, sandbox.config), config: engineConfig, hostConfig, ...(logPath ? { monitorLogPath: logPath } : {}) };
}

/** Network and IPC are the pod's; PID per the namespace options (CONTAINER: its own). */
function namespaceModes(sandboxId: string, sc: LinuxContainerSecurityContext__Output | null): Pick<HostConfig, 'NetworkMode' | 'IpcMode' | 'PidMode'> {
  const ns = sc?.namespace_options;
  const pod = `container:${sandboxId}`;
  let pid = '';
  if (ns?.pid === 'POD') pid = pod;
  else if (ns?.pid === 'NODE') pid = 'host';
  else if (ns?.pid === 'TARGET') {
    if (!ns.target_id) throw new InvalidParameterError('target PID namespace requires a target_id');
    pid = `container:${ns.target_id}`;
  }
  return { NetworkMode: pod, IpcMode: pod, PidMode: pid };
}

const PROPAGATION = { PROPAGATION_PRIVATE: 'rprivate', PROPAGATION_HOST_TO_CONTAINER: 'rslave', PROPAGATION_BIDIRECTIONAL: 'rshared' } as const;

/** `host:container[:ro,<propagation>]`; a missing host directory is created at start, as containerd does. */
function bindOf(m: Mount__Output): string {
  if (!m.host_path || !m.container_path) throw new InvalidParameterError('a mount needs a host_path and a container_path');
  const opts = [m.readonly ? 'ro' : 'rw', PROPAGATION[m.propagation as keyof typeof PROPAGATION] ?? 'rprivate'];
  return `${m.host_path}:${m.container_path}:${opts.join(',')}`;
}

const int64 = (v: string | number | undefined | null): number => {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
};

/** The CRI's Linux resources as HostConfig limits (zero: not set). */
export function resourcesOf(r: LinuxContainerResources__Output | null, oomScoreFloor?: number): Partial<HostConfig> {
  if (!r) return {};
  const out: Partial<HostConfig> = {};
  const set = (key: string, v: number) => {
    if (v) out[key] = v;
  };
  set('CpuPeriod', int64(r.cpu_period));
  set('CpuQuota', int64(r.cpu_quota));
  set('CpuShares', int64(r.cpu_shares));
  set('Memory', int64(r.memory_limit_in_bytes));
  set('MemorySwap', int64(r.memory_swap_limit_in_bytes));
  set('OomScoreAdj', clampOomScoreAdj(int64(r.oom_score_adj), oomScoreFloor));
  if (r.cpuset_cpus) out.CpusetCpus = r.cpuset_cpus;
  if (r.cpuset_mems) out.CpusetMems = r.cpuset_mems;
  if (r.hugepage_limits?.length) out.HugepageLimits = r.hugepage_limits.map((h) => ({ PageSize: h.page_size, Limit: int64(h.limit) }));
  return out;
}

/** The limits a container has now (its HostConfig), as ContainerStatus reports them. */
export function resourcesFromHostConfig(hc: HostConfig): LinuxContainerResources {
  const n = (v: unknown) => (typeof v === 'number' ? v : 0);
  const huge = Array.isArray(hc.HugepageLimits) ? (hc.HugepageLimits as Array<{ PageSize: string; Limit: number }>) : [];
  return {
    cpu_period: n(hc.CpuPeriod),
    cpu_quota: n(hc.CpuQuota),
    cpu_shares: n(hc.CpuShares),
    memory_limit_in_bytes: n(hc.Memory),
    memory_swap_limit_in_bytes: n(hc.MemorySwap),
    oom_score_adj: n(hc.OomScoreAdj),
    cpuset_cpus: typeof hc.CpusetCpus === 'string' ? hc.CpusetCpus : '',
    cpuset_mems: typeof hc.CpusetMems === 'string' ? hc.CpusetMems : '',
    hugepage_limits: huge.map((h) => ({ page_size: h.PageSize, limit: h.Limit })),
  };
}

/** run_as_user / run_as_username with run_as_group, as the engine's `user[:group]`. */
function userOf(sc: LinuxContainerSecurityContext__Output | null): string | undefined {
  if (!sc) return undefined;
  const user = sc.run_as_user ? String(sc.run_as_user.value) : sc.run_as_username || '';
  const group = sc.run_as_group ? String(sc.run_as_group.value) : '';
  if (group && !user) throw new InvalidParameterError(`user group "${group}" is specified without user`);
  if (!user) return undefined;
  return group ? `${user}:${group}` : user;
}

function securityOf(sc: LinuxContainerSecurityContext__Output | null, deps: TranslateDeps): Partial<HostConfig> {
  const securityOpt = [seccompOpt(sc, deps)];
  if (sc?.no_new_privs) securityOpt.push('no-new-privileges');
  return {
    ...(sc?.privileged ? { Privileged: true } : {}),
    ...(sc?.readonly_rootfs ? { ReadonlyRootfs: true } : {}),
    ...(sc?.capabilities?.add_capabilities?.length ? { CapAdd: sc.capabilities.add_capabilities.map(capName) } : {}),
    ...(sc?.capabilities?.drop_capabilities?.length ? { CapDrop: sc.capabilities.drop_capabilities.map(capName) } : {}),
    ...(sc?.supplemental_groups?.length ? { GroupAdd: sc.supplemental_groups.map(String) } : {}),
    // containerd: the lists as given, none when empty (not the engine's defaults).
    MaskedPaths: sc?.masked_paths ?? [],
    ReadonlyPaths: sc?.readonly_paths ?? [],
    SecurityOpt: securityOpt,
  };
}

/** "ALL" stays "ALL"; other names get the `CAP_` prefix the engine's lists use. */
function capName(c: string): string {
  const up = c.toUpperCase();
  return up === 'ALL' || up.startsWith('CAP_') ? up : `CAP_${up}`;
}

/**
 * The seccomp profile: v1's SecurityProfile, else the older path string (v1alpha2). Unset is
 * unconfined, as containerd's CRI has it by default.
 */
function seccompOpt(sc: LinuxContainerSecurityContext__Output | null, deps: TranslateDeps): string {
  const p = sc?.seccomp;
  if (p && p.profile_type) {
    if (p.profile_type === 'RuntimeDefault') return 'seccomp=builtin';
    if (p.profile_type === 'Unconfined') return 'seccomp=unconfined';
    return `seccomp=${localProfile(p.localhost_ref, deps)}`;
  }
  const path = sc?.seccomp_profile_path ?? '';
  if (path === '' || path === 'unconfined') return 'seccomp=unconfined';
  if (path === 'runtime/default' || path === 'docker/default') return 'seccomp=builtin';
  if (path.startsWith('localhost/')) return `seccomp=${localProfile(path.slice('localhost/'.length), deps)}`;
  throw new InvalidParameterError(`unsupported seccomp profile "${path}"`);
}

function localProfile(path: string, deps: TranslateDeps): string {
  if (!path || !posix.isAbsolute(path)) throw new InvalidParameterError(`seccomp localhost profile "${path}" must be an absolute path`);
  try {
    return deps.readProfile(path);
  } catch (err) {
    throw new InvalidParameterError(`failed to load seccomp profile "${path}": ${(err as Error).message}`);
  }
}
