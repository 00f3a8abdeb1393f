import type {
  AttachOptions,
  ContainerRecord,
  CreateContainerOptions,
  HostConfig,
  ListContainersOptions,
  LogRecord,
  LogsOptions,
  PruneContainersResult,
  RemoveContainerOptions,
  StopContainerOptions,
  WaitCondition,
  WaitResult,
} from '../../engine/containers/types';
import type { Readable } from 'node:stream';
import type { ArchiveStream, PutArchiveOptions } from '../../engine/containers/archive/container-archive';
import type { Change } from '../../engine/containers/archive/changes';
import type { CommitOptions } from '../../engine/containers/container-commit';
import type { PathStat } from '../../engine/containers/archive/container-path';
import type { ContainerInspect, ContainerSummary } from '../../engine/containers/views';
import type { ContainerStats, StatsOptions } from '../../engine/containers/stats';
import type { TopResult } from '../../engine/containers/top';
import type { Filters } from '../../engine/filter-args';

/**
 * What the container routes need from the engine. Long calls stop when the client goes away:
 * by their `signal`, or, for streams the engine hands back (archives, export) and sessions the
 * engine drives (attach), when the route destroys the stream or the connection closes.
 */
export interface ContainerBackend {
  list(opts: ListContainersOptions): ContainerSummary[] | Promise<ContainerSummary[]>;
  prune(filters: Filters): Promise<PruneContainersResult>;
  create(opts: CreateContainerOptions): Promise<{ Id: string; Warnings: string[] }>;
  inspect(ref: string, opts?: { size?: boolean }): Promise<ContainerInspect>;
  start(ref: string): Promise<void>;
  stop(ref: string, opts: StopContainerOptions): Promise<void>;
  restart(ref: string, opts: StopContainerOptions): Promise<void>;
  kill(ref: string, signal?: string): Promise<void>;
  pause(ref: string): Promise<void>;
  top(ref: string, psArgs?: string): Promise<TopResult>;
  update(ref: string, changes: HostConfig): Promise<string[]>;
  stats(ref: string, opts: StatsOptions & { signal: AbortSignal }): AsyncGenerator<ContainerStats>;
  unpause(ref: string): Promise<void>;
  wait(ref: string, condition: WaitCondition, signal: AbortSignal): Promise<WaitResult>;
  remove(ref: string, opts: RemoveContainerOptions): Promise<void>;
  rename(ref: string, name: string): Promise<void>;
  resize(ref: string, height: number, width: number): Promise<void>;
  logs(ref: string, opts: LogsOptions & { signal: AbortSignal }): { tty: boolean; batches: AsyncIterable<LogRecord[]>; details: string };
  /** Ends when the streams `getStreams` handed out close. */
  attach(ref: string, opts: AttachOptions): Promise<void>;
  /** Throws NotFound for an unknown container (so a wait can fail before headers are sent). */
  get(ref: string): ContainerRecord;
  statPath(ref: string, path: string): Promise<PathStat>;
  /** The route destroys the archive stream when the client goes away. */
  getArchive(ref: string, path: string): Promise<ArchiveStream>;
  putArchive(ref: string, body: Readable, opts: PutArchiveOptions): Promise<void>;
  /** The route destroys the stream when the client goes away. */
  export(ref: string): Promise<Readable>;
  changes(ref: string): Promise<Change[]>;
  commit(ref: string, opts: CommitOptions): Promise<string>;
}
