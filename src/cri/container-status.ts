/**
 * How an engine container record reads as a CRI container: its state, the summary
 * ListContainers gives and the status ContainerStatus gives (containerd's reasons and times).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerRecord } from '../engine/containers/types';
import { ANNOTATIONS_LABEL, CONFIG_LABEL, METADATA_LABEL, parseLabel, SANDBOX_ID_LABEL, userLabels } from './cri-labels';
import { resourcesFromHostConfig } from './container-config';
import { isoToNanos } from './cri-time';
import type { Container } from './generated/runtime/v1/Container';
import type { ContainerConfig__Output } from './generated/runtime/v1/ContainerConfig';
import type { ContainerMetadata__Output } from './generated/runtime/v1/ContainerMetadata';
import type { ContainerStatus } from './generated/runtime/v1/ContainerStatus';

export type CriContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

/** A start that failed leaves the engine's record `created` with the error; the CRI's is exited. */
const failedStart = (c: ContainerRecord) => c.state.Status === 'created' && !!c.state.Error;

/** containerd's exit code and reason for a container whose start failed. */
const START_ERROR_EXIT_CODE = 128;

export function containerState(c: ContainerRecord): CriContainerState {
  switch (c.state.Status) {
    case 'created':
      return failedStart(c) ? 'CONTAINER_EXITED' : 'CONTAINER_CREATED';
    case 'running':
    case 'paused':
    case 'restarting':
      return 'CONTAINER_RUNNING';
    case 'exited':
      return 'CONTAINER_EXITED';
    default:
      return 'CONTAINER_UNKNOWN';
  }
}

export function containerConfigOf(c: ContainerRecord): ContainerConfig__Output {
  return parseLabel(c.config.Labels ?? {}, CONFIG_LABEL, {} as ContainerConfig__Output);
}

function metadataOf(c: ContainerRecord): ContainerMetadata__Output | null {
  return parseLabel(c.config.Labels ?? {}, METADATA_LABEL, null);
}

/** The image as the client asked for it (the spec), and the engine's image id (image_ref). */
function imageOf(c: ContainerRecord, config: ContainerConfig__Output) {
  return { image: { image: config.image?.image || String(c.config.Image ?? ''), annotations: config.image?.annotations ?? {} }, image_ref: c.image };
}

export function containerSummary(c: ContainerRecord): Container {
  const labels = c.config.Labels ?? {};
  const config = containerConfigOf(c);
  const { image, image_ref } = imageOf(c, config);
  return {
    id: c.id,
    pod_sandbox_id: labels[SANDBOX_ID_LABEL] ?? '',
    metadata: metadataOf(c),
    image,
    image_ref,
    state: containerState(c),
    created_at: isoToNanos(c.created),
    labels: userLabels(labels),
    annotations: parseLabel(labels, ANNOTATIONS_LABEL, {}),
  };
}

/** containerd's reason for an exited container. */
function reasonOf(c: ContainerRecord): string {
  if (containerState(c) !== 'CONTAINER_EXITED') return '';
  if (failedStart(c)) return 'StartError';
  if (c.state.OOMKilled) return 'OOMKilled';
  return c.state.ExitCode === 0 ? 'Completed' : 'Error';
}

export function containerStatus(c: ContainerRecord): ContainerStatus {
  const s = containerSummary(c);
  const config = containerConfigOf(c);
  const state = containerState(c);
  return {
    id: s.id,
    metadata: s.metadata,
    state: s.state,
    created_at: s.created_at,
    started_at: state === 'CONTAINER_CREATED' ? '0' : isoToNanos(c.state.StartedAt),
    // The engine keeps no time for a failed start: its creation stands in.
    finished_at: state !== 'CONTAINER_EXITED' ? '0' : failedStart(c) ? isoToNanos(c.created) : isoToNanos(c.state.FinishedAt),
    exit_code: state !== 'CONTAINER_EXITED' ? 0 : failedStart(c) ? START_ERROR_EXIT_CODE : c.state.ExitCode,
    image: s.image,
    image_ref: s.image_ref,
    reason: reasonOf(c),
    message: c.state.Error ?? '',
    labels: s.labels,
    annotations: s.annotations,
    mounts: config.mounts ?? [],
    log_path: c.monitorLogPath ?? '',
    resources: { linux: resourcesFromHostConfig(c.hostConfig) },
  };
}

/**
 * The verbose `info` of ContainerStatus (containerd gives a JSON with these keys), with the OCI
 * spec the container was last started with (`runtimeSpec`, what `crictl inspect` shows).
 */
export async function containerInfo(c: ContainerRecord, bundle: string): Promise<Record<string, string>> {
  const runtimeSpec = await readFile(join(bundle, 'config.json'), 'utf8').then((t) => JSON.parse(t) as unknown, () => undefined);
  return {
    info: JSON.stringify({
      sandboxID: c.config.Labels?.[SANDBOX_ID_LABEL] ?? '',
      pid: c.state.Pid,
      removing: c.state.Status === 'removing',
      snapshotKey: c.id,
      snapshotter: 'overlayfs',
      runtimeType: c.runtime,
      config: containerConfigOf(c),
      ...(runtimeSpec ? { runtimeSpec } : {}),
    }),
  };
}
