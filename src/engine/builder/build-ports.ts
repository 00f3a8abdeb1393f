/**
 * The builder's ports: what a build needs from the image and container engines (the daemon
 * binds them), the options a build request carries, and the error a failed RUN reports.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { InvalidParameterError } from '../../errors';
import type { ArchiveStream, PutArchiveOptions } from '../containers/archive/container-archive';
import type { PathStat } from '../containers/archive/container-path';
import type { CommitOptions } from '../containers/container-commit';
import type { CreateContainerOptions, LogRecord, LogsOptions, WaitCondition, WaitResult } from '../containers/types';
import type { CommitImageOptions } from '../images/image-service';
import type { ContainerImageConfig, ImageRecord } from '../images/types';
import type { ProgressMessage } from '../progress';
import type { RegistryCredentials } from '../registry/registry-client';

/** What the builder needs from the image service. */
export interface BuildImages {
  resolve(ref: string): Promise<ImageRecord>;
  pull(ref: string, opts: { platform?: string; creds?: RegistryCredentials; progress: (p: ProgressMessage) => void; signal?: AbortSignal }): Promise<string[]>;
  commit(opts: CommitImageOptions): Promise<string>;
  setParent(id: string, parentId: string): Promise<void>;
  commitCachedStep(opts: { parentId?: string; sourceId: string; historyIndex: number; layerDiffId?: string; config: ContainerImageConfig; buildKey: string; author?: string }): Promise<string>;
  buildCache(parentId: string | undefined, buildKey: string): Promise<string | undefined>;
  tag(source: string, repo: string, tag?: string): Promise<void>;
  workDir(prefix: string): Promise<string>;
  removeWorkDir(dir: string): Promise<void>;
}

/** What the builder needs from the container service. */
export interface BuildContainers {
  create(opts: CreateContainerOptions): Promise<{ Id: string }>;
  start(id: string): Promise<void>;
  wait(id: string, condition: WaitCondition): Promise<WaitResult>;
  logs(id: string, opts: LogsOptions): { batches: AsyncIterable<LogRecord[]> };
  remove(id: string, opts: { force: boolean; removeVolumes: boolean }): Promise<void>;
  putArchive(id: string, body: Readable, opts: PutArchiveOptions): Promise<void>;
  getArchive(id: string, path: string): Promise<ArchiveStream>;
  statPath(id: string, path: string): Promise<PathStat>;
  commit(id: string, opts: CommitOptions): Promise<string>;
}

export interface BuildOptions {
  /** The Dockerfile's path in the context. */
  dockerfile: string;
  /** Names to tag the result with (`repo[:tag]`). */
  tags: string[];
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  noCache: boolean;
  /** Remove intermediate containers after successful steps (default true). */
  rm: boolean;
  /** Remove them even when a step fails. */
  forceRm: boolean;
  quiet: boolean;
  target?: string;
  networkMode?: string;
  /** Pull base images even when they are present (`--pull`). */
  pull?: boolean;
  /** Credentials by registry (`X-Registry-Config`) for pulling base images. */
  registryAuth?: Record<string, RegistryCredentials>;
  /** `host:ip` lines added to the /etc/hosts of RUN's containers (`--add-host`). */
  extraHosts?: string[];
  /**
   * `--cache-from`: when given (even empty), only steps these images were built with count as
   * cache, as with dockerd's classic builder; otherwise every image of the local cache does.
   */
  cacheFrom?: string[];
  progress(p: ProgressMessage): void;
  log?: Logger;
  /** The client went away: the build stops (a running step's container is killed). */
  signal?: AbortSignal;
}

/** A RUN whose command failed: errorDetail carries its exit code, as dockerd's does. */
export class BuildRunError extends InvalidParameterError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
