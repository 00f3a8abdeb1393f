/**
 * At daemon start: brings each record in line with what happened while the daemon was down
 * (exits, removals and releases a crash cut short, restarts due), and picks up running
 * containers again.
 */
import type { Logger } from 'pino';
import type { ContainerMonitor } from '../../runtime/types';
import type { ContainerDisposal } from './container-disposal';
import type { ContainerNetworking } from './container-network';
import type { ContainerRecords } from './container-records';
import type { ContainerRuns } from './container-runs';
import type { HealthMonitors } from './health/health-monitor';
import { restartsOnBoot } from './restart-policy';
import { isMountPoint } from '../../host/mount';
import type { RunRelease } from './run-release';
import { NULL_TIME, type ContainerRecord } from './types';

export interface ReconcileDeps {
  records: ContainerRecords;
  runs: ContainerRuns;
  release: RunRelease;
  disposal: ContainerDisposal;
  networking: ContainerNetworking;
  health: HealthMonitors;
  monitor: ContainerMonitor;
  log: Logger;
}

/** Reconciles every record (networks are set up between loading the records and this). */
export async function reconcileContainers(deps: ReconcileDeps): Promise<void> {
  for (const c of deps.records.all()) {
    try {
      await reconcile(deps, c);
    } catch (err) {
      deps.log.error({ err, container: c.id }, 'reconcile failed');
    }
  }
}

async function reconcile(deps: ReconcileDeps, c: ContainerRecord): Promise<void> {
  const { runs } = deps;
  const dirs = deps.records.dirs(c.id);
  if (c.state.Status === 'removing') return deps.disposal.dispose(c);
  if (!c.state.Running) {
    // What the container printed after the daemon last shipped its log (it exited meanwhile).
    if (c.state.StartedAt !== NULL_TIME) await runs.finishLogs(c);
    if (c.hostConfig.AutoRemove && c.state.FinishedAt !== NULL_TIME) return deps.disposal.dispose(c);
    // An exit recorded just before a crash: its run was not released yet.
    if (c.network?.netnsPath || (await isMountPoint(dirs.merged))) await deps.release.afterExit(c);
    if (c.state.Restarting || restartsOnBoot(c.hostConfig.RestartPolicy, c.state.StartedAt !== NULL_TIME, c.hasBeenManuallyStopped)) {
      runs.scheduleRestart(c, 0);
    }
    return;
  }
  const code = await deps.monitor.readExitCode(c.id, dirs.exitDir);
  if (code !== undefined || !(await deps.monitor.isAlive(dirs.monitorPidFile))) {
    await runs.handleExit(c.id);
    return;
  }
  await deps.networking.restore(c);
  runs.watch(c);
  runs.shipLogs(c);
  deps.health.resume(c);
}
