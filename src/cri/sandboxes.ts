/**
 * Pod sandboxes: RunPodSandbox, StopPodSandbox, RemovePodSandbox, PodSandboxStatus and
 * ListPodSandbox. A sandbox is its infra container in the container engine (the sandbox id is
 * that container's id); the CRI's metadata, labels, annotations and config ride on its labels
 * (cri-labels.ts). CRI containers of the pod join its namespaces (container-config.ts).
 */
import { InvalidParameterError, NotFoundError } from '../errors';
import type { ContainerEngine } from '../engine/containers/compose';
import type { ContainerRecord, HostConfig } from '../engine/containers/types';
import { ANNOTATIONS_LABEL, CONFIG_LABEL, criLabels, METADATA_LABEL, parseLabel, RUNTIME_HANDLER_LABEL, userLabels } from './cri-labels';
import { containersOf, criRecords, findCriRecord, matchesIdAndLabels } from './cri-records';
import { isoToNanos } from './cri-time';
import type { RuntimeHandlers } from './server';
import type { PodSandboxConfig__Output } from './generated/runtime/v1/PodSandboxConfig';
import type { PodSandboxMetadata__Output } from './generated/runtime/v1/PodSandboxMetadata';
import type { PodSandboxStatus } from './generated/runtime/v1/PodSandboxStatus';
import type { PodSandbox } from './generated/runtime/v1/PodSandbox';

/** What the pod network does for a sandbox (pods without one: host network, or none yet). */
export interface PodNetworkHooks {
  /** Before the infra container is created: host config the network needs (e.g. its netns). */
  prepare?(sandboxId: string | undefined, config: PodSandboxConfig__Output): Promise<Partial<HostConfig>>;
  /** After the infra container started: attach the pod to its network. */
  attach?(infra: ContainerRecord, config: PodSandboxConfig__Output): Promise<void>;
  /** At stop and remove: detach (idempotent). */
  detach?(infra: ContainerRecord): Promise<void>;
  /** The pod's addresses for PodSandboxStatus. */
  addresses?(infra: ContainerRecord): Promise<{ ip: string; additional: string[] } | undefined>;
}

export interface SandboxDeps {
  containers: ContainerEngine;
  /** The infra image's reference, made or found locally (`--pod-infra-image` or Berth's own). */
  infraImage(): Promise<string>;
  network?: PodNetworkHooks;
  /**
   * The runtime of pods whose RunPodSandbox names no handler (their containers follow it): runc
   * where installed, as containerd's default; else the daemon's default runtime.
   */
  podRuntime?: string;
  /** Grace period for the infra container at stop, in seconds. */
  stopTimeout?: number;
}

/** A sandbox's infra container name, as containerd and cri-dockerd make it. */
export function sandboxName(m: PodSandboxMetadata__Output): string {
  return `k8s_POD_${m.name}_${m.namespace}_${m.uid}_${m.attempt}`;
}

function checkMetadata(m: PodSandboxMetadata__Output | null | undefined): PodSandboxMetadata__Output {
  if (!m || !m.name || !m.namespace || !m.uid) throw new InvalidParameterError('sandbox config must include metadata with name, namespace and uid');
  return m;
}

/** The infra container of sandbox `id` (a full id or a unique prefix), or undefined. */
export function findSandbox(containers: ContainerEngine, id: string): ContainerRecord | undefined {
  return findCriRecord(containers, 'sandbox', id);
}

export function getSandbox(containers: ContainerEngine, id: string): ContainerRecord {
  const found = findSandbox(containers, id);
  if (!found) throw new NotFoundError(`an error occurred when try to find sandbox "${id}": not found`);
  return found;
}

export function sandboxConfigOf(infra: ContainerRecord): PodSandboxConfig__Output {
  return parseLabel(infra.config.Labels ?? {}, CONFIG_LABEL, {} as PodSandboxConfig__Output);
}

function namespaceOptions(config: PodSandboxConfig__Output) {
  return config.linux?.security_context?.namespace_options ?? null;
}

/** The infra container's host config: the pod's namespaces, sysctls, cgroup parent, DNS. */
function infraHostConfig(config: PodSandboxConfig__Output, runtime: string | undefined): HostConfig {
  const ns = namespaceOptions(config);
  const sc = config.linux?.security_context;
  const dns = config.dns_config;
  return {
    NetworkMode: ns?.network === 'NODE' ? 'host' : 'none',
    IpcMode: ns?.ipc === 'NODE' ? 'host' : 'shareable',
    PidMode: ns?.pid === 'NODE' ? 'host' : '',
    ...(runtime ? { Runtime: runtime } : {}),
    ...(config.linux?.cgroup_parent ? { CgroupParent: config.linux.cgroup_parent } : {}),
    ...(config.linux?.sysctls && Object.keys(config.linux.sysctls).length ? { Sysctls: config.linux.sysctls } : {}),
    ...(sc?.privileged ? { Privileged: true } : {}),
    ...(sc?.readonly_rootfs ? { ReadonlyRootfs: true } : {}),
    ...(dns?.servers?.length ? { Dns: dns.servers } : {}),
    ...(dns?.searches?.length ? { DnsSearch: dns.searches } : {}),
    ...(dns?.options?.length ? { DnsOptions: dns.options } : {}),
    RestartPolicy: { Name: 'no' },
  };
}

