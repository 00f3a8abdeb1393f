import { mkdir, rm } from 'node:fs/promises';
import type { DaemonSeccomp } from './seccomp';
import { hostname as osHostname } from 'node:os';
import type { Logger } from 'pino';
import type { ContainerMonitor, OciRuntime } from '../../runtime/types';
import { ConflictError, ForbiddenError, InvalidParameterError, NotImplementedError, errNoSuchContainer } from '../../errors';
import type { ContainerImageConfig, ImageRecord } from '../images/types';
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
import { parseDetachKeys } from './detach-keys';
import { ExecService } from './exec/exec-service';
import type { TopResult } from './top';
import { statsSamples, type ContainerStats, type StatsOptions } from './stats';
import { hostDevices, hostResources, ulimits } from './host-resources';
import { ALL_CAPABILITIES, hostCapabilities } from './oci-spec';
import { restartsOnBoot, validateRestartPolicy } from './restart-policy';
import { ContainerLifecycle } from './lifecycle';
import { HealthMonitors } from './health/health-monitor';
import type { EventSink } from '../events/event-log';
import type { VolumeLookup } from './mount-spec';
import { parseVolumesFrom, planMounts, type MountPoint } from './mounts';
import { ContainerNetworking, type NetworkDirectory, type Plumbing } from './container-network';
import { linkName } from './legacy-links';
import { checkEndpoint, emptyEndpoint, parseNetworkMode, type EndpointRequest } from './network-plan';
import { mergeImageConfig, validateConfig } from './config-merge';
import { containerDirs, type ContainerDirs } from './container-files';
import { matchesFilters, validateContainerFilters } from './filters';
import { labelsMatch, parseTimeFilter, validateFilterKeys, type Filters } from '../filter-args';
import { treeSize } from '../tree-size';
import { readLogs } from './log-reader';
import { logAttributes, logDetails, logFiles, logSettings, normalizeLogConfig, validateLogConfig, type LogSource } from './log-config';
import { LogShipper, type ShipTarget } from './log-shipper';
import { generateId, shortId } from '../ids';
import { generateName, normalizeName } from './names';
import { isMounted, unmountRootfs } from './rootfs';
import { ContainerStarter } from './starter';
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
  type HostConfig,
} from './types';
import { containerInspect, containerSummary } from './views';
import { PhaseClock } from '../phase-clock';

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
  /** The daemon's seccomp setting (`--seccomp-profile`). */
  seccomp: DaemonSeccomp;
}

/** Checks limits, ulimits and devices now (400 at create, not at start); returns dockerd-style warnings. */
function checkHostConfig(hc: HostConfig): string[] {
  validateLogConfig(hc.LogConfig);
  hostResources(hc);
  ulimits(hc);
  hostDevices(hc);
  const warnings: string[] = [];
  if (hc.Privileged) {
    const missing = ALL_CAPABILITIES.filter((cap) => !hostCapabilities().includes(cap));
    if (missing.length) warnings.push(`Privileged: this host does not grant ${missing.join(', ')}; the container gets every other capability`);
  }
  return warnings;
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
  /** Pause a running container while committing (default true, as dockerd). */
  pause?: boolean;
  /** Builds: the new image's config exactly (no merging with the container's). */
  imageConfig?: ContainerImageConfig;
  /** Builds: the history entry's created_by (default: the container's command). */
  createdBy?: string;
  /** Builds: see ImageRecord.buildKey. */
  buildKey?: string;
}


/**
 * Owns containers: their records, names and lifecycle (create → start → exit → remove), and
 * the monitors that run them. State lives in the store; this class caches it in memory.
 */
