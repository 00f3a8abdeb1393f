/**
 * A container's run-time life: start (and the restart policy's restarts), the exit its monitor
 * reports, stop/kill/pause, waiting, and `docker top`. The container service owns the records
 * and hands this class what it needs through LifecycleHost.
 */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runtimeErrorKind } from '../../runtime/oci-cli';
import { ConflictError, InvalidParameterError, NotFoundError, NotModifiedError } from '../../errors';
import { hostResources } from './host-resources';
import type { AttachHub } from './attach-hub';
import { containerPids } from './cgroup-files';
import type { ContainerDirs } from './container-files';
import type { ContainerNetworking } from './container-network';
import type { ContainerServiceDeps, ExitWatch } from './container-service';
import { ExitWaiters } from './exit-waiters';
import { RestartTimers, shouldRestart, validateRestartPolicy } from './restart-policy';
import { unmountRootfs } from './rootfs';
import { parseSignal, signalNumber } from './signals';
import { startError, type ContainerStarter } from './starter';
import { containerTop, type TopResult } from './top';
import type { HealthMonitors } from './health/health-monitor';
import { logSettings } from './log-config';
import type { LogShipper, ShipTarget } from './log-shipper';
import { NULL_TIME, type ContainerRecord, type HostConfig, type StopContainerOptions, type WaitCondition, type WaitResult } from './types';
import { PhaseClock } from '../phase-clock';

export interface LifecycleHost {
  has(id: string): boolean;
  find(id: string): ContainerRecord | undefined;
  get(ref: string): ContainerRecord;
  dirs(id: string): ContainerDirs;
  save(c: ContainerRecord): Promise<void>;
  locked<T>(id: string, fn: () => Promise<T>): Promise<T>;
  emit(c: ContainerRecord, action: string, extra?: Record<string, string>): void;
  finishRemove(c: ContainerRecord): Promise<void>;
  monitorPaths(id: string): { bundle: string; logPath: string; exitDir: string; pidFile: string; monitorPidFile: string };
  logTarget(c: ContainerRecord): ShipTarget | undefined;
}

export interface LifecycleParts {
  starter: ContainerStarter;
  logShipper: LogShipper;
  health: HealthMonitors;
  attachHub: AttachHub;
  networking: ContainerNetworking;
}

const DEFAULT_STOP_TIMEOUT = 10;
/** How long `docker kill` waits for a SIGKILLed container to be reported down (dockerd: 10 s). */
const KILL_WAIT_MS = 10_000;

/** The resource fields `docker update` changes (RestartPolicy is handled on its own). */
const UPDATABLE = ['Memory', 'MemorySwap', 'MemoryReservation', 'CpuShares', 'NanoCpus', 'CpuQuota', 'CpuPeriod', 'CpusetCpus', 'CpusetMems', 'PidsLimit', 'BlkioWeight'] as const;

export class ContainerLifecycle {
  readonly waiters = new ExitWaiters();
  readonly restarts = new RestartTimers();
  private readonly exitWatches = new Map<string, ExitWatch>();
  /** Exits whose release (queued on the container's lock) is not done yet. */
  private readonly releasing = new Map<string, Promise<void>>();
  /**
   * Containers a user killed: their next exit is not the restart policy's to undo (dockerd's
   * ExitOnNext). In memory only, as dockerd's restart manager is: a daemon restart forgets it.
   */
  private readonly exitOnNext = new Set<string>();
  /** Containers whose runtime state was deleted since their last start. */
  private readonly deletedFromRuntime = new Set<string>();

  constructor(
    private readonly deps: ContainerServiceDeps,
    private readonly host: LifecycleHost,
    private readonly parts: LifecycleParts,
  ) {}

  /** Stops watching a container's exit (it is being removed, or the daemon stops). */
  unwatch(id: string): void {
    this.parts.health.stop(id);
    this.parts.logShipper.forget(id);
    this.exitWatches.get(id)?.close();
    this.exitWatches.delete(id);
  }

