/**
 * What an ordinary user's berthd checks before it re-executes itself in rootlesskit, so each
 * missing piece is named with its fix instead of surfacing as a rootlesskit stack of errors: the
 * runtime dir, the programs (Debian's rootlesskit, slirp4netns, uidmap), the subordinate ids.
 */
import { socketAnswers } from '../host/socket-probe';
import { accessSync, constants, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { RootlessError, type RootlessLayout } from './layout';
import { subIdCount } from './subids';

const SETUP_HINT = 'root sets this up once with: bash scripts/setup-rootless.sh <user> (see docs/rootless.md)';

/** Program → Debian package providing it. */
export const REQUIRED_PROGRAMS: Record<string, string> = {
  rootlesskit: 'rootlesskit',
  slirp4netns: 'slirp4netns',
  newuidmap: 'uidmap',
  newgidmap: 'uidmap',
};

export interface PreflightOptions {
  env: NodeJS.ProcessEnv;
  user?: { name: string; id: number };
  subuidFile?: string;
  subgidFile?: string;
}

/** Throws a RootlessError naming the first thing missing; returns the programs' paths. */
export function rootlessPreflight(layout: RootlessLayout, opts: PreflightOptions): Record<string, string> {
  checkRuntimeDir(layout.runtimeDir);
  const found: Record<string, string> = {};
  for (const [program, pkg] of Object.entries(REQUIRED_PROGRAMS)) {
    const path = findInPath(program, opts.env.PATH ?? '');
    if (!path) throw new RootlessError(`${program} not found in PATH: install Debian's ${pkg} package (${SETUP_HINT})`);
    found[program] = path;
  }
  const info = userInfo();
  const user = opts.user ?? { name: info.username, id: info.uid };
  for (const [file, kind] of [[opts.subuidFile ?? '/etc/subuid', 'uid'], [opts.subgidFile ?? '/etc/subgid', 'gid']] as const) {
    if (subIdCount(file, user) === 0) {
      throw new RootlessError(`no subordinate ${kind} range for user ${user.name} in ${file}: ${SETUP_HINT}`);
    }
  }
  return found;
}

function checkRuntimeDir(dir: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new RootlessError(`XDG_RUNTIME_DIR ${dir} needs to be an existing directory this user can write`);
  }
  if (!isDir) throw new RootlessError(`XDG_RUNTIME_DIR ${dir} is not a directory`);
}

/** The first executable `name` on `pathVar`, or undefined. */
export function findInPath(name: string, pathVar: string): string | undefined {
  for (const dir of pathVar.split(':')) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Refuses early when a daemon already answers on `socket` (rootlesskit would fail on its state dir's lock). */
export async function checkNotRunning(socket: string): Promise<void> {
  const alive = await socketAnswers(socket);
  if (alive) throw new RootlessError(`another daemon is already listening on ${socket}`);
}
