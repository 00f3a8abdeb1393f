import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
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

/** /etc/hosts for a container without a network of its own yet (loopback only). */
export function hostsFile(hostname: string): string {
  return [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::\tip6-localnet',
    'ff00::\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    `127.0.1.1\t${hostname}`,
    '',
  ].join('\n');
}

/** The host's resolv.conf without loopback nameservers (unreachable from a container). */
export async function resolvConfFile(hostResolvConf = '/etc/resolv.conf'): Promise<string> {
  const text = await readFile(hostResolvConf, 'utf8').catch(() => '');
  const lines = text.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l));
  return lines.join('\n').trimEnd() + '\n';
}
