/**
 * Where a container's log goes and where readers find it: the log shipper's target (from the
 * container's log driver and options) and the files `docker logs` reads.
 */
import type { ContainerMonitor } from '../../runtime/types';
import { NotImplementedError } from '../../errors';
import { monitorPaths, type ContainerDirs } from './container-files';
import { logAttributes, logFiles, logSettings, normalizeLogConfig, type LogSource } from './log-config';
import type { ShipTarget } from './log-shipper';
import { decodeJsonLogEntry, decodeK8sLogLine, type DecodedEntry } from './json-log-entry';
import type { ContainerRecord } from './types';

/** Where the monitor's log of `c` is shipped to, and how; undefined for the `none` driver. */
export function logTarget(c: ContainerRecord, d: ContainerDirs, monitor: Pick<ContainerMonitor, 'reopenLog'>): ShipTarget | undefined {
  // Someone else reads this container's monitor log where it is (kubelet): nothing to ship.
  if (c.monitorLogPath) return undefined;
  const file = logFile(c, d);
  if (!file) return undefined;
  const paths = monitorPaths(d);
  return {
    id: c.id,
    monitorLog: d.monitorLogPath,
    statePath: d.logShipState,
    ...file,
    attrs: logAttributes(logSource(c)),
    reopen: () => monitor.reopenLog(paths),
  };
}

/** The container's log files, oldest first; 501 when its log driver keeps none (dockerd's words). */
export function logFilesOf(c: ContainerRecord, d: ContainerDirs): string[] {
  // A log kept for someone else (kubelet) is read where it is, in the monitor's format.
  if (c.monitorLogPath) return [c.monitorLogPath];
  const file = logFile(c, d);
  if (!file) throw new NotImplementedError('configured logging driver does not support reading');
  return logFiles(file.logPath, file.rotation.maxFile);
}

/** How a line of the container's log files reads. */
export function logDecoderOf(c: ContainerRecord): (line: string) => DecodedEntry | undefined {
  return c.monitorLogPath ? decodeK8sLogLine : decodeJsonLogEntry;
}

/** The driver's file and its rotation; undefined for the `none` driver. */
function logFile(c: ContainerRecord, d: ContainerDirs): Pick<ShipTarget, 'logPath' | 'rotation'> | undefined {
  let settings;
  try {
    settings = logSettings(c.hostConfig.LogConfig);
  } catch {
    // Values are checked at start; a container that never started with them has no log.
    settings = { driver: normalizeLogConfig(c.hostConfig.LogConfig).Type === 'none' ? 'none' : 'json-file', maxFile: 1 } as const;
  }
  if (settings.driver === 'none') return undefined;
  return { logPath: settings.driver === 'local' ? d.localLogPath : d.logPath, rotation: { maxSize: settings.maxSize, maxFile: settings.maxFile } };
}

/** What the log options' templates and attributes (tag, labels, env) are filled from. */
export function logSource(c: ContainerRecord): LogSource {
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
