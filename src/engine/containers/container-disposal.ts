/**
 * The end of a container, once its removal is decided (`docker rm`, auto-remove, a removal a
 * crash cut short): the record, everything the daemon keeps about it in memory, and what it
 * held on the host.
 */
import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { PhaseClock } from '../phase-clock';
import type { AttachHub } from './attach-hub';
import type { ImageLookup } from './container-deps';
import type { ContainerRecords } from './container-records';
import type { ExecService } from './exec/exec-service';
import type { ExitWaiters } from './exit-waiters';
import type { ExitWatches } from './exit-watches';
import type { HealthMonitors } from './health/health-monitor';
import type { LogShipper } from './log-shipper';
import type { RestartTimers } from './restart-policy';
import { unmountRootfs } from './rootfs';
import type { RunRelease } from './run-release';
import type { ContainerRecord } from './types';

export interface ContainerDisposalDeps {
  records: ContainerRecords;
  release: RunRelease;
  exitWatches: ExitWatches;
  health: HealthMonitors;
  logShipper: LogShipper;
  attachHub: AttachHub;
  restarts: RestartTimers;
  waiters: ExitWaiters;
  execs: ExecService;
  images: ImageLookup;
  log: Logger;
}

export class ContainerDisposal {
  constructor(private readonly deps: ContainerDisposalDeps) {}

  /**
   * Removes `c` (the caller holds its lock). One store write makes the removal durable (a daemon
   * that dies before the end finishes it at start); the container is then gone for clients, and
   * what it held on the host (runtime state, endpoints, rootfs, files) is released after they
   * were told, as nothing can reach it any more.
   */
  async dispose(c: ContainerRecord): Promise<void> {
    const { records, waiters } = this.deps;
    const phases = new PhaseClock();
    await records.markRemoving(c);
    phases.mark('store');
    // No more watching: health probes, log shipping and the exit watch stop.
    this.deps.health.stop(c.id);
    this.deps.logShipper.forget(c.id);
    this.deps.exitWatches.close(c.id);
    this.deps.attachHub.endAll(c.id);
    records.drop(c.id);
    this.deps.restarts.reset(c.id);
    this.deps.execs.forget(c.id);
    waiters.notify(c.id, 'removed', { StatusCode: c.state.ExitCode, Error: null });
    waiters.forget(c.id);
    records.emit(c, 'destroy');
    const d = records.dirs(c.id);
    await Promise.all([this.deps.release.run(c), unmountRootfs(d)]);
    this.deps.release.forget(c.id);
    phases.mark('release');
    await rm(d.dir, { recursive: true, force: true });
    phases.mark('files');
    await records.purge(c.id);
    this.deps.log.debug({ container: c.id, phases: phases.done() }, 'container removed');
    await this.deps.images.releaseRemoved().catch((err) => this.deps.log.warn({ err }, 'releasing removed images failed'));
  }
}
