import { join } from 'node:path';
import type { MonitorPaths } from '../../runtime/types';
import { rootfsPaths, type RootfsPaths } from './rootfs';

/** The on-disk layout of one container under `<data-root>/containers/<id>/`. */
export interface ContainerDirs extends RootfsPaths {
  dir: string;
  bundle: string;
  exitDir: string;
  /** The json-file log (inspect's LogPath). */
  logPath: string;
  /** The `local` driver's log (same format, not shown in inspect, as with dockerd). */
  localLogPath: string;
  /** conmon's k8s-file log, shipped into the driver's file (log-shipper.ts). */
  monitorLogPath: string;
  /** How far the monitor log is shipped. */
  logShipState: string;
  pidFile: string;
  monitorPidFile: string;
  hostnamePath: string;
  hostsPath: string;
  resolvConfPath: string;
}

export function containerDirs(root: string, id: string): ContainerDirs {
  const dir = join(root, id);
  return {
    dir,
    ...rootfsPaths(dir),
    bundle: join(dir, 'bundle'),
    exitDir: join(dir, 'exit'),
    logPath: join(dir, `${id}-json.log`),
    localLogPath: join(dir, 'local-logs', 'container.log'),
    monitorLogPath: join(dir, 'monitor-log', 'k8s.log'),
    logShipState: join(dir, 'log-ship.json'),
    pidFile: join(dir, 'bundle', 'pidfile'),
    monitorPidFile: join(dir, 'conmon.pid'),
    hostnamePath: join(dir, 'hostname'),
    hostsPath: join(dir, 'hosts'),
    resolvConfPath: join(dir, 'resolv.conf'),
  };
}

/** The files of `d` the container's monitor works with (its log at `logPath` when one was given at create). */
export function monitorPaths(d: ContainerDirs, logPath?: string): MonitorPaths {
  return { bundle: d.bundle, logPath: logPath || d.monitorLogPath, exitDir: d.exitDir, pidFile: d.pidFile, monitorPidFile: d.monitorPidFile };
}