  /** dockerd's volume `mount`/`unmount` events, one per named or anonymous volume of `c`. */
  private volumeEvents(c: ContainerRecord, action: 'mount' | 'unmount'): void {
    for (const m of c.mounts ?? []) {
      if (m.Type !== 'volume' || !m.Name) continue;
      const attrs: Record<string, string> = { container: c.id, driver: m.Driver || 'local' };
      if (action === 'mount') Object.assign(attrs, { destination: m.Destination, propagation: m.Propagation, 'read/write': String(m.RW) });
      this.deps.events?.publish('volume', action, { ID: m.Name, Attributes: attrs });
    }
  }

  /** Ships a running container's log into its driver's file as the monitor writes it. */
  shipLogs(c: ContainerRecord): void {
    const target = this.host.logTarget(c);
    if (target) this.parts.logShipper.follow(target);
  }

  /** Ships what is left of the log of a container whose monitor has exited. */
  async finishLogs(c: ContainerRecord): Promise<void> {
    const target = this.host.logTarget(c);
    if (target) await this.parts.logShipper.finish(target).catch((err) => this.deps.log.warn({ err, container: c.id }, 'log shipping failed'));
  }

  close(): void {
    this.parts.logShipper.close();
    this.parts.health.close();
    this.restarts.close();
    for (const w of this.exitWatches.values()) w.close();
    this.exitWatches.clear();
  }

  async start(ref: string): Promise<void> {
    const c = this.host.get(ref);
    await this.host.locked(c.id, async () => {
      if (c.state.Status === 'paused') throw new ConflictError('cannot start a paused container, try unpause instead');
      if (c.state.Running) throw new NotModifiedError('container is already running');
      if (c.state.Status === 'removing') throw new ConflictError(`container is marked for removal and cannot be started`);
      // A user's start: the policy's count and back-off start over (dockerd resets them too).
      this.restarts.reset(c.id);
      this.exitOnNext.delete(c.id);
      c.restartCount = 0;
      await this.startLocked(c);
    });
  }

  /** Starts `c` (the caller holds its lock); records a failure as dockerd does. */
  async startLocked(c: ContainerRecord): Promise<void> {
    try {
      // Option values are checked when the log starts, as dockerd's driver does (500).
      logSettings(c.hostConfig.LogConfig);
      const target = this.host.logTarget(c);
      if (target) await this.parts.logShipper.reset(target);
      this.deletedFromRuntime.delete(c.id); // a new run: the runtime holds the container again
      const { pid } = await this.parts.starter.start(c, this.host.dirs(c.id));
      c.state = { ...c.state, Status: 'running', Running: true, Restarting: false, OOMKilled: false, Pid: pid, ExitCode: 0, Error: '', StartedAt: new Date().toISOString(), FinishedAt: NULL_TIME };
      c.hasBeenManuallyStopped = false;
      this.parts.health.start(c);
      this.shipLogs(c);
      await this.host.save(c);
      this.volumeEvents(c, 'mount');
      this.watch(c);
      this.host.emit(c, 'start');
    } catch (cause) {
      const err = startError(c, cause);
      const kind = runtimeErrorKind(err.message);
      const code = kind === 'command-not-found' ? 127 : kind === 'permission-denied' ? 126 : 128;
      c.state = { ...c.state, Status: c.state.StartedAt === NULL_TIME ? 'created' : 'exited', Running: false, Restarting: false, Pid: 0, ExitCode: code, Error: err.message };
      await this.host.save(c);
      this.parts.attachHub.endUnconnected(c.id);
      if (c.hostConfig.AutoRemove) {
        this.waiters.notify(c.id, 'exit', { StatusCode: code, Error: null });
        await this.host.finishRemove(c);
      }
      throw err;
    }
  }

