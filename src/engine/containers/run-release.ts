/**
 * What a run of a container holds once its process is gone, and its release: runtime state,
 * monitor files, network endpoints and the mounted rootfs.
 */
import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ContainerMonitor } from '../../runtime/types';
import { NotFoundError } from '../../errors';
import type { RuntimeLookup } from './container-deps';
import type { ContainerNetworking } from './container-network';
import type { ContainerRecords } from './container-records';
import { unmountRootfs } from './rootfs';
import type { ContainerRecord } from './types';

export interface RunReleaseDeps {
  records: ContainerRecords;
  runtimes: RuntimeLookup;
  monitor: ContainerMonitor;
  networking: ContainerNetworking;
  log: Logger;
}

export class RunRelease {
  /** Containers whose runtime state was deleted since their last start. */
  private readonly deletedFromRuntime = new Set<string>();

  constructor(private readonly deps: RunReleaseDeps) {}

  /** A new run: the runtime holds the container again. */
  started(id: string): void {
    this.deletedFromRuntime.delete(id);
  }

  /**
   * What an exited run leaves behind once nobody waits for it: runtime state, monitor files,
   * endpoints and the mounted rootfs. Idempotent; also run at daemon start for a run whose
   * release a crash cut short.
   */
  async afterExit(c: ContainerRecord): Promise<void> {
    const d = this.deps.records.dirs(c.id);
    // The rootfs is no part of what the runtime, the monitor or the network release.
    await Promise.all([
      this.run(c),
      unmountRootfs(d).catch((err) => this.deps.log.warn({ err, container: c.id }, 'unmount failed')),
    ]);
    await rm(d.exitDir, { recursive: true, force: true });
    // The network part changed the record (no namespace, no live endpoints).
    if (this.deps.records.has(c.id)) await this.deps.records.save(c);
  }

  /**
   * What a run of the container holds once its process is gone: runtime state, monitor files and
   * network endpoints. Independent of each other, so released side by side.
   */
  async run(c: ContainerRecord): Promise<void> {
    await Promise.all([
      this.deleteFromRuntime(c),
      this.deps.monitor.release(this.deps.records.monitorPaths(c.id)).catch(() => undefined),
      this.deps.networking.teardown(c),
    ]);
  }

  /** Forgets a removed container's runtime bookkeeping. */
  forget(id: string): void {
    this.deletedFromRuntime.delete(id);
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
}
