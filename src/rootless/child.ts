/**
 * Which side of the rootless split this berthd is: the daemon of root (rootful), an ordinary
 * user's berthd that must first enter rootlesskit (parent), or the daemon inside rootlesskit
 * (child, told by STATE_DIR_ENV and confirmed by its user namespace).
 */
import { lstat, rm } from 'node:fs/promises';
import { runningInUserNs } from '../host/userns';
import { RootlessError, STATE_DIR_ENV } from './layout';

export type RootlessRole = 'rootful' | 'parent' | 'child';

export function rootlessRole(env: NodeJS.ProcessEnv, uid: number): RootlessRole {
  if (env[STATE_DIR_ENV]) {
    if (!runningInUserNs()) throw new RootlessError(`${STATE_DIR_ENV} is set but berthd is not inside a user namespace: unset it, it is for rootlesskit's child only`);
    return 'child';
  }
  return uid === 0 ? 'rootful' : 'parent';
}

/**
 * With `--copy-up=/run` the child's /run holds symlinks to the host's entries; the iptables lock
 * must be the namespace's own (as dockerd-rootless.sh removes it), not root's file on the host.
 */
export async function prepareChildRun(): Promise<void> {
  for (const path of ['/run/xtables.lock']) {
    const st = await lstat(path).catch(() => undefined);
    if (st?.isSymbolicLink()) await rm(path, { force: true });
  }
}
