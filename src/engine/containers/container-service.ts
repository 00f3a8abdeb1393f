import { mkdir, rm } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import type { Logger } from 'pino';
import { runtimeErrorKind } from '../../runtime/oci-cli';
import type { ContainerMonitor, OciRuntime } from '../../runtime/types';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError, NotModifiedError, errNoSuchContainer } from '../errors';
import type { ImageRecord } from '../images/types';
import type { CommitImageOptions } from '../images/image-service';
import { commitImageConfig } from './commit-config';
import type { Store } from '../store/store';
import { KEY, PREFIX } from '../store/schema';
import { ContainerArchive, type ArchiveStream, type PutArchiveOptions } from './archive/container-archive';
import type { Change } from './archive/changes';
import type { PathStat } from './archive/container-path';
import { FsTools } from '../images/fs-tools';
import type { Readable } from 'node:stream';
import { AttachHub } from './attach-hub';
import { ExecService } from './exec/exec-service';
import { containerPids } from './cgroup-files';
import { containerTop, type TopResult } from './top';
import { RestartTimers, restartsOnBoot, shouldRestart, validateRestartPolicy } from './restart-policy';
import type { EventSink } from '../events/event-log';
import { ExitWaiters } from './exit-waiters';
import type { VolumeLookup } from './mount-spec';
import { parseVolumesFrom, planMounts, type MountPoint } from './mounts';
import { ContainerNetworking, type NetworkDirectory, type Plumbing } from './container-network';
import { checkEndpoint, emptyEndpoint, parseNetworkMode, type EndpointRequest } from './network-plan';
import { mergeImageConfig, validateConfig } from './config-merge';
import { containerDirs, type ContainerDirs } from './container-files';
import { matchesFilters, validateContainerFilters } from './filters';
import { readLogs } from './log-reader';
import { generateId, generateName, normalizeName, shortId } from './names';
import { unmountRootfs } from './rootfs';
import { parseSignal, signalNumber } from './signals';
import { ContainerStarter, startError } from './starter';
import {
  NULL_TIME,
  type AttachOptions,
  type ContainerRecord,
  type CreateContainerOptions,
  type ListContainersOptions,
  type LogRecord,
  type LogsOptions,
  type RemoveContainerOptions,
  type StopContainerOptions,
  type WaitCondition,
  type WaitResult,
  type ContainerConfig,
  type RestartPolicy,
} from './types';
import { containerInspect, containerSummary } from './views';

/** What the container service needs from the image service. */
export interface ImageLookup {
  commit(opts: CommitImageOptions): Promise<string>;
  resolve(ref: string): Promise<ImageRecord>;
  layerDirs(imageId: string): Promise<string[]>;
  /** Frees images force-removed while containers still used them, once they no longer do. */
  releaseRemoved(): Promise<void>;
}

/** What the container service needs from the runtime registry. */
export interface RuntimeLookup {
  readonly defaultName: string;
  /** Validates a name a client asked for (400 when unknown). */
  get(name: string): OciRuntime;
  /** The runtime of an existing container; a stand-in that fails each call if it is gone. */
  forContainer(name: string): OciRuntime;
}

export interface ExitWatch {
  close(): void;
}

export interface ContainerServiceDeps {
  store: Store;
  /** `<data-root>/containers` */
  root: string;
  log: Logger;
  images: ImageLookup;
  runtimes: RuntimeLookup;
  monitor: ContainerMonitor;
  /** Calls `onExit` once the monitor has written the exit file of container `id`. */
  watchExit(exitDir: string, id: string, onExit: () => void): ExitWatch;
  cgroupVersion: 1 | 2;
  plumbing: Plumbing;
  networks: NetworkDirectory;
  volumes: VolumeLookup;
  events?: EventSink;
}

export interface CommitOptions {
  repo?: string;
  tag?: string;
  author?: string;
  comment?: string;
  /** Config to apply over the container's (the request body). */
  config?: ContainerConfig;
  /** Dockerfile instructions (`--change`). */
  changes?: string[];
}

const DEFAULT_STOP_TIMEOUT = 10;

/**
 * Owns containers: their records, names and lifecycle (create → start → exit → remove), and
 * the monitors that run them. State lives in the store; this class caches it in memory.
 */
