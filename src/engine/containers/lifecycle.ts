/**
 * The client's lifecycle commands on a container: start, stop, restart, kill, pause, unpause,
 * update, wait and `docker top`. Runs themselves (start, exit, restart policy) are
 * container-runs.ts's.
 */
import type { Logger } from 'pino';
import { ConflictError, InvalidParameterError, NotModifiedError } from '../../errors';
import { containerPids } from './cgroup-files';
import { pidsInNamespaceOf } from '../../host/pid-namespace';
import { discardCgroupLimits } from './no-cgroup-limits';
import type { RuntimeLookup } from './container-deps';
import type { ContainerRecords } from './container-records';
import type { ContainerRuns } from './container-runs';
import type { ExitWaiters } from './exit-waiters';
import { hostResources } from './host-resources';
import { validateRestartPolicy, type RestartTimers } from './restart-policy';
import { parseSignal, signalNumber } from './signals';
import { containerTop, type TopResult } from './top';
import type { HostConfig, StopContainerOptions, WaitCondition, WaitResult } from './types';

export interface ContainerLifecycleDeps {
  records: ContainerRecords;
  runs: ContainerRuns;
  runtimes: RuntimeLookup;
  waiters: ExitWaiters;
  restarts: RestartTimers;
  cgroupVersion: 1 | 2;
  log: Logger;
}

const DEFAULT_STOP_TIMEOUT = 10;
/** How long `docker kill` waits for a SIGKILLed container to be reported down (dockerd: 10 s). */
const KILL_WAIT_MS = 10_000;

/** The resource fields `docker update` changes (RestartPolicy is handled on its own). */
const UPDATABLE = ['Memory', 'MemorySwap', 'MemoryReservation', 'CpuShares', 'NanoCpus', 'CpuQuota', 'CpuPeriod', 'CpusetCpus', 'CpusetMems', 'PidsLimit', 'BlkioWeight'] as const;

export class ContainerLifecycle {
  constructor(private readonly deps: ContainerLifecycleDeps) {}

  async start(ref: string): Promise<void> {
    const { records, runs } = this.deps;
    const c = records.get(ref);
    await records.locked(c.id, async () => {
      if (c.state.Status === 'paused') throw new ConflictError('cannot start a paused container, try unpause instead');
      if (c.state.Running) throw new NotModifiedError('container is already running');
      if (c.state.Status === 'removing') throw new ConflictError(`container is marked for removal and cannot be started`);
      // A user's start: the policy's count and back-off start over (dockerd resets them too).
      this.deps.restarts.reset(c.id);
      runs.clearExitOnNext(c.id);
      c.restartCount = 0;
      await runs.start(c);
    });
  }

  async stop(ref: string, opts: StopContainerOptions): Promise<void> {
    const { records, runs } = this.deps;
    const c = records.get(ref);
    const signal = parseSignal(opts.signal || c.config.StopSignal || 'SIGTERM');
    // As dockerd: a container that is down is answered at once, not after its release.
    if (!c.state.Running && !c.state.Restarting) throw new NotModifiedError('container is already stopped');
    await records.locked(c.id, async () => {
      if (c.state.Restarting && this.deps.restarts.cancel(c.id)) {
        // Between two runs: the pending restart is dropped and the container stays down.
        c.hasBeenManuallyStopped = true;
        c.state = { ...c.state, Status: 'exited', Restarting: false };
        await records.save(c);
        return;
      }
      if (!c.state.Running) throw new NotModifiedError('container is already stopped');
      c.hasBeenManuallyStopped = true;
      await records.save(c);
      const timeout = opts.timeout ?? c.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT;
      if (timeout < 0) {
        await runs.killAndWait(c, signal, undefined);
        return;
      }
      const exited = await runs.killAndWait(c, signal, timeout * 1000).catch(() => false);
      if (!exited) await runs.killAndWait(c, 'SIGKILL', 30_000);
    });
    records.emit(c, 'stop');
  }

  async restart(ref: string, opts: StopContainerOptions): Promise<void> {
    const c = this.deps.records.get(ref);
    await this.stop(c.id, opts).catch((err) => {
      if (!(err instanceof NotModifiedError)) throw err;
    });
    await this.start(c.id);
    this.deps.records.emit(c, 'restart');
  }

