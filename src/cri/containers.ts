/**
 * CRI containers in pod sandboxes: Create/Start/Stop/Remove/List/Status, ReopenContainerLog and
 * UpdateContainerResources. A CRI container is an engine container joined to its sandbox's infra
 * container (container-config.ts translates the config); its CRI data rides on its labels.
 */
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { ConflictError, NotFoundError } from '../errors';
import type { ContainerEngine } from '../engine/containers/compose';
import type { ContainerRecord } from '../engine/containers/types';
import { createOptions, resourcesOf } from './container-config';
import { containerInfo, containerState, containerStatus, containerSummary } from './container-status';
import { RUNTIME_HANDLER_LABEL, SANDBOX_ID_LABEL } from './cri-labels';
import { containersOf, criRecords, findCriRecord, matchesIdAndLabels } from './cri-records';
import { checkMountPropagation } from './mount-propagation';
import { oomScoreFloor } from './oom-score';
import { findSandbox, getSandbox, sandboxConfigOf } from './sandboxes';
import type { RuntimeHandlers } from './server';

export interface ContainerDeps {
  containers: ContainerEngine;
  /** Reads a Localhost seccomp profile (default: the file on this node). */
  readProfile?(path: string): string;
  /** The lowest oom_score_adj allowed (default: measured, see oom-score.ts). */
  oomScoreFloor?: number;
}

/** How long ReopenContainerLog waits for the monitor's new file. */
const REOPEN_WAIT_MS = 5000;

/** The CRI container `id` (a full id or a unique prefix), or undefined. */
export function findContainer(containers: ContainerEngine, id: string): ContainerRecord | undefined {
  return findCriRecord(containers, 'container', id);
}

export function getContainer(containers: ContainerEngine, id: string): ContainerRecord {
  const found = findContainer(containers, id);
  if (!found) throw new NotFoundError(`an error occurred when try to find container "${id}": not found`);
  return found;
}

/** Every CRI container, optionally of one sandbox (full id or prefix). */
export function criContainers(containers: ContainerEngine, sandboxId?: string): ContainerRecord[] {
  if (!sandboxId) return criRecords(containers, 'container');
  const sandbox = findSandbox(containers, sandboxId);
  return sandbox ? containersOf(containers, sandbox.id) : [];
}

type Handlers = Pick<
  RuntimeHandlers,
  'CreateContainer' | 'StartContainer' | 'StopContainer' | 'RemoveContainer' | 'ListContainers' | 'ContainerStatus' | 'ReopenContainerLog' | 'UpdateContainerResources'
>;

export function containerHandlers(deps: ContainerDeps): Handlers {
  const { containers } = deps;
  const readProfile = deps.readProfile ?? ((path: string) => readFileSync(path, 'utf8'));
  const floor = 'oomScoreFloor' in deps ? deps.oomScoreFloor : oomScoreFloor();

  return {
    CreateContainer: async (req) => {
      const infra = getSandbox(containers, req.pod_sandbox_id);
      const podConfig = req.sandbox_config ?? sandboxConfigOf(infra);
      // The pod's containers run under the runtime its infra container runs under.
      const opts = createOptions(req.config ?? ({} as never), { id: infra.id, config: podConfig, runtimeHandler: infra.config.Labels?.[RUNTIME_HANDLER_LABEL] || infra.runtime }, { readProfile, oomScoreFloor: floor });
      await checkMountPropagation(req.config?.mounts ?? []);
      const { Id } = await containers.creation.create(opts);
      return { container_id: Id };
    },

    StartContainer: async (req) => {
      const c = getContainer(containers, req.container_id);
      // A CRI container runs once: kubelet makes a new one (attempt + 1) to restart.
      const state = containerState(c);
      if (state !== 'CONTAINER_CREATED') throw new ConflictError(`container is in ${state} state`);
      const infra = getSandbox(containers, c.config.Labels?.[SANDBOX_ID_LABEL] ?? '');
      if (!infra.state.Running) throw new ConflictError(`sandbox container "${infra.id}" is not running`);
      await containers.lifecycle.start(c.id);
      return {};
    },

    StopContainer: async (req) => {
      const c = getContainer(containers, req.container_id);
      // Stopping a container that is not running is fine (containerd).
      if (!c.state.Running && c.state.Status !== 'paused') return {};
      await containers.lifecycle.stop(c.id, { timeout: Math.max(0, Number(req.timeout ?? 0)) });
      return {};
    },

    RemoveContainer: async (req) => {
      // Idempotent, as containerd: an unknown container is removed.
      const c = findContainer(containers, req.container_id);
      if (!c) return {};
      await containers.removal.remove(c.id, { force: true, removeVolumes: true });
      return {};
    },

    ListContainers: async (req) => {
      const f = req.filter;
      const items = criContainers(containers, f?.pod_sandbox_id || undefined)
        .filter((c) => matchesIdAndLabels(c, f) && (!f?.state || containerState(c) === f.state.state))
        .map(containerSummary);
      return { containers: items };
    },

    ContainerStatus: async (req) => {
      const c = getContainer(containers, req.container_id);
      return { status: containerStatus(c), info: req.verbose ? await containerInfo(c, containers.records.dirs(c.id).bundle) : {} };
    },

    ReopenContainerLog: async (req) => {
      const c = getContainer(containers, req.container_id);
      const path = c.monitorLogPath;
      if (!path) throw new ConflictError(`container "${c.id}" has no log path`);
      // The monitor reopens on its own time; kubelet (and containerd's answer) expect the new
      // file to be there once the call returns.
      const inode = async () => (await stat(path).catch(() => undefined))?.ino;
      const before = await inode();
      await containers.streams.reopenLog(c.id);
      const deadline = Date.now() + REOPEN_WAIT_MS;
      for (let now = await inode(); now === undefined || now === before; now = await inode()) {
        if (Date.now() > deadline) throw new Error(`the monitor of container ${c.id} did not reopen ${path}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return {};
    },

    UpdateContainerResources: async (req) => {
      const c = getContainer(containers, req.container_id);
      await containers.lifecycle.update(c.id, resourcesOf(req.linux ?? null, floor));
      return {};
    },
  };
}