export class ContainerService {
  private readonly containers = new Map<string, ContainerRecord>();
  private readonly lifecycle: ContainerLifecycle;
  private readonly health: HealthMonitors;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly attachHub: AttachHub;
  private readonly logShipper: LogShipper;
  private readonly starter: ContainerStarter;
  readonly networking: ContainerNetworking;
  readonly execs: ExecService;
  private nameLock: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ContainerServiceDeps) {
    this.attachHub = new AttachHub(deps.log);
    this.logShipper = new LogShipper(deps.log);
    this.attachHub.onDetach = (id) => {
      const c = this.containers.get(id);
      if (c) this.emit(c, 'detach');
    };
    this.networking = new ContainerNetworking({
      plumbing: deps.plumbing,
      networks: deps.networks,
      log: deps.log,
      containers: () => this.containers.values(),
      lookup: (ref) => this.get(ref),
      etcPaths: (c) => this.dirs(c.id),
      events: deps.events,
    });
    this.starter = new ContainerStarter(deps, this.attachHub, this.networking, { lookup: (ref) => this.get(ref), dirs: (id) => this.dirs(id) });
    this.health = new HealthMonitors({
      find: (id) => this.containers.get(id),
      save: (c) => this.save(c),
      emit: (c, action, extra) => this.emit(c, action, extra),
      probe: (id, cmd, timeoutMs) => this.execs.run(id, cmd, timeoutMs),
      log: deps.log,
    });
    this.lifecycle = new ContainerLifecycle(
      deps,
      {
        has: (id) => this.containers.has(id),
        find: (id) => this.containers.get(id),
        get: (ref) => this.get(ref),
        dirs: (id) => this.dirs(id),
        save: (c) => this.save(c),
        locked: (id, fn) => this.locked(id, fn),
        emit: (c, action, extra) => this.emit(c, action, extra),
        finishRemove: (c) => this.finishRemove(c),
        monitorPaths: (id) => this.monitorPaths(id),
        logTarget: (c) => this.logTarget(c),
      },
      { starter: this.starter, attachHub: this.attachHub, networking: this.networking, health: this.health, logShipper: this.logShipper },
    );
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
      // What the container printed after the daemon last shipped its log (it exited meanwhile).
      if (c.state.StartedAt !== NULL_TIME) await this.lifecycle.finishLogs(c);
      if (c.hostConfig.AutoRemove && c.state.FinishedAt !== NULL_TIME) return this.finishRemove(c);
      // An exit recorded just before a crash: its run was not released yet.
      if (c.network?.netnsPath || (await isMounted(dirs.merged))) await this.lifecycle.releaseAfterExit(c);
      if (c.state.Restarting || restartsOnBoot(c.hostConfig.RestartPolicy, c.state.StartedAt !== NULL_TIME, c.hasBeenManuallyStopped)) {
        this.lifecycle.scheduleRestart(c, 0);
      }
      return;
    }
    const code = await this.deps.monitor.readExitCode(c.id, dirs.exitDir);
    if (code !== undefined || !(await this.deps.monitor.isAlive(dirs.monitorPidFile))) {
      await this.lifecycle.handleExit(c.id);
      return;
    }
    await this.networking.restore(c);
    this.lifecycle.watch(c);
    this.lifecycle.shipLogs(c);
    this.health.resume(c);
  }

  /** Closes watchers; containers keep running under their monitors. */
  close(): void {
    this.lifecycle.close();
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
      .filter((c) => opts.all || (opts.limit ?? 0) > 0 || opts.filters.status?.length || c.state.Running || c.state.Status === 'paused' || c.state.Status === 'restarting')
      .filter((c) => matchesFilters(c, opts.filters, resolveImage, createdOf))
      .sort((a, b) => (a.created < b.created ? 1 : -1));
    if (opts.limit !== undefined && opts.limit > 0) items = items.slice(0, opts.limit);
    const linkNames = this.linkNamesByChild();
    const summary = (c: ContainerRecord) => containerSummary(c, linkNames.get(c.id));
    if (!opts.size) return items.map(summary);
    return Promise.all(
      items.map(async (c) => {
        const image = await this.deps.images.resolve(c.image).catch(() => undefined);
        return { ...summary(c), ...(await this.sizes(c, image?.size ?? 0)) };
      }),
    );
  }

  /**
   * Bytes a container wrote to its own layer (SizeRw) and that plus its image (SizeRootFs), as
   * `docker ps -s` and `docker system df` show them.
   */
  async sizes(c: ContainerRecord, imageSize: number): Promise<{ SizeRw: number; SizeRootFs: number }> {
    const rw = await treeSize(this.dirs(c.id).upper).catch(() => 0);
    return { SizeRw: rw, SizeRootFs: rw + imageSize };
  }

  /** POST /containers/prune: stopped containers that pass the filters (until, label, label!). */
  async prune(filters: Filters): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
    validateFilterKeys(filters, new Set(['until', 'label', 'label!']));
    const until = filters.until?.length ? parseTimeFilter(filters.until[0], Date.now()) : undefined;
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const c of [...this.containers.values()]) {
      if (c.state.Running || c.state.Paused || c.state.Restarting || c.state.Status === 'removing') continue;
      const labels = c.config.Labels ?? {};
      if (until !== undefined && !(Date.parse(c.created) < until)) continue;
      if (!labelsMatch(filters.label ?? [], labels)) continue;
      if (filters['label!']?.length && labelsMatch(filters['label!'], labels)) continue;
      const size = (await this.sizes(c, 0)).SizeRw;
      try {
        await this.remove(c.id, { force: false, removeVolumes: false });
        deleted.push(c.id);
        reclaimed += size;
      } catch (err) {
        this.deps.log.debug({ err, container: c.id }, 'container kept by prune');
      }
    }
    return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }

  /** `size`: also SizeRw and SizeRootFs (cri-dockerd's stats read them and fail without). */
  async inspect(ref: string, opts: { size?: boolean } = {}) {
    const c = this.get(ref);
    const d = this.dirs(c.id);
    const lowerDirs = await this.deps.images.layerDirs(c.image).catch(() => []);
    const image = opts.size ? await this.deps.images.resolve(c.image).catch(() => undefined) : undefined;
    return containerInspect(c, { ...d, lowerDirs }, this.linksOf(c), opts.size ? await this.sizes(c, image?.size ?? 0) : undefined);
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
    const warnings = checkHostConfig(opts.hostConfig ?? {});
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
      hostConfig: { ...hostConfig, Runtime: runtimeName, LogConfig: normalizeLogConfig(hostConfig.LogConfig) },
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
    return { Id: id, Warnings: warnings };
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
    if (opts.link) return this.removeLink(ref);
    const c = this.get(ref);
    await this.locked(c.id, async () => {
      if (c.state.Running || c.state.Status === 'paused') {
        if (!opts.force) {
          throw new ConflictError(`cannot remove container "${c.name}": container is running: stop the container before removing or force remove`);
        }
        await this.lifecycle.killAndWait(c, 'SIGKILL', 30_000);
      }
      if (c.state.Status === 'removing') throw new ConflictError(`removal of container ${c.id} is already in progress`);
      if (c.state.Restarting) {
        if (!opts.force) throw new ConflictError('You cannot remove a restarting container. Stop the container before attempting removal or force remove');
        this.lifecycle.restarts.reset(c.id);
      }
      await this.finishRemove(c);
      if (opts.removeVolumes) await this.removeAnonymousVolumes(c.mounts ?? []);
    });
  }

  /** `docker rm --link parent/alias` (dockerd's rmLink): the link goes, both containers stay. */
  private async removeLink(ref: string): Promise<void> {
    const name = ref.startsWith('/') ? ref : `/${ref}`;
    const cut = name.lastIndexOf('/');
    if (cut === 0) {
      this.get(ref);
      throw new Error('Conflict, cannot remove the default link name of the container');
    }
    const parentName = name.slice(0, cut);
    const alias = name.slice(cut + 1);
    const parent = [...this.containers.values()].find((c) => c.name === parentName);
    const link = parent?.network?.links?.find((l) => l.alias === alias && this.containers.has(l.id));
    if (!parent || !link) throw errNoSuchContainer(ref);
    await this.locked(parent.id, async () => {
      await this.networking.links.remove(parent, alias);
      await this.save(parent);
    });
  }

  /** Legacy link names by child ID (`/<parent>/<alias>`), shown among the child's Names. */
  private linkNamesByChild(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const p of this.containers.values()) {
      for (const l of p.network?.links ?? []) out.set(l.id, [...(out.get(l.id) ?? []), linkName(p.name, l.alias)]);
    }
    return out;
  }

  /** HostConfig.Links as dockerd shows them: `/<child>:/<parent>/<alias>`, null when none. */
  private linksOf(c: ContainerRecord): string[] | null {
    const out: string[] = [];
    for (const l of c.network?.links ?? []) {
      const child = this.containers.get(l.id);
      if (child) out.push(`${child.name}:${linkName(c.name, l.alias)}`);
    }
    return out.length ? out : null;
  }

  /**
   * Removes `c` (the caller holds its lock). One store write makes the removal durable (a daemon
   * that dies before the end finishes it at start); the container is then gone for clients, and
   * what it held on the host (runtime state, endpoints, rootfs, files) is released after they
   * were told, as nothing can reach it any more.
   */
  private async finishRemove(c: ContainerRecord): Promise<void> {
    const phases = new PhaseClock();
    c.state.Status = 'removing';
    await this.deps.store.batch([
      { type: 'put', key: KEY.container(c.id), value: c },
      { type: 'del', key: KEY.containerName(c.name) },
    ]);
    phases.mark('store');
    this.lifecycle.unwatch(c.id);
    this.attachHub.endAll(c.id);
    this.containers.delete(c.id);
    this.lifecycle.restarts.reset(c.id);
    this.execs.forget(c.id);
    this.lifecycle.waiters.notify(c.id, 'removed', { StatusCode: c.state.ExitCode, Error: null });
    this.lifecycle.waiters.forget(c.id);
    this.emit(c, 'destroy');
    const d = this.dirs(c.id);
    await Promise.all([this.lifecycle.releaseRun(c), unmountRootfs(d)]);
    this.lifecycle.forgetRuntime(c.id);
    phases.mark('release');
    await rm(d.dir, { recursive: true, force: true });
    phases.mark('files');
    await this.deps.store.del(KEY.container(c.id));
    this.deps.log.debug({ container: c.id, phases: phases.done() }, 'container removed');
    await this.deps.images.releaseRemoved().catch((err) => this.deps.log.warn({ err }, 'releasing removed images failed'));
  }

  // ---- start / stop / kill / wait (lifecycle.ts) ----

  start(ref: string): Promise<void> {
    return this.lifecycle.start(ref);
  }

  stop(ref: string, opts: StopContainerOptions): Promise<void> {
    return this.lifecycle.stop(ref, opts);
  }

  restart(ref: string, opts: StopContainerOptions): Promise<void> {
    return this.lifecycle.restart(ref, opts);
  }

  kill(ref: string, signalName?: string): Promise<void> {
    return this.lifecycle.kill(ref, signalName);
  }

  pause(ref: string): Promise<void> {
    return this.lifecycle.pause(ref);
  }

  unpause(ref: string): Promise<void> {
    return this.lifecycle.unpause(ref);
  }

  wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult> {
    return this.lifecycle.wait(ref, condition, signal);
  }

  top(ref: string, psArgs?: string): Promise<TopResult> {
    return this.lifecycle.top(ref, psArgs);
  }

  update(ref: string, changes: HostConfig): Promise<string[]> {
    return this.lifecycle.update(ref, changes);
  }

  // ---- stats ----

  /** GET /containers/{id}/stats (see stats.ts). */
  stats(ref: string, opts: StatsOptions): AsyncGenerator<ContainerStats> {
    return statsSamples(this.get(ref), this.deps.cgroupVersion, opts);
  }

  // ---- logs / attach / resize ----

  logs(ref: string, opts: LogsOptions): { tty: boolean; batches: AsyncIterable<LogRecord[]>; details: string } {
    const c = this.get(ref);
    if (!opts.stdout && !opts.stderr) throw new InvalidParameterError('Bad parameters: you must choose at least one stream');
    const isDone = () => !this.containers.get(c.id)?.state.Running;
    const details = logDetails(this.logSource(c));
    // Following ends as soon as the container stops, not at the next poll.
    const stopped = opts.follow ? this.lifecycle.wait(c.id, 'not-running', opts.signal).catch(() => undefined) : undefined;
    return { tty: !!c.config.Tty, batches: this.shippedLogs(c.id, this.logFilesOf(c), opts, isDone, stopped), details };
  }

  /** The driver's log as a reader sees it once what the monitor wrote so far is shipped. */
  private async *shippedLogs(id: string, files: string[], opts: LogsOptions, isDone: () => boolean, stopped?: Promise<unknown>): AsyncGenerator<LogRecord[]> {
    await this.logShipper.catchUp(id);
    yield* readLogs(files, opts, isDone, stopped);
  }

  async attach(ref: string, opts: AttachOptions): Promise<void> {
    const c = this.get(ref);
    if (opts.detachKeys) parseDetachKeys(opts.detachKeys);
    const tty = !!c.config.Tty;
    const streams = opts.getStreams(tty);
    if (opts.logs) {
      for await (const batch of this.shippedLogs(c.id, this.logFilesOf(c), { stdout: opts.stdout, stderr: opts.stderr, follow: false, timestamps: false, since: 0, until: 0 }, () => true)) {
        for (const r of batch) streams.write(r.stream === 'stdout' || tty ? 1 : 2, Buffer.from(r.text));
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

  /** The container's log files, oldest first; 501 when its log driver keeps none (dockerd's words). */
  private logFilesOf(c: ContainerRecord): string[] {
    const target = this.logTarget(c);
    if (!target) throw new NotImplementedError('configured logging driver does not support reading');
    return logFiles(target.logPath, target.rotation.maxFile);
  }

  /** Where the monitor's log of `c` is shipped to, and how; undefined for the `none` driver. */
  logTarget(c: ContainerRecord): ShipTarget | undefined {
    let settings;
    try {
      settings = logSettings(c.hostConfig.LogConfig);
    } catch {
      // Values are checked at start; a container that never started with them has no log.
      settings = { driver: normalizeLogConfig(c.hostConfig.LogConfig).Type === 'none' ? 'none' : 'json-file', maxFile: 1 } as const;
    }
    if (settings.driver === 'none') return undefined;
    const d = this.dirs(c.id);
    const paths = this.monitorPaths(c.id);
    return {
      id: c.id,
      monitorLog: d.monitorLogPath,
      statePath: d.logShipState,
      logPath: settings.driver === 'local' ? d.localLogPath : d.logPath,
      rotation: { maxSize: settings.maxSize, maxFile: settings.maxFile },
      attrs: logAttributes(this.logSource(c)),
      reopen: () => this.deps.monitor.reopenLog(paths),
    };
  }

  private logSource(c: ContainerRecord): LogSource {
    return {
      opts: c.hostConfig.LogConfig?.Config,
      labels: c.config.Labels ?? {},
      env: c.config.Env ?? [],
      id: c.id,
      name: c.name.replace(/^\//, ''),
      imageName: String(c.config.Image ?? ''),
      imageId: c.image,
    };
  }

  monitorPaths(id: string) {
    const d = this.dirs(id);
    return { bundle: d.bundle, logPath: d.monitorLogPath, exitDir: d.exitDir, pidFile: d.pidFile, monitorPidFile: d.monitorPidFile };
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

  /** Resolves once every exit recorded so far has been released (see ContainerLifecycle.handleExit). */
  exitsReleased(): Promise<void> {
    return this.lifecycle.exitsReleased();
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
    const config = opts.imageConfig ?? commitImageConfig(c.config, opts.config, opts.changes ?? []);
    // dockerd pauses a running container while its layer is read (unless --pause=false). A
    // container that exits meanwhile cannot be paused and needs no pause: dockerd ignores a
    // failed pause and commits all the same.
    let paused = false;
    if (opts.pause !== false && c.state.Running && !c.state.Paused) {
      paused = await this.lifecycle.pause(c.id).then(
        () => true,
        (err) => {
          this.deps.log.debug({ err, container: c.id }, 'pause for commit failed; committing unpaused');
          return false;
        },
      );
    }
    try {
      return await this.commitPaused(c, config, opts);
    } finally {
      if (paused) await this.lifecycle.unpause(c.id).catch((err) => this.deps.log.warn({ err, container: c.id }, 'unpause after commit failed'));
    }
  }

  private async commitPaused(c: ContainerRecord, config: ContainerImageConfig, opts: CommitOptions): Promise<string> {
    const layer = await this.archive.layerTar(c);
    try {
      const id = await this.deps.images.commit({
        parentId: c.image,
        layer,
        config,
        author: opts.author,
        comment: opts.comment,
        createdBy: opts.createdBy ?? [c.path, ...c.args].join(' '),
        repo: opts.repo,
        tag: opts.tag,
        buildKey: opts.buildKey,
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
