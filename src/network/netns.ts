/**
 * The adapter for util-linux's namespace tools (unshare, nsenter) and for procps' sysctl run
 * inside a namespace; its mounts go through host/mount.ts.
 *
 * A container's network namespace is a persistent nsfs bind mount at `<dir>/<containerId>`,
 * created by `unshare --net=<file>` (which also runs `ip link set lo up` inside it, so a fresh
 * namespace has a working loopback like Docker's). `<dir>` is made a private bind mount of itself
 * once, so the nsfs mounts do not propagate into other mount namespaces (where they would keep
 * the namespaces alive after removal).
 */
import { unlink, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ExternalCommandError, runCommand } from '../host/command';
import { bindMountPrivate, isMountPoint, makePrivate, unmount } from '../host/mount';

/** argv of `nsenter` running `program argv...` in the network namespace at `netnsPath`. */
export function nsenterArgv(netnsPath: string, program: string, argv: readonly string[]): string[] {
  return [`--net=${netnsPath}`, '--', program, ...argv];
}

export class NetnsTool {
  /** Make `dir` a private bind mount of itself unless it is already a mount point. */
  async ensurePrivateMountDir(dir: string): Promise<void> {
    const abs = resolve(dir);
    if (!(await isMountPoint(abs))) await bindMountPrivate(abs, abs);
    else await makePrivate(abs);
  }

  /** Create the namespace file and bind-mount a new network namespace (with lo up) on it. */
  async create(path: string): Promise<void> {
    await writeFile(path, '', { flag: 'w' });
    try {
      await runCommand('unshare', [`--net=${path}`, 'ip', 'link', 'set', 'lo', 'up']);
    } catch (err) {
      await this.remove(path).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Pin the network namespace at `source` (a `/proc/<pid>/ns/net` the runtime made) at `path`,
   * with lo up, so it is handled like one `create` made.
   */
  async adopt(path: string, source: string): Promise<void> {
    await writeFile(path, '', { flag: 'w' });
    try {
      await bindMountPrivate(source, path);
      await runCommand('nsenter', nsenterArgv(path, 'ip', ['link', 'set', 'lo', 'up']));
    } catch (err) {
      await this.remove(path).catch(() => undefined);
      throw err;
    }
  }

  async isMounted(path: string): Promise<boolean> {
    return isMountPoint(path);
  }

  /** Unmount (lazily, so a namespace still in use by a process does not block) and delete. */
  async remove(path: string): Promise<void> {
    if (await this.isMounted(path)) {
      try {
        await unmount(path, { lazy: true });
      } catch (err) {
        if (!(err instanceof ExternalCommandError && /not mounted|no mount point/i.test(err.stderr))) throw err;
      }
    }
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** `ip addr add <cidr> dev <ifname>` inside the namespace (the caller validated both). */
  async addAddress(netnsPath: string, ifname: string, cidr: string): Promise<void> {
    const argv = ['addr', 'add', cidr, 'dev', ifname];
    // IPv6 addresses skip duplicate address detection (usable at once); IPv4 gets its broadcast.
    argv.push(...(cidr.includes(':') ? ['nodad'] : ['brd', '+']));
    await runCommand('nsenter', nsenterArgv(netnsPath, 'ip', argv));
  }

  /** `sysctl -w key=value...` inside the namespace (/proc/sys/net is per namespace). */
  async setSysctls(netnsPath: string, values: Record<string, string>): Promise<void> {
    const args = Object.entries(values).map(([key, value]) => {
      if (!/^[a-z0-9_.]+$/i.test(key) || !/^[0-9]+( [0-9]+)*$/.test(value)) throw new Error(`invalid sysctl ${key}=${value}`);
      return `${key}=${value}`;
    });
    await runCommand('nsenter', nsenterArgv(netnsPath, 'sysctl', ['-q', '-w', ...args]));
  }
}
