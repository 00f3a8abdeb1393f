/**
 * The daemon's side of a container's runs: starting a run, watching for the exit its monitor
 * reports, recording that exit, releasing the run, auto-removal, and the restart policy's
 * restarts. The client commands (lifecycle.ts) start and end runs through this class.
 */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { runtimeErrorKind } from '../../runtime/oci-cli';
import type { ContainerMonitor } from '../../runtime/types';
import type { EventSink } from '../events/event-log';
import { PhaseClock } from '../phase-clock';
import type { AttachHub } from './attach-hub';
import type { RuntimeLookup } from './container-deps';
import type { ContainerDisposal } from './container-disposal';
import type { ContainerRecords } from './container-records';
import type { ExitWaiters } from './exit-waiters';
import type { ExitWatches } from './exit-watches';
import type { HealthMonitors } from './health/health-monitor';
import { logSettings } from './log-config';
import type { LogShipper } from './log-shipper';
import { logTarget } from './log-target';
import { shouldRestart, type RestartTimers } from './restart-policy';
import type { RunRelease } from './run-release';
import { signalNumber } from './signals';
import { startError, type ContainerStarter } from './starter';
import { NULL_TIME, type ContainerRecord } from './types';

export interface ContainerRunsDeps {
  records: ContainerRecords;
  runtimes: RuntimeLookup;
  monitor: ContainerMonitor;
  events?: EventSink;
  log: Logger;
  starter: ContainerStarter;
  release: RunRelease;
  disposal: ContainerDisposal;
  exitWatches: ExitWatches;
  waiters: ExitWaiters;
  restarts: RestartTimers;
  logShipper: LogShipper;
  health: HealthMonitors;
  attachHub: AttachHub;
}

export class ContainerRuns {
  /** Exits whose release (queued on the container's lock) is not done yet. */
  private readonly releasing = new Map<string, Promise<void>>();
  /**
   * Containers a user killed: their next exit is not the restart policy's to undo (dockerd's
   * ExitOnNext). In memory only, as dockerd's restart manager is: a daemon restart forgets it.
   */
  private readonly exitOnNext = new Set<string>();

  constructor(private readonly deps: ContainerRunsDeps) {}

  /** A user's kill: the next exit of `id` is final (see exitOnNext). */
  markExitOnNext(id: string): void {
    this.exitOnNext.add(id);
  }