function sandboxState(infra: ContainerRecord): 'SANDBOX_READY' | 'SANDBOX_NOTREADY' {
  return infra.state.Running ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY';
}

function metadataOf(infra: ContainerRecord): PodSandboxMetadata__Output | null {
  return parseLabel(infra.config.Labels ?? {}, METADATA_LABEL, null);
}

function summary(infra: ContainerRecord): PodSandbox {
  const labels = infra.config.Labels ?? {};
  return {
    id: infra.id,
    metadata: metadataOf(infra),
    state: sandboxState(infra),
    created_at: isoToNanos(infra.created),
    labels: userLabels(labels),
    annotations: parseLabel(labels, ANNOTATIONS_LABEL, {}),
    runtime_handler: runtimeHandlerOf(infra),
  };
}

function runtimeHandlerOf(infra: ContainerRecord): string {
  return infra.config.Labels?.[RUNTIME_HANDLER_LABEL] ?? '';
}

export function sandboxHandlers(deps: SandboxDeps): Pick<RuntimeHandlers, 'RunPodSandbox' | 'StopPodSandbox' | 'RemovePodSandbox' | 'PodSandboxStatus' | 'ListPodSandbox'> {
  const { containers } = deps;

  /** Stops the pod's containers, detaches its network, stops the infra container. */
  const stopSandbox = async (infra: ContainerRecord) => {
    await Promise.all(
      containersOf(containers, infra.id)
        .filter((c) => c.state.Running)
        .map((c) => containers.lifecycle.stop(c.id, { timeout: 0 }).catch(() => undefined)),
    );
    await deps.network?.detach?.(infra);
    if (containers.records.find(infra.id)?.state.Running) await containers.lifecycle.stop(infra.id, { timeout: deps.stopTimeout ?? 2 });
  };

  return {
    RunPodSandbox: async (req) => {
      const config = req.config;
      if (!config) throw new InvalidParameterError('sandbox config is required');
      const metadata = checkMetadata(config.metadata);
      const image = await deps.infraImage();
      const extra = (await deps.network?.prepare?.(undefined, config)) ?? {};
      const labels = criLabels('sandbox', { metadata, labels: config.labels ?? {}, annotations: config.annotations ?? {}, config });
      if (req.runtime_handler) labels[RUNTIME_HANDLER_LABEL] = req.runtime_handler;
      const { Id: id } = await containers.creation.create({
        name: sandboxName(metadata),
        config: { Image: image, Hostname: config.hostname || undefined, Labels: labels },
        hostConfig: { ...infraHostConfig(config, req.runtime_handler || deps.podRuntime), ...extra },
      });
      // Nothing half-made: a sandbox that cannot start (or join its network) is removed again.
      try {
        await containers.lifecycle.start(id);
        await deps.network?.attach?.(containers.records.get(id), config);
      } catch (err) {
        const infra = containers.records.find(id);
        if (infra) await deps.network?.detach?.(infra).catch(() => undefined);
        await containers.removal.remove(id, { force: true, removeVolumes: true }).catch(() => undefined);
        throw err;
      }
      return { pod_sandbox_id: id };
    },

    StopPodSandbox: async (req) => {
      const infra = getSandbox(containers, req.pod_sandbox_id);
      await stopSandbox(infra);
      return {};
    },

    RemovePodSandbox: async (req) => {
      // Idempotent: a sandbox already gone is removed.
      const infra = findSandbox(containers, req.pod_sandbox_id);
      if (!infra) return {};
      await stopSandbox(infra);
      for (const c of containersOf(containers, infra.id)) await containers.removal.remove(c.id, { force: true, removeVolumes: true });
      await containers.removal.remove(infra.id, { force: true, removeVolumes: true });
      return {};
    },

    PodSandboxStatus: async (req) => {
      const infra = getSandbox(containers, req.pod_sandbox_id);
      const config = sandboxConfigOf(infra);
      const ns = namespaceOptions(config);
      const addresses = infra.state.Running ? await deps.network?.addresses?.(infra) : undefined;
      const status: PodSandboxStatus = {
        ...summary(infra),
        network: { ip: addresses?.ip ?? '', additional_ips: (addresses?.additional ?? []).map((ip) => ({ ip })) },
        linux: { namespaces: { options: { network: ns?.network ?? 'POD', pid: ns?.pid ?? 'POD', ipc: ns?.ipc ?? 'POD', target_id: '' } } },
      };
      const info: Record<string, string> = req.verbose ? { info: JSON.stringify({ pid: infra.state.Pid, image: infra.config.Image, runtimeHandler: runtimeHandlerOf(infra), config }) } : {};
      return { status, info, containers_statuses: [], timestamp: '0' };
    },

    ListPodSandbox: async (req) => {
      const f = req.filter;
      const items = criRecords(containers, 'sandbox')
        .filter((c) => matchesIdAndLabels(c, f) && (!f?.state || sandboxState(c) === f.state.state))
        .map(summary);
      return { items };
    },
  };
}
