import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { rootfsPaths, type RootfsPaths } from './rootfs';

/** The on-disk layout of one container under `<data-root>/containers/<id>/`. */
export interface ContainerDirs extends RootfsPaths {
  dir: string;
  bundle: string;
  exitDir: string;
  logPath: string;
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
    pidFile: join(dir, 'bundle', 'pidfile'),
    monitorPidFile: join(dir, 'conmon.pid'),
    hostnamePath: join(dir, 'hostname'),
    hostsPath: join(dir, 'hosts'),
    resolvConfPath: join(dir, 'resolv.conf'),
  };
}

/** Writes a file by temp name + rename so readers never see a torn file. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
