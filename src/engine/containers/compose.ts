/**
 * Builds the container engine's parts and wires them to each other. Each part does one job
 * over the shared records (container-records.ts); the daemon binds the API's container and exec
 * backends to these parts directly, role by role. Who uses whom (a part uses only parts on its
 * own line or above):
 *
 *   records                                  the map, lookup, writes, lock, events
 *   networking, execs, health, starter,      over records
 *     archive, run release
 *   disposal                                 a container's end (release, execs, health, ...)
 *   runs                                     start, exit, restart policy (starter, disposal)
 *   lifecycle                                client commands (runs)
 *   creation, queries, removal, streams,     the rest of the API (removal: runs, disposal;
 *     commit                                   streams and commit: lifecycle)
 */
import { FsTools } from '../../host/fs-tools';
import { ContainerArchive } from './archive/container-archive';
import { AttachHub } from './attach-hub';
import { ContainerCommit } from './container-commit';
import { ContainerCreation } from './container-creation';
import type { ContainerEngineDeps } from './container-deps';
import { ContainerDisposal } from './container-disposal';
import { ContainerNetworking } from './container-network';
import { ContainerQueries } from './container-queries';
import { ContainerRecords } from './container-records';
import { ContainerRemoval } from './container-removal';
import { ContainerRuns } from './container-runs';
import { ContainerStreams } from './container-streams';
import { ExecService } from './exec/exec-service';
import { ExitWaiters } from './exit-waiters';
import { ExitWatches } from './exit-watches';
import { HealthMonitors } from './health/health-monitor';
import { ContainerLifecycle } from './lifecycle';
import { LogShipper } from './log-shipper';
import { reconcileContainers } from './reconcile';
import { RestartTimers } from './restart-policy';
import { RunRelease } from './run-release';
import { ContainerStarter } from './starter';
import type { ContainerRecord } from './types';
import { containerIdMap } from './userns-mode';

export interface ContainerEngine {
  records: ContainerRecords;
  queries: ContainerQueries;
  creation: ContainerCreation;
  lifecycle: ContainerLifecycle;
  removal: ContainerRemoval;
  streams: ContainerStreams;
  archive: ContainerArchive;
  commit: ContainerCommit;
  execs: ExecService;
  networking: ContainerNetworking;
  runs: ContainerRuns;
  /** At start, after `records.load()` and the networks: see reconcile.ts. */
  reconcile(): Promise<void>;
  /** Closes watchers and timers; containers keep running under their monitors. */
  close(): void;
}

export function composeContainers(deps: ContainerEngineDeps): ContainerEngine {
  const { log, monitor, runtimes, images, volumes } = deps;
  const records = new ContainerRecords({ store: deps.store, root: deps.root, events: deps.events });
  const attachHub = new AttachHub(log);
  attachHub.onDetach = (id) => {
    const c = records.find(id);
    if (c) records.emit(c, 'detach');
  };
  const logShipper = new LogShipper(log);
  const networking = new ContainerNetworking({ plumbing: deps.plumbing, networks: deps.networks, log, records, events: deps.events });
  // userns-remap: the daemon's mapping for every container but those run with `--userns=host`.
  const idMapOf = (c: ContainerRecord) => containerIdMap(deps.idMap, c.hostConfig);
  const starter = new ContainerStarter({ ...deps, idMapOf }, attachHub, networking, records);
  const execs = new ExecService({
    records,
    runtimeOf: (c) => runtimes.forContainer(c.runtime),
    monitor,
    watchExit: deps.watchExit,
    log,
  });
  const health = new HealthMonitors({ records, probe: (id, cmd, timeoutMs) => execs.run(id, cmd, timeoutMs), log });
  const waiters = new ExitWaiters();
  const restarts = new RestartTimers();
  const exitWatches = new ExitWatches(deps.watchExit);
  const release = new RunRelease({ records, runtimes, monitor, networking, log });
  const disposal = new ContainerDisposal({ records, release, exitWatches, health, logShipper, attachHub, restarts, waiters, execs, images, log });
  const runs = new ContainerRuns({ records, runtimes, monitor, events: deps.events, log, starter, release, disposal, exitWatches, waiters, restarts, logShipper, health, attachHub });
  const lifecycle = new ContainerLifecycle({ records, runs, runtimes, waiters, restarts, cgroupVersion: deps.cgroupVersion, log });
  const queries = new ContainerQueries({ records, images, cgroupVersion: deps.cgroupVersion, storageDriver: deps.storageDriver });
  const archive = new ContainerArchive({
    records,
    layerDirs: (imageId) => images.layerDirs(imageId),
    volumeDir: async (name) => {
      const src = await volumes.mountSource(name);
      return src.type === 'tmpfs' ? undefined : src.source;
    },
    fsTools: new FsTools(),
    log,
    idMapOf,
    storageDriver: deps.storageDriver,
  });
  return {
    records,
    queries,
    creation: new ContainerCreation({ records, images, runtimes, networking, volumes, log, idMap: deps.idMap }),
    lifecycle,
    removal: new ContainerRemoval({ records, runs, restarts, disposal, networking, queries, volumes, log }),
    streams: new ContainerStreams({ records, lifecycle, attachHub, logShipper, monitor }),
    archive,
    commit: new ContainerCommit({ records, archive, lifecycle, images, log }),
    execs,
    networking,
    runs,
    reconcile: () => reconcileContainers({ records, runs, release, disposal, networking, health, monitor, log }),
    close: () => {
      logShipper.close();
      health.close();
      restarts.close();
      exitWatches.closeAll();
    },
  };
}