  /** The restart policy's turn: start `c` again after its back-off (`ranMs`: its last run). */
  scheduleRestart(c: ContainerRecord, ranMs: number): void {
    c.state = { ...c.state, Status: 'restarting', Restarting: true };
    void this.host.save(c);
    const delay = this.restarts.schedule(c.id, ranMs, () => {
      void this.host.locked(c.id, async () => {
        if (!this.host.has(c.id) || !c.state.Restarting) return;
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

  watch(c: ContainerRecord): void {
    this.exitWatches.get(c.id)?.close();
    const d = this.host.dirs(c.id);
    this.exitWatches.set(c.id, this.deps.watchExit(d.exitDir, c.id, () => void this.handleExit(c.id)));
  }

  /**
   * The monitor reported an exit: record it, wake waiters, then release what the run held and
   * auto-remove. As dockerd does, waiters learn of the exit before the cleanup; the cleanup is
   * queued on the container's lock at once, so whatever sees the new state (a start, a removal,
   * a copy from the container) runs after it. Not awaited here: a caller holding the lock (a stop
   * whose kill found the container gone) would wait for itself.
   */
  async handleExit(id: string): Promise<void> {
    const c = this.host.find(id);
    if (!c || (!c.state.Running && c.state.Status !== 'paused')) return;
    const d = this.host.dirs(id);
    this.exitWatches.get(id)?.close();
    this.exitWatches.delete(id);
    this.parts.health.stop(id);
    const phases = new PhaseClock();
    // Every line is in the log file before anyone learns of the exit (docker wait; docker logs).
    await this.finishLogs(c);
    phases.mark('logs');
    this.volumeEvents(c, 'unmount');
    const code = (await this.deps.monitor.readExitCode(id, d.exitDir)) ?? 255;
    // conmon leaves an `oom` file in the bundle when the kernel OOM-killed in the cgroup.
    const oomKilled = await stat(join(d.bundle, 'oom')).then(() => true, () => false);
    if (oomKilled) {
      await rm(join(d.bundle, 'oom'), { force: true });
      this.host.emit(c, 'oom');
    }
    c.state = { ...c.state, Status: 'exited', Running: false, Paused: false, Pid: 0, ExitCode: code, OOMKilled: oomKilled, FinishedAt: new Date().toISOString() };
    const killed = this.exitOnNext.delete(id);
    const restart = shouldRestart(c.hostConfig.RestartPolicy, { exitCode: code, restartCount: c.restartCount, manuallyStopped: c.hasBeenManuallyStopped || killed });
    const autoRemove = !!c.hostConfig.AutoRemove && !restart;
    const released = this.host.locked(id, async () => {
      if (!this.host.has(id)) return;
      if (autoRemove) {
        if (c.state.Status === 'exited') await this.host.finishRemove(c);
        return;
      }
      await this.releaseAfterExit(c);
      phases.mark('release');
    });
    const settled = released.catch(() => undefined);
    this.releasing.set(id, settled);
    void settled.then(() => {
      if (this.releasing.get(id) === settled) this.releasing.delete(id);
    });
    // Told before the record is saved: the exit code is on disk already (the monitor's exit
    // file), so a daemon that dies before the save records the same exit again at start.
    this.waiters.notify(id, 'exit', { StatusCode: code, Error: null });
    const ranFor = (Date.parse(c.state.FinishedAt) - Date.parse(c.state.StartedAt)) / 1000;
    this.host.emit(c, 'die', { exitCode: String(code), execDuration: String(Math.max(0, Math.floor(ranFor))) });
    await this.host.save(c);
    phases.mark('save');
    // The restart itself takes the lock later than the release, so it runs after it.
    if (restart) this.scheduleRestart(c, ranFor * 1000);
    void released.then(
      () => this.deps.log.debug({ container: id, exitCode: code, phases: phases.done() }, 'container exited'),
      (err) => this.deps.log.error({ err, container: id }, autoRemove ? 'auto-remove failed' : 'releasing an exited container failed'),
    );
  }

  /**
   * What an exited run leaves behind once nobody waits for it: runtime state, monitor files,
   * endpoints and the mounted rootfs. Idempotent; also run at daemon start for a run whose
   * release a crash cut short.
   */
  async releaseAfterExit(c: ContainerRecord): Promise<void> {
    const d = this.host.dirs(c.id);
    // The rootfs is no part of what the runtime, the monitor or the network release.
    await Promise.all([
      this.releaseRun(c),
      unmountRootfs(d).catch((err) => this.deps.log.warn({ err, container: c.id }, 'unmount failed')),
    ]);
    await rm(d.exitDir, { recursive: true, force: true });
    // The network part changed the record (no namespace, no live endpoints).
    if (this.host.has(c.id)) await this.host.save(c);
  }

  /**
   * What a run of the container holds once its process is gone: runtime state, monitor files and
   * network endpoints. Independent of each other, so released side by side.
   */
  async releaseRun(c: ContainerRecord): Promise<void> {
    await Promise.all([
      this.deleteFromRuntime(c),
      this.deps.monitor.release(this.host.monitorPaths(c.id)).catch(() => undefined),
      this.parts.networking.teardown(c),
    ]);
  }

  /**
   * `runtime delete --force`, once per run: the removal of a container whose exit was handled in
   * this daemon skips the second call (a runtime process that would find nothing to delete).
   */
  private async deleteFromRuntime(c: ContainerRecord): Promise<void> {
    if (this.deletedFromRuntime.has(c.id)) return;
    try {
      await this.deps.runtimes.forContainer(c.runtime).delete(c.id, true);
      this.deletedFromRuntime.add(c.id);
    } catch (err) {
      if (err instanceof NotFoundError) this.deletedFromRuntime.add(c.id);
      else this.deps.log.debug({ err, container: c.id }, 'runtime delete failed');
    }
  }

  /** Forgets a removed container's runtime bookkeeping. */
  forgetRuntime(id: string): void {
    this.deletedFromRuntime.delete(id);
  }

  /** Resolves once the exits recorded so far are released. */
  async exitsReleased(): Promise<void> {
    await Promise.all(this.releasing.values());
  }

  async stop(ref: string, opts: StopContainerOptions): Promise<void> {
    const c = this.host.get(ref);
    const signal = parseSignal(opts.signal || c.config.StopSignal || 'SIGTERM');
    // As dockerd: a container that is down is answered at once, not after its release.
    if (!c.state.Running && !c.state.Restarting) throw new NotModifiedError('container is already stopped');
    await this.host.locked(c.id, async () => {
      if (c.state.Restarting && this.restarts.cancel(c.id)) {
        // Between two runs: the pending restart is dropped and the container stays down.
        c.hasBeenManuallyStopped = true;
        c.state = { ...c.state, Status: 'exited', Restarting: false };
        await this.host.save(c);
        return;
      }
      if (!c.state.Running) throw new NotModifiedError('container is already stopped');
      c.hasBeenManuallyStopped = true;
      await this.host.save(c);
      const timeout = opts.timeout ?? c.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT;
      if (timeout < 0) {
        await this.killAndWait(c, signal, undefined);
        return;
      }
      const exited = await this.killAndWait(c, signal, timeout * 1000).catch(() => false);
      if (!exited) await this.killAndWait(c, 'SIGKILL', 30_000);
    });
    this.host.emit(c, 'stop');
  }

  async restart(ref: string, opts: StopContainerOptions): Promise<void> {
    const c = this.host.get(ref);
    await this.stop(c.id, opts).catch((err) => {
      if (!(err instanceof NotModifiedError)) throw err;
    });
    await this.start(c.id);
    this.host.emit(c, 'restart');
  }

  /**
   * `docker kill`. SIGKILL returns once the container is down (dockerd's Kill waits for it);
   * other signals return once sent. As in dockerd, a kill with SIGKILL, with the container's
   * stop signal, or with any signal when it has none set, keeps the restart policy from
   * restarting it after that exit (only a user's start undoes that).
   */
  async kill(ref: string, signalName = 'SIGKILL'): Promise<void> {
    const c = this.host.get(ref);
    const signal = parseSignal(signalName);
    const stopSignal = c.config.StopSignal ? signalNumber(parseSignal(c.config.StopSignal)) : undefined;
    const exitOnNext = signal === 'SIGKILL' || stopSignal === undefined || stopSignal === signalNumber(signal);
    if (exitOnNext && c.state.Restarting && this.restarts.cancel(c.id)) {
      // Between two runs: nothing to signal, and the pending restart is dropped.
      c.state = { ...c.state, Status: 'exited', Restarting: false };
      await this.host.save(c);
      this.host.emit(c, 'kill', { signal: String(signalNumber(signal)) });
      return;
    }
    if (!c.state.Running) throw new ConflictError(`cannot kill container: ${ref}: container ${c.id} is not running`);
    if (exitOnNext) this.exitOnNext.add(c.id);
    if (signal === 'SIGKILL') {
      if (!(await this.killAndWait(c, signal, KILL_WAIT_MS))) throw new Error(`container ${c.id} did not exit after SIGKILL`);
      return;
    }
    await this.deps.runtimes.forContainer(c.runtime).kill(c.id, signal);
    this.host.emit(c, 'kill', { signal: String(signalNumber(signal)) });
  }

  /**
   * `docker update`: new limits (applied to the running container's cgroup by the runtime) and
   * restart policy, stored for later starts. dockerd's checks; nothing changes on a refusal.
   */
  async update(ref: string, changes: HostConfig): Promise<string[]> {
    const c = this.host.get(ref);
    return this.host.locked(c.id, async () => {
      const next: HostConfig = { ...c.hostConfig };
      for (const key of UPDATABLE) if (changes[key] !== undefined) next[key] = changes[key];
      if (changes.RestartPolicy?.Name !== undefined) {
        if (c.hostConfig.AutoRemove && changes.RestartPolicy.Name !== 'no') throw new InvalidParameterError('Restart policy cannot be updated because AutoRemove is enabled for the container');
        validateRestartPolicy(changes.RestartPolicy, false);
        next.RestartPolicy = changes.RestartPolicy;
      }
      const resources = hostResources(next);
      if (c.state.Running && UPDATABLE.some((k) => changes[k] !== undefined)) {
        await this.deps.runtimes.forContainer(c.runtime).update(c.id, resources);
      }
      c.hostConfig = next;
      await this.host.save(c);
      this.host.emit(c, 'update');
      return [];
    });
  }

  /** `docker top`: the host's ps, rows of the container's processes only. */
  async top(ref: string, psArgs?: string): Promise<TopResult> {
    const c = this.host.get(ref);
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
    await this.host.save(c);
    this.host.emit(c, 'unpause');
  }

  /** `docker pause`: freezes every process of the container (the runtime's freezer). */
  async pause(ref: string): Promise<void> {
    const c = this.host.get(ref);
    await this.host.locked(c.id, async () => {
      if (!c.state.Running) throw new ConflictError(`Container ${c.id} is not running`);
      if (c.state.Paused) throw new ConflictError(`Container ${c.id} is already paused`);
      await this.deps.runtimes.forContainer(c.runtime).pause(c.id);
      c.state = { ...c.state, Status: 'paused', Paused: true };
      await this.host.save(c);
      this.host.emit(c, 'pause');
    });
  }

  async unpause(ref: string): Promise<void> {
    const c = this.host.get(ref);
    await this.host.locked(c.id, async () => {
      if (!c.state.Paused) throw new ConflictError(`Container ${c.id} is not paused`);
      await this.deps.runtimes.forContainer(c.runtime).resume(c.id);
      c.state = { ...c.state, Status: 'running', Paused: false };
      await this.host.save(c);
      this.host.emit(c, 'unpause');
    });
  }

  /** Sends `signal` and resolves true once the container exited (false after `ms`). */
  async killAndWait(c: ContainerRecord, signal: string, ms: number | undefined): Promise<boolean> {
    const exited = this.waiters.add(c.id, 'exit');
    try {
      this.host.emit(c, 'kill', { signal: String(signalNumber(signal)) });
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
    const c = this.host.get(ref);
    if (condition === 'not-running' && !c.state.Running && c.state.Status !== 'paused') return { StatusCode: c.state.ExitCode, Error: null };
    const w = this.waiters.add(c.id, condition === 'removed' ? 'removed' : 'exit');
    signal?.addEventListener('abort', () => w.cancel());
    return w.promise;
  }
}