  /** A user's start: the kill that came before no longer counts. */
  clearExitOnNext(id: string): void {
    this.exitOnNext.delete(id);
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

  private logTarget(c: ContainerRecord) {
    return logTarget(c, this.deps.records.dirs(c.id), this.deps.monitor);
  }

  /** Ships a running container's log into its driver's file as the monitor writes it. */
  shipLogs(c: ContainerRecord): void {
    const target = this.logTarget(c);
    if (target) this.deps.logShipper.follow(target);
  }

  /** Ships what is left of the log of a container whose monitor has exited. */
  async finishLogs(c: ContainerRecord): Promise<void> {
    const target = this.logTarget(c);
    if (target) await this.deps.logShipper.finish(target).catch((err) => this.deps.log.warn({ err, container: c.id }, 'log shipping failed'));
  }

  /** Starts `c` (the caller holds its lock); records a failure as dockerd does. */
  async start(c: ContainerRecord): Promise<void> {
    const { records } = this.deps;
    try {
      // Option values are checked when the log starts, as dockerd's driver does (500).
      logSettings(c.hostConfig.LogConfig);
      const target = this.logTarget(c);
      if (target) await this.deps.logShipper.reset(target);
      this.deps.release.started(c.id);
      const { pid } = await this.deps.starter.start(c, records.dirs(c.id));
      c.state = { ...c.state, Status: 'running', Running: true, Restarting: false, OOMKilled: false, Pid: pid, ExitCode: 0, Error: '', StartedAt: new Date().toISOString(), FinishedAt: NULL_TIME };
      c.hasBeenManuallyStopped = false;
      this.deps.health.start(c);
      this.shipLogs(c);
      await records.save(c);
      this.volumeEvents(c, 'mount');
      this.watch(c);
      records.emit(c, 'start');
    } catch (cause) {
      const err = startError(c, cause);
      const kind = runtimeErrorKind(err.message);
      const code = kind === 'command-not-found' ? 127 : kind === 'permission-denied' ? 126 : 128;
      c.state = { ...c.state, Status: c.state.StartedAt === NULL_TIME ? 'created' : 'exited', Running: false, Restarting: false, Pid: 0, ExitCode: code, Error: err.message };
      await records.save(c);
      this.deps.attachHub.endUnconnected(c.id);
      if (c.hostConfig.AutoRemove) {
        this.deps.waiters.notify(c.id, 'exit', { StatusCode: code, Error: null });
        await this.deps.disposal.dispose(c);
      }
      throw err;
    }
  }

  /** The restart policy's turn: start `c` again after its back-off (`ranMs`: its last run). */
  scheduleRestart(c: ContainerRecord, ranMs: number): void {
    const { records } = this.deps;
    c.state = { ...c.state, Status: 'restarting', Restarting: true };
    void records.save(c);
    const delay = this.deps.restarts.schedule(c.id, ranMs, () => {
      void records.locked(c.id, async () => {
        if (!records.has(c.id) || !c.state.Restarting) return;
        c.restartCount++;
        await this.start(c);
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
    this.deps.exitWatches.watch(c.id, this.deps.records.dirs(c.id).exitDir, () => void this.handleExit(c.id));
  }

  /**
   * The monitor reported an exit: record it, wake waiters, then release what the run held and
   * auto-remove. As dockerd does, waiters learn of the exit before the cleanup; the cleanup is
   * queued on the container's lock at once, so whatever sees the new state (a start, a removal,
   * a copy from the container) runs after it. Not awaited here: a caller holding the lock (a stop
   * whose kill found the container gone) would wait for itself.
   */
  async handleExit(id: string): Promise<void> {
    const { records } = this.deps;
    const c = records.find(id);
    if (!c || (!c.state.Running && c.state.Status !== 'paused')) return;
    const d = records.dirs(id);
    this.deps.exitWatches.close(id);
    this.deps.health.stop(id);
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
      records.emit(c, 'oom');
    }
    c.state = { ...c.state, Status: 'exited', Running: false, Paused: false, Pid: 0, ExitCode: code, OOMKilled: oomKilled, FinishedAt: new Date().toISOString() };
    const killed = this.exitOnNext.delete(id);
    const restart = shouldRestart(c.hostConfig.RestartPolicy, { exitCode: code, restartCount: c.restartCount, manuallyStopped: c.hasBeenManuallyStopped || killed });
    const autoRemove = !!c.hostConfig.AutoRemove && !restart;
    const released = records.locked(id, async () => {
      if (!records.has(id)) return;
      if (autoRemove) {
        if (c.state.Status === 'exited') await this.deps.disposal.dispose(c);
        return;
      }
      await this.deps.release.afterExit(c);
      phases.mark('release');
    });
    const settled = released.catch(() => undefined);
    this.releasing.set(id, settled);
    void settled.then(() => {
      if (this.releasing.get(id) === settled) this.releasing.delete(id);
    });
    // Told before the record is saved: the exit code is on disk already (the monitor's exit
    // file), so a daemon that dies before the save records the same exit again at start.
    this.deps.waiters.notify(id, 'exit', { StatusCode: code, Error: null });
    const ranFor = (Date.parse(c.state.FinishedAt) - Date.parse(c.state.StartedAt)) / 1000;
    records.emit(c, 'die', { exitCode: String(code), execDuration: String(Math.max(0, Math.floor(ranFor))) });
    await records.save(c);
    phases.mark('save');
    // The restart itself takes the lock later than the release, so it runs after it.
    if (restart) this.scheduleRestart(c, ranFor * 1000);
    void released.then(
      () => this.deps.log.debug({ container: id, exitCode: code, phases: phases.done() }, 'container exited'),
      (err) => this.deps.log.error({ err, container: id }, autoRemove ? 'auto-remove failed' : 'releasing an exited container failed'),
    );
  }

  /** Resolves once the exits recorded so far are released. */
  async exitsReleased(): Promise<void> {
    await Promise.all(this.releasing.values());
  }

  /** Sends `signal` and resolves true once the container exited (false after `ms`). */
  async killAndWait(c: ContainerRecord, signal: string, ms: number | undefined): Promise<boolean> {
    const exited = this.deps.waiters.add(c.id, 'exit');
    try {
      this.deps.records.emit(c, 'kill', { signal: String(signalNumber(signal)) });
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

  /**
   * A frozen process only acts on a signal once thawed: like dockerd, a paused container that
   * gets SIGKILL is resumed so it dies (other signals wait for `docker unpause`).
   */
  private async thawForSignal(c: ContainerRecord): Promise<void> {
    if (!c.state.Paused) return;
    await this.deps.runtimes.forContainer(c.runtime).resume(c.id).catch((err) => this.deps.log.debug({ err, container: c.id }, 'resume after kill failed'));
    c.state = { ...c.state, Status: 'running', Paused: false };
    await this.deps.records.save(c);
    this.deps.records.emit(c, 'unpause');
  }
}
