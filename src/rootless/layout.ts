/**
 * Where a rootless berthd keeps its files, laid out as dockerd's rootless mode lays out its own:
 * socket `$XDG_RUNTIME_DIR/berth.sock`, exec root `$XDG_RUNTIME_DIR/berth`, pid file
 * `$XDG_RUNTIME_DIR/berth.pid`, data root `$XDG_DATA_HOME/berth` (`~/.local/share/berth`),
 * config `$XDG_CONFIG_HOME/berth/daemon.json` (`~/.config/berth/daemon.json`, read when present),
 * and rootlesskit's state (api.sock, child_pid) in `$XDG_RUNTIME_DIR/berth-rootlesskit`.
 */
import { join } from 'node:path';

/** Set by the rootless parent for its child (the real daemon inside rootlesskit): rootlesskit's state dir. */
export const STATE_DIR_ENV = 'BERTH_ROOTLESSKIT_STATE_DIR';

export class RootlessError extends Error {}

export interface RootlessLayout {
  runtimeDir: string;
  host: string;
  execRoot: string;
  pidFile: string;
  dataRoot: string;
  configFile: string;
  stateDir: string;
}

export function rootlessLayout(env: NodeJS.ProcessEnv): RootlessLayout {
  const runtimeDir = env.XDG_RUNTIME_DIR;
  if (!runtimeDir) {
    throw new RootlessError('XDG_RUNTIME_DIR needs to be set for a rootless berthd (e.g. export XDG_RUNTIME_DIR=/run/user/$(id -u), as a login session sets it)');
  }
  const home = env.HOME;
  const dataHome = env.XDG_DATA_HOME || (home ? join(home, '.local/share') : undefined);
  const configHome = env.XDG_CONFIG_HOME || (home ? join(home, '.config') : undefined);
  if (!dataHome || !configHome) throw new RootlessError('HOME needs to be set for a rootless berthd (or XDG_DATA_HOME and XDG_CONFIG_HOME)');
  return {
    runtimeDir,
    host: `unix://${join(runtimeDir, 'berth.sock')}`,
    execRoot: join(runtimeDir, 'berth'),
    pidFile: join(runtimeDir, 'berth.pid'),
    dataRoot: join(dataHome, 'berth'),
    configFile: join(configHome, 'berth/daemon.json'),
    stateDir: join(runtimeDir, 'berth-rootlesskit'),
  };
}
