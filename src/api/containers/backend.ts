import type {
  AttachOptions,
  CreateContainerOptions,
  ListContainersOptions,
  LogRecord,
  LogsOptions,
  RemoveContainerOptions,
  StopContainerOptions,
  WaitCondition,
  WaitResult,
} from '../../engine/containers/types';
import type { Readable } from 'node:stream';
import type { ArchiveStream, PutArchiveOptions } from '../../engine/containers/archive/container-archive';
import type { Change } from '../../engine/containers/archive/changes';
import type { HostConfig } from '../../engine/containers/types';
import type { CommitOptions } from '../../engine/containers/container-commit';
import type { PathStat } from '../../engine/containers/archive/container-path';

/** What the container routes need from the engine. */
export interface ContainerBackend {
  list(opts: ListContainersOptions): object[] | Promise<object[]>;
  prune(filters: Record<string, string[]>): Promise<object>;
  create(opts: CreateContainerOptions): Promise<{ Id: string; Warnings: string[] }>;
  inspect(ref: string, opts?: { size?: boolean }): Promise<object>;
  start(ref: string): Promise<void>;
  stop(ref: string, opts: StopContainerOptions): Promise<void>;
  restart(ref: string, opts: StopContainerOptions): Promise<void>;
  kill(ref: string, signal?: string): Promise<void>;
  pause(ref: string): Promise<void>;
  top(ref: string, psArgs?: string): Promise<object>;
  update(ref: string, changes: HostConfig): Promise<string[]>;
  stats(ref: string, opts: { stream: boolean; oneShot: boolean; signal?: AbortSignal }): AsyncGenerator<object>;
  unpause(ref: string): Promise<void>;
  wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult>;
  remove(ref: string, opts: RemoveContainerOptions): Promise<void>;
  rename(ref: string, name: string): Promise<void>;
  resize(ref: string, height: number, width: number): Promise<void>;
  logs(ref: string, opts: LogsOptions): { tty: boolean; batches: AsyncIterable<LogRecord[]>; details: string };
  attach(ref: string, opts: AttachOptions): Promise<void>;
  /** Throws NotFound for an unknown container (so a wait can fail before headers are sent). */
  get(ref: string): unknown;
  statPath(ref: string, path: string): Promise<PathStat>;
  getArchive(ref: string, path: string): Promise<ArchiveStream>;
  putArchive(ref: string, body: Readable, opts: PutArchiveOptions): Promise<void>;
  export(ref: string): Promise<Readable>;
  changes(ref: string): Promise<Change[]>;
  commit(ref: string, opts: CommitOptions): Promise<string>;
}