export class ContainerService {
  private readonly containers = new Map<string, ContainerRecord>();
  private readonly waiters = new ExitWaiters();
  private readonly restarts = new RestartTimers();
  private readonly exitWatches = new Map<string, ExitWatch>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly attachHub: AttachHub;
  private readonly starter: ContainerStarter;
  readonly networking: ContainerNetworking;
  readonly execs: ExecService;
  private nameLock: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ContainerServiceDeps) {
    this.attachHub = new AttachHub(deps.log);
    this.networking = new ContainerNetworking({
      plumbing: deps.plumbing,
      networks: deps.networks,
      log: deps.log,
      containers: () => this.containers.values(),
      lookup: (ref) => this.get(ref),
      events: deps.events,
    });
    this.starter = new ContainerStarter(deps, this.attachHub, this.networking);
    this.execs = new ExecService({
      get: (ref) => this.get(ref),
      dirs: (id) => this.dirs(id),
      runtimeOf: (c) => deps.runtimes.forContainer(c.runtime),
      monitor: deps.monitor,
      watchExit: deps.watchExit,
      emit: (c, action, extra) => this.emit(c, action, extra),
      log: deps.log,
    });
  }

  /** Loads records (networks are set up between this and `reconcileAll`). */
  async load(): Promise<void> {
    await mkdir(this.deps.root, { recursive: true });
    for (const { value } of await this.deps.store.list<ContainerRecord>(PREFIX.container)) this.containers.set(value.id, value);
  }

  /** Loads records and reconciles them with what happened while the daemon was down. */
  async init(): Promise<void> {
    await this.load();
    await this.reconcileAll();
  }

  /** Brings records in line with what happened while the daemon was down. */
  async reconcileAll(): Promise<void> {
    for (const c of [...this.containers.values()]) {
      try {
        await this.reconcile(c);
      } catch (err) {
        this.deps.log.error({ err, container: c.id }, 'reconcile failed');
      }
    }
  }

  private async reconcile(c: ContainerRecord): Promise<void> {
    const dirs = this.dirs(c.id);
    if (c.state.Status === 'removing') return this.finishRemove(c);
    if (!c.state.Running) {
      if (c.hostConfig.AutoRemove && c.state.FinishedAt !== NULL_TIME) await this.finishRemove(c);
      else if (c.state.Restarting || restartsOnBoot(c.hostConfig.RestartPolicy, c.state.StartedAt !== NULL_TIME, c.hasBeenManuallyStopped)) {
        this.scheduleRestart(c, 0);
      }
      return;
    }
    const code = await this.deps.monitor.readExitCode(c.id, dirs.exitDir);
    if (code !== undefined || !(await this.deps.monitor.isAlive(dirs.monitorPidFile))) {
      await this.handleExit(c.id);
      return;
    }
    await this.networking.restore(c);
    this.watch(c);
  }

  /** Closes watchers; containers keep running under their monitors. */
  close(): void {
    this.restarts.close();
    for (const w of this.exitWatches.values()) w.close();
    this.exitWatches.clear();
  }

  dirs(id: string): ContainerDirs {
    return containerDirs(this.deps.root, id);
  }

  // ---- lookup ----

  /** Full ID, then exact name, then unique ID prefix (dockerd's order). */
  get(ref: string): ContainerRecord {
    const byId = this.containers.get(ref);
    if (byId) return byId;
    const name = ref.startsWith('/') ? ref : `/${ref}`;
    for (const c of this.containers.values()) if (c.name === name) return c;
    if (/^[0-9a-f]+$/.test(ref)) {
      const matches = [...this.containers.values()].filter((c) => c.id.startsWith(ref));
      if (matches.length > 1) throw new InvalidParameterError(`multiple IDs found with provided prefix: ${ref}`);
      if (matches.length === 1) return matches[0];
    }
    throw errNoSuchContainer(ref);
  }

  list(opts: ListContainersOptions) {
    validateContainerFilters(opts.filters);
    const createdOf = (ref: string) => {
      try {
        return this.get(ref).created;
      } catch {
        return undefined;
      }
    };
    const resolveImage = (ref: string) => [...this.containers.values()].find((c) => c.config.Image === ref)?.image;
    let items = [...this.containers.values()]
      .filter((c) => opts.all || opts.filters.status?.length || c.state.Running || c.state.Status === 'paused' || c.state.Status === 'restarting')
      .filter((c) => matchesFilters(c, opts.filters, resolveImage, createdOf))
      .sort((a, b) => (a.created < b.created ? 1 : -1));
    if (opts.limit !== undefined && opts.limit > 0) items = items.slice(0, opts.limit);
    return items.map(containerSummary);
  }

  async inspect(ref: string) {
    const c = this.get(ref);
    const d = this.dirs(c.id);
    const lowerDirs = await this.deps.images.layerDirs(c.image).catch(() => []);
    return containerInspect(c, { ...d, lowerDirs });
  }

  /** Counts for `docker info`. */
  counts() {
    const all = [...this.containers.values()];
    return {
      total: all.length,
      running: all.filter((c) => c.state.Status === 'running').length,
      paused: all.filter((c) => c.state.Status === 'paused').length,
      stopped: all.filter((c) => !['running', 'paused'].includes(c.state.Status)).length,
    };
  }

  isRunning(id: string): boolean {
    const c = this.containers.get(id);
    return !!c && (c.state.Running || c.state.Status === 'paused');
  }

  /** IDs of containers created from `imageId` (the image service refuses to delete those). */
  usersOfImage(imageId: string): string[] {
    return [...this.containers.values()].filter((c) => c.image === imageId).map((c) => c.id);
  }

  // ---- create / rename / remove ----

  async create(opts: CreateContainerOptions): Promise<{ Id: string; Warnings: string[] }> {
    validateConfig(opts.config);
    validateRestartPolicy(opts.hostConfig?.RestartPolicy as RestartPolicy | undefined, !!opts.hostConfig?.AutoRemove);
    const hostConfig = { ...(opts.hostConfig ?? {}) };
    const runtimeName = hostConfig.Runtime || this.deps.runtimes.defaultName;
    this.deps.runtimes.get(runtimeName);
    if (!opts.config.Image) throw new InvalidParameterError('No image specified');
    const image = await this.deps.images.resolve(opts.config.Image);
    const merged = mergeImageConfig(opts.config, image);
    const network = await this.networking.plan(opts.config, hostConfig, opts.networkingConfig);
    const from = parseVolumesFrom(hostConfig.VolumesFrom ?? []).map(({ ref, mode }) => ({ mounts: this.get(ref).mounts ?? [], mode }));
    const mounts = planMounts(merged.config, hostConfig, from);
    const id = generateId();
    const record: ContainerRecord = {
      id,
      name: '',
      created: new Date().toISOString(),
      config: { ...merged.config, Hostname: opts.config.Hostname || (hostConfig.NetworkMode === 'host' ? osHostname() : id.slice(0, 12)) },
      hostConfig: { ...hostConfig, Runtime: runtimeName },
      image: image.id,
      path: merged.path,
      args: merged.args,
      runtime: runtimeName,
      restartCount: 0,
      hasBeenManuallyStopped: false,
      network,
      mounts,
      state: {
        Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
        Pid: 0, ExitCode: 0, Error: '', StartedAt: NULL_TIME, FinishedAt: NULL_TIME,
      },
    };
    await mkdir(this.dirs(id).dir, { recursive: true });
    try {
      await this.createVolumes(mounts);
      await this.withNameLock(async () => {
        record.name = opts.name ? normalizeName(opts.name) : this.freeGeneratedName(id);
        this.assertNameFree(record.name);
        await this.deps.store.batch([
          { type: 'put', key: KEY.container(id), value: record },
          { type: 'put', key: KEY.containerName(record.name), value: id },
        ]);
        this.containers.set(id, record);
      });
    } catch (err) {
      await rm(this.dirs(id).dir, { recursive: true, force: true });
      await this.removeAnonymousVolumes(mounts);
      throw err;
    }
    this.deps.log.debug({ container: id }, 'container created');
    this.emit(record, 'create');
    return { Id: id, Warnings: [] };
  }

  async rename(ref: string, newName: string): Promise<void> {
    const c = this.get(ref);
    if (!newName) throw new InvalidParameterError('Neither old nor new names may be empty');
    const name = normalizeName(newName);
    if (name === c.name) throw new InvalidParameterError(`Renaming a container with the same name as its current name`);
    await this.withNameLock(async () => {
      this.assertNameFree(name);
      const old = c.name;
      c.name = name;
      await this.deps.store.batch([
        { type: 'del', key: KEY.containerName(old) },
        { type: 'put', key: KEY.containerName(name), value: c.id },
        { type: 'put', key: KEY.container(c.id), value: c },
      ]);
      this.emit(c, 'rename', { oldName: old });
    });
  }

  async remove(ref: string, opts: RemoveContainerOptions): Promise<void> {
    const c = this.get(ref);
    await this.locked(c.id, async () => {
      if (c.state.Running || c.state.Status === 'paused') {
        if (!opts.force) {
          throw new ConflictError(`cannot remove container "${c.name}": container is running: stop the container before removing or force remove`);
        }
        await this.killAndWait(c, 'SIGKILL', 30_000);
      }
      if (c.state.Status === 'removing') throw new ConflictError(`removal of container ${c.id} is already in progress`);
      if (c.state.Restarting) {
        if (!opts.force) throw new ConflictError('You cannot remove a restarting container. Stop the container before attempting removal or force remove');
        this.restarts.reset(c.id);
      }
      await this.finishRemove(c);
      if (opts.removeVolumes) await this.removeAnonymousVolumes(c.mounts ?? []);
    });
  }

  private async finishRemove(c: ContainerRecord): Promise<void> {
    c.state.Status = 'removing';
    await this.save(c);
    this.exitWatches.get(c.id)?.close();
    this.exitWatches.delete(c.id);
    this.attachHub.endAll(c.id);
    const d = this.dirs(c.id);
    await this.deleteFromRuntime(c);
    await this.deps.monitor.release(this.monitorPaths(c.id)).catch(() => undefined);
    await this.networking.teardown(c);
    await unmountRootfs(d);
    await rm(d.dir, { recursive: true, force: true });
    await this.deps.store.batch([
      { type: 'del', key: KEY.container(c.id) },
      { type: 'del', key: KEY.containerName(c.name) },
    ]);
    this.containers.delete(c.id);
    this.restarts.reset(c.id);
    this.execs.forget(c.id);
    this.waiters.notify(c.id, 'removed', { StatusCode: c.state.ExitCode, Error: null });
    this.waiters.forget(c.id);
    this.deps.log.debug({ container: c.id }, 'container removed');
    this.emit(c, 'destroy');
    await this.deps.images.releaseRemoved().catch((err) => this.deps.log.warn({ err }, 'releasing removed images failed'));
  }

  // ---- start / stop / kill / wait ----

  async start(ref: string): Promise<void> {
    const c = this.get(ref);
    await this.locked(c.id, async () => {
      if (c.state.Status === 'paused') throw new ConflictError('cannot start a paused container, try unpause instead');
      if (c.state.Running) throw new NotModifiedError('container is already running');
      if (c.state.Status === 'removing') throw new ConflictError(`container is marked for removal and cannot be started`);
      // A user's start: the policy's count and back-off start over (dockerd resets them too).
      this.restarts.reset(c.id);
      c.restartCount = 0;
      await this.startLocked(c);
    });
  }

  /** Starts `c` (the caller holds its lock); records a failure as dockerd does. */
  private async startLocked(c: ContainerRecord): Promise<void> {
    try {
      const { pid } = await this.starter.start(c, this.dirs(c.id));
      c.state = { ...c.state, Status: 'running', Running: true, Restarting: false, Pid: pid, ExitCode: 0, Error: '', StartedAt: new Date().toISOString(), FinishedAt: NULL_TIME };
      c.hasBeenManuallyStopped = false;
      await this.save(c);
      this.watch(c);
      this.emit(c, 'start');
    } catch (cause) {
      const err = startError(c, cause);
      const kind = runtimeErrorKind(err.message);
      const code = kind === 'command-not-found' ? 127 : kind === 'permission-denied' ? 126 : 128;
      c.state = { ...c.state, Status: c.state.StartedAt === NULL_TIME ? 'created' : 'exited', Running: false, Restarting: false, Pid: 0, ExitCode: code, Error: err.message };
      await this.save(c);
      this.attachHub.endUnconnected(c.id);
      if (c.hostConfig.AutoRemove) {
        this.waiters.notify(c.id, 'exit', { StatusCode: code, Error: null });
        await this.finishRemove(c);
      }
      throw err;
    }
  }

  /** The restart policy's turn: start `c` again after its back-off (`ranMs`: its last run). */
  private scheduleRestart(c: ContainerRecord, ranMs: number): void {
    c.state = { ...c.state, Status: 'restarting', Restarting: true };
    void this.save(c);
    const delay = this.restarts.schedule(c.id, ranMs, () => {
      void this.locked(c.id, async () => {
        if (!this.containers.has(c.id) || !c.state.Restarting) return;
        c.restartCount++;
        await this.startLocked(c);
      }).catch((err) => {
        this.deps.log.warn({ err, container: c.id }, 'restart failed');
        if (shouldRestart(c.hostConfig.RestartPolicy, { exitCode: c.state.ExitCode, restartCount: c.restartCount, manuallyStopped: c.hasBeenManuallyStopped })) {
          this.scheduleRestart(c, 0);
        }
      });
    });
    this.deps.log.debug({ container: c.id, delay }, 'restart scheduled');
  }

  private watch(c: ContainerRecord): void {
    this.exitWatches.get(c.id)?.close();
    const d = this.dirs(c.id);
    this.exitWatches.set(c.id, this.deps.watchExit(d.exitDir, c.id, () => void this.handleExit(c.id)));
  }

  /** The monitor reported an exit: record it, release the rootfs, wake waiters, auto-remove. */
  private async handleExit(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c || (!c.state.Running && c.state.Status !== 'paused')) return;
    const d = this.dirs(id);
    this.exitWatches.get(id)?.close();
    this.exitWatches.delete(id);
    const code = (await this.deps.monitor.readExitCode(id, d.exitDir)) ?? 255;
    await this.deleteFromRuntime(c);
    await this.deps.monitor.release(this.monitorPaths(id)).catch(() => undefined);
    await this.networking.teardown(c);
    await unmountRootfs(d).catch((err) => this.deps.log.warn({ err, container: id }, 'unmount failed'));
    await rm(d.exitDir, { recursive: true, force: true });
    c.state = { ...c.state, Status: 'exited', Running: false, Paused: false, Pid: 0, ExitCode: code, FinishedAt: new Date().toISOString() };
    await this.save(c);
    this.waiters.notify(id, 'exit', { StatusCode: code, Error: null });
    this.deps.log.debug({ container: id, exitCode: code }, 'container exited');
    const ranFor = (Date.parse(c.state.FinishedAt) - Date.parse(c.state.StartedAt)) / 1000;
    this.emit(c, 'die', { exitCode: String(code), execDuration: String(Math.max(0, Math.floor(ranFor))) });
    if (shouldRestart(c.hostConfig.RestartPolicy, { exitCode: code, restartCount: c.restartCount, manuallyStopped: c.hasBeenManuallyStopped })) {
      this.scheduleRestart(c, ranFor * 1000);
      return;
    }
    // Not awaited: an exit seen while another operation holds the lock is removed after it.
    if (c.hostConfig.AutoRemove) {
      void this.locked(id, async () => {
        if (this.containers.has(id) && c.state.Status === 'exited') await this.finishRemove(c);
      }).catch((err) => this.deps.log.error({ err, container: id }, 'auto-remove failed'));
    }
  }

  private async deleteFromRuntime(c: ContainerRecord): Promise<void> {
    try {
      await this.deps.runtimes.forContainer(c.runtime).delete(c.id, true);
    } catch (err) {
      if (!(err instanceof NotFoundError)) this.deps.log.debug({ err, container: c.id }, 'runtime delete failed');
    }
  }

  async stop(ref: string, opts: StopContainerOptions): Promise<void> {
    const c = this.get(ref);
    const signal = parseSignal(opts.signal || c.config.StopSignal || 'SIGTERM');
    await this.locked(c.id, async () => {
      if (c.state.Restarting && this.restarts.cancel(c.id)) {
        // Between two runs: the pending restart is dropped and the container stays down.
        c.hasBeenManuallyStopped = true;
        c.state = { ...c.state, Status: 'exited', Restarting: false };
        await this.save(c);
        return;
      }
      if (!c.state.Running) throw new NotModifiedError('container is already stopped');
      c.hasBeenManuallyStopped = true;
      await this.save(c);
      const timeout = opts.timeout ?? c.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT;
      if (timeout < 0) {
        await this.killAndWait(c, signal, undefined);
        return;
      }
      const exited = await this.killAndWait(c, signal, timeout * 1000).catch(() => false);
      if (!exited) await this.killAndWait(c, 'SIGKILL', 30_000);
    });
    this.emit(c, 'stop');
  }

  async restart(ref: string, opts: StopContainerOptions): Promise<void> {
    const c = this.get(ref);
    await this.stop(c.id, opts).catch((err) => {
      if (!(err instanceof NotModifiedError)) throw err;
    });
    await this.start(c.id);
    this.emit(c, 'restart');
  }

  async kill(ref: string, signalName = 'SIGKILL'): Promise<void> {
    const c = this.get(ref);
    const signal = parseSignal(signalName);
    if (!c.state.Running) throw new ConflictError(`cannot kill container: ${ref}: container ${c.id} is not running`);
    await this.deps.runtimes.forContainer(c.runtime).kill(c.id, signal);
    if (signal === 'SIGKILL') await this.thawForSignal(c);
    this.emit(c, 'kill', { signal: String(signalNumber(signal)) });
  }

  /** `docker top`: the host's ps, rows of the container's processes only. */
  async top(ref: string, psArgs?: string): Promise<TopResult> {
    const c = this.get(ref);
    if (!c.state.Running) throw new ConflictError(`Container ${c.id} is not running`);
    return containerTop(await containerPids(this.deps.cgroupVersion, c.id), psArgs || undefined);
  }

  /**
   * A frozen process only acts on a signal once thawed: like dockerd, a paused container that
   * gets SIGKILL is resumed so it dies (other signals wait for `docker unpause`).
   */
  private async thawForSignal(c: ContainerRecord): Promise<void> {
    if (!c.state.Paused) return;
    await this.deps.runtimes.forContainer(c.runtime).resume(c.id).catch((err) => this.deps.log.debug({ err, container: c.id }, 'resume after kill failed'));
    c.state = { ...c.state, Status: 'running', Paused: false };
    await this.save(c);
    this.emit(c, 'unpause');
  }

  /** `docker pause`: freezes every process of the container (the runtime's freezer). */
  async pause(ref: string): Promise<void> {
    const c = this.get(ref);
    await this.locked(c.id, async () => {
      if (!c.state.Running) throw new ConflictError(`Container ${c.id} is not running`);
      if (c.state.Paused) throw new ConflictError(`Container ${c.id} is already paused`);
      await this.deps.runtimes.forContainer(c.runtime).pause(c.id);
      c.state = { ...c.state, Status: 'paused', Paused: true };
      await this.save(c);
      this.emit(c, 'pause');
    });
  }

  async unpause(ref: string): Promise<void> {
    const c = this.get(ref);
    await this.locked(c.id, async () => {
      if (!c.state.Paused) throw new ConflictError(`Container ${c.id} is not paused`);
      await this.deps.runtimes.forContainer(c.runtime).resume(c.id);
      c.state = { ...c.state, Status: 'running', Paused: false };
      await this.save(c);
      this.emit(c, 'unpause');
    });
  }

  /** Sends `signal` and resolves true once the container exited (false after `ms`). */
  private async killAndWait(c: ContainerRecord, signal: string, ms: number | undefined): Promise<boolean> {
    const exited = this.waiters.add(c.id, 'exit');
    try {
      this.emit(c, 'kill', { signal: String(signalNumber(signal)) });
      await this.deps.runtimes.forContainer(c.runtime).kill(c.id, signal, signal === 'SIGKILL');
      if (signal === 'SIGKILL') await this.thawForSignal(c);
    } catch (err) {
      // Already gone: the exit watcher settles the state.
      this.deps.log.debug({ err, container: c.id }, 'kill failed');
      if (!(await this.deps.runtimes.forContainer(c.runtime).state(c.id).catch(() => undefined))) await this.handleExit(c.id);
    }
    if (!c.state.Running) return true;
    if (ms === undefined) {
      await exited.promise;
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const result = await Promise.race([exited.promise.then(() => true as const), timedOut]);
    clearTimeout(timer);
    exited.cancel();
    return result;
  }

  /** Resolves with the exit status per `condition`; the caller may cancel with `signal`. */
  async wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult> {
    const c = this.get(ref);
    if (condition === 'not-running' && !c.state.Running && c.state.Status !== 'paused') return { StatusCode: c.state.ExitCode, Error: null };
    const w = this.waiters.add(c.id, condition === 'removed' ? 'removed' : 'exit');
    signal?.addEventListener('abort', () => w.cancel());
    return w.promise;
  }

  // ---- logs / attach / resize ----

  logs(ref: string, opts: LogsOptions): { tty: boolean; records: AsyncIterable<LogRecord> } {
    const c = this.get(ref);
    if (!opts.stdout && !opts.stderr) throw new InvalidParameterError('Bad parameters: you must choose at least one stream');
    const isDone = () => !this.containers.get(c.id)?.state.Running;
    return { tty: !!c.config.Tty, records: readLogs(this.dirs(c.id).logPath, opts, isDone) };
  }

  async attach(ref: string, opts: AttachOptions): Promise<void> {
    const c = this.get(ref);
    const tty = !!c.config.Tty;
    const streams = opts.getStreams(tty);
    if (opts.logs) {
      for await (const r of readLogs(this.dirs(c.id).logPath, { stdout: opts.stdout, stderr: opts.stderr, follow: false, timestamps: false, since: 0, until: 0 }, () => true)) {
        streams.write(r.stream === 'stdout' || tty ? 1 : 2, r.data);
      }
    }
    if (!opts.stream) {
      streams.end();
      return;
    }
    const client = this.attachHub.add(c.id, opts, streams, { tty, stdinOnce: !!c.config.StdinOnce, openStdin: !!c.config.OpenStdin });
    this.emit(c, 'attach');
    if (c.state.Running) await this.attachHub.connect(c.id, client, () => this.deps.monitor.attach(this.monitorPaths(c.id)));
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const c = this.get(ref);
    if (!c.state.Running) throw new ConflictError(`Container ${c.id} is not running`);
    if (!c.config.Tty) return;
    await this.deps.monitor.resize(this.monitorPaths(c.id), height, width);
    this.emit(c, 'resize', { height: String(height), width: String(width) });
  }

  private monitorPaths(id: string) {
    const d = this.dirs(id);
    return { bundle: d.bundle, logPath: d.logPath, exitDir: d.exitDir, pidFile: d.pidFile, monitorPidFile: d.monitorPidFile };
  }

  // ---- volumes ----

  /** Creates (or finds) every volume a new container mounts; records names and paths. */
  private async createVolumes(mounts: MountPoint[]): Promise<void> {
    for (const m of mounts) {
      if (m.Type !== 'volume') continue;
      m.Name = await this.deps.volumes.ensure(m.Name || undefined, m.anonymous ? { 'com.docker.volume.anonymous': '' } : undefined);
      m.Source = (await this.deps.volumes.mountSource(m.Name)).source;
    }
  }

  /** `docker rm -v` (and a failed create): anonymous volumes go, unless another container uses them. */
  private async removeAnonymousVolumes(mounts: MountPoint[]): Promise<void> {
    for (const m of mounts) {
      if (m.Type !== 'volume' || !m.anonymous || !m.Name) continue;
      await this.deps.volumes.remove(m.Name, { force: false }).catch((err) => this.deps.log.debug({ err, volume: m.Name }, 'anonymous volume kept'));
    }
  }

  /** Containers that mount a volume (the volume service refuses to remove those). */
  usersOfVolume(name: string): string[] {
    return [...this.containers.values()].filter((c) => c.mounts?.some((m) => m.Type === 'volume' && m.Name === name)).map((c) => c.id);
  }

  // ---- networks ----

  /** `docker network connect`: on a running container the endpoint is attached at once. */
  async connectNetwork(networkRef: string, containerRef: string, req: EndpointRequest = {}): Promise<void> {
    const c = this.get(containerRef);
    const n = await this.deps.networks.get(networkRef);
    const mode = parseNetworkMode(c.hostConfig.NetworkMode);
    if (mode.kind !== 'bridge') throw new ForbiddenError(`container sharing network namespace with another container or host cannot be connected to any other network`);
    checkEndpoint(n, req, n.Name === 'bridge');
    await this.locked(c.id, async () => {
      await this.networking.connect(c, n, emptyEndpoint(n.Id, req));
      await this.save(c);
    });
  }

  /** `force` is accepted for API compatibility; an endpoint is always removed when asked. */
  async disconnectNetwork(networkRef: string, containerRef: string, force = false): Promise<void> {
    const c = this.get(containerRef);
    const n = await this.deps.networks.get(networkRef);
    this.deps.log.debug({ container: c.id, network: n.Id, force }, 'disconnect');
    await this.locked(c.id, async () => {
      await this.networking.disconnect(c, n);
      await this.save(c);
    });
  }

  /** Attached endpoints on a network (network inspect, removal check). */
  endpointsOn(networkId: string) {
    return this.networking.endpointsOn(networkId);
  }

  /** Running containers' namespaces, so the network layer keeps them at start-up cleanup. */
  liveNetns(): string[] {
    return [...this.containers.values()].map((c) => c.network?.netnsPath).filter((p): p is string => !!p);
  }

  // ---- archive ----
  // docker cp / export / diff; the logic lives in ./archive/.

  private archiveOps?: ContainerArchive;

  private get archive(): ContainerArchive {
    this.archiveOps ??= new ContainerArchive({
      dirs: (id) => this.dirs(id),
      layerDirs: (imageId) => this.deps.images.layerDirs(imageId),
      locked: (id, fn) => this.locked(id, fn),
      volumeDir: async (name) => {
        const src = await this.deps.volumes.mountSource(name);
        return src.type === 'tmpfs' ? undefined : src.source;
      },
      fsTools: new FsTools(),
      log: this.deps.log,
    });
    return this.archiveOps;
  }

  statPath(ref: string, path: string): Promise<PathStat> {
    return this.archive.statPath(this.get(ref), path);
  }

  getArchive(ref: string, path: string): Promise<ArchiveStream> {
    return this.archive.getArchive(this.get(ref), path);
  }

  putArchive(ref: string, body: Readable, opts: PutArchiveOptions): Promise<void> {
    return this.archive.putArchive(this.get(ref), body, opts);
  }

  export(ref: string): Promise<Readable> {
    return this.archive.export(this.get(ref));
  }

  changes(ref: string): Promise<Change[]> {
    return this.archive.changes(this.get(ref));
  }

  /** POST /commit: the container's changes as a new image on top of its own. */
  async commit(ref: string, opts: CommitOptions): Promise<string> {
    const c = this.get(ref);
    const config = commitImageConfig(c.config, opts.config, opts.changes ?? []);
    const layer = await this.archive.layerTar(c);
    try {
      const id = await this.deps.images.commit({
        parentId: c.image,
        layer,
        config,
        author: opts.author,
        comment: opts.comment,
        createdBy: [c.path, ...c.args].join(' '),
        repo: opts.repo,
        tag: opts.tag,
      });
      this.emit(c, 'commit', { comment: opts.comment ?? '', imageID: id, imageRef: opts.repo ? `${opts.repo}:${opts.tag || 'latest'}` : '' });
      return id;
    } finally {
      layer.destroy();
    }
  }

  // ---- helpers ----

  /** A container event: attributes are its labels, image and name (dockerd's). */
  private emit(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    const attrs = { ...(c.config.Labels ?? {}), image: String(c.config.Image ?? ''), name: c.name.replace(/^\//, ''), ...extra };
    this.deps.events?.publish('container', action, { ID: c.id, Attributes: attrs });
  }

  private async save(c: ContainerRecord): Promise<void> {
    if (!this.containers.has(c.id)) return;
    await this.deps.store.put(KEY.container(c.id), c);
  }

  private assertNameFree(name: string): void {
    for (const other of this.containers.values()) {
      if (other.name === name) {
        throw new ConflictError(
          `Conflict. The container name "${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
    }
  }

  private freeGeneratedName(id: string): string {
    const taken = new Set([...this.containers.values()].map((c) => c.name));
    for (let i = 0; i < 6; i++) {
      const name = generateName();
      if (!taken.has(name)) return name;
    }
    return `/${shortId(id)}`;
  }

  private withNameLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.nameLock.then(fn, fn);
    this.nameLock = run.catch(() => undefined);
    return run;
  }

  /** Serializes lifecycle operations on one container. */
  private locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    });
    return run;
  }
}