  /**
   * `docker kill`. SIGKILL returns once the container is down (dockerd's Kill waits for it);
   * other signals return once sent. As in dockerd, a kill with SIGKILL, with the container's
   * stop signal, or with any signal when it has none set, keeps the restart policy from
   * restarting it after that exit (only a user's start undoes that).
   */
  async kill(ref: string, signalName = 'SIGKILL'): Promise<void> {
    const { records, runs } = this.deps;
    const c = records.get(ref);
    const signal = parseSignal(signalName);
    const stopSignal = c.config.StopSignal ? signalNumber(parseSignal(c.config.StopSignal)) : undefined;
    const exitOnNext = signal === 'SIGKILL' || stopSignal === undefined || stopSignal === signalNumber(signal);
    if (exitOnNext && c.state.Restarting && this.deps.restarts.cancel(c.id)) {
      // Between two runs: nothing to signal, and the pending restart is dropped.
      c.state = { ...c.state, Status: 'exited', Restarting: false };
      await records.save(c);
      records.emit(c, 'kill', { signal: String(signalNumber(signal)) });
      return;
    }
    if (!c.state.Running) throw new ConflictError(`cannot kill container: ${ref}: container ${c.id} is not running`);
    if (exitOnNext) runs.markExitOnNext(c.id);
    if (signal === 'SIGKILL') {
      if (!(await runs.killAndWait(c, signal, KILL_WAIT_MS))) throw new Error(`container ${c.id} did not exit after SIGKILL`);
      return;
    }
    await this.deps.runtimes.forContainer(c.runtime).kill(c.id, signal);
    records.emit(c, 'kill', { signal: String(signalNumber(signal)) });
  }

  /**
   * `docker update`: new limits (applied to the running container's cgroup by the runtime) and
   * restart policy, stored for later starts. dockerd's checks; nothing changes on a refusal.
   */
  async update(ref: string, changes: HostConfig): Promise<string[]> {
    const { records } = this.deps;
    const c = records.get(ref);
    return records.locked(c.id, async () => {
      let next: HostConfig = { ...c.hostConfig };
      for (const key of UPDATABLE) if (changes[key] !== undefined) next[key] = changes[key];
      // No cgroups to update (a rootless daemon on cgroup v1): the limits go, with dockerd's warnings.
      const discarded = this.deps.runtimes.cgroupLimits === false ? discardCgroupLimits(next) : undefined;
      if (discarded) next = discarded.hostConfig;
      if (changes.RestartPolicy?.Name !== undefined) {
        if (c.hostConfig.AutoRemove && changes.RestartPolicy.Name !== 'no') throw new InvalidParameterError('Restart policy cannot be updated because AutoRemove is enabled for the container');
        validateRestartPolicy(changes.RestartPolicy, false);
        next.RestartPolicy = changes.RestartPolicy;
      }
      const resources = hostResources(next);
      if (!discarded && c.state.Running && UPDATABLE.some((k) => changes[k] !== undefined)) {
        await this.deps.runtimes.forContainer(c.runtime).update(c.id, resources);
      }
      c.hostConfig = next;
      await records.save(c);
      records.emit(c, 'update');
      return discarded?.warnings ?? [];
    });
  }

  /** `docker top`: the host's ps, rows of the container's processes only. */
  async top(ref: string, psArgs?: string): Promise<TopResult> {
    const c = this.deps.records.get(ref);
    if (!c.state.Running) throw new ConflictError(`Container ${c.id} is not running`);
    const pids = await containerPids(this.deps.cgroupVersion, c.id);
    // No cgroup (a rootless daemon on cgroup v1): the processes of its pid namespace instead.
    return containerTop(pids.length || !c.state.Pid ? pids : await pidsInNamespaceOf(c.state.Pid), psArgs || undefined);
  }

  /** `docker pause`: freezes every process of the container (the runtime's freezer). */
  async pause(ref: string): Promise<void> {
    const { records } = this.deps;
    const c = records.get(ref);
    await records.locked(c.id, async () => {
      if (!c.state.Running) throw new ConflictError(`Container ${c.id} is not running`);
      if (c.state.Paused) throw new ConflictError(`Container ${c.id} is already paused`);
      await this.deps.runtimes.forContainer(c.runtime).pause(c.id);
      c.state = { ...c.state, Status: 'paused', Paused: true };
      await records.save(c);
      records.emit(c, 'pause');
    });
  }

  async unpause(ref: string): Promise<void> {
    const { records } = this.deps;
    const c = records.get(ref);
    await records.locked(c.id, async () => {
      if (!c.state.Paused) throw new ConflictError(`Container ${c.id} is not paused`);
      await this.deps.runtimes.forContainer(c.runtime).resume(c.id);
      c.state = { ...c.state, Status: 'running', Paused: false };
      await records.save(c);
      records.emit(c, 'unpause');
    });
  }

  /** Resolves with the exit status per `condition`; the caller may cancel with `signal`. */
  async wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult> {
    const c = this.deps.records.get(ref);
    if (condition === 'not-running' && !c.state.Running && c.state.Status !== 'paused') return { StatusCode: c.state.ExitCode, Error: null };
    const w = this.deps.waiters.add(c.id, condition === 'removed' ? 'removed' : 'exit');
    signal?.addEventListener('abort', () => w.cancel());
    return w.promise;
  }
}
