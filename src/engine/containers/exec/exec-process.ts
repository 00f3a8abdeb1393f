/**
 * The OCI process of a `docker exec`: the container's own process (from its bundle's
 * config.json: user, env, cwd, capabilities, rlimits, no_new_privs) with the exec's command,
 * environment, working directory, user and terminal on top, as dockerd does
 * (`[moby] daemon/exec_linux.go`).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mergeEnv } from '../../env-vars';
import { hostCapabilities } from '../oci-spec';
import type { OciProcess } from '../oci-spec-types';
import { resolveUser } from '../user';

export interface ExecProcessConfig {
  Cmd: string[];
  Env?: string[];
  User?: string;
  WorkingDir?: string;
  Tty: boolean;
  Privileged: boolean;
  ConsoleSize?: [number, number] | null;
}

/** `groupAdd`: the container's HostConfig.GroupAdd, which dockerd gives every exec user too. */
export async function execProcess(bundle: string, rootfs: string, cfg: ExecProcessConfig, groupAdd: readonly string[] = []): Promise<OciProcess> {
  const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: OciProcess };
  const base = spec.process;
  const env = mergeEnv(base.env ?? [], cfg.Env ?? []);
  if (cfg.Tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  const user = cfg.User ? await resolveUser(rootfs, cfg.User, groupAdd) : undefined;
  const caps = cfg.Privileged ? hostCapabilities() : undefined;
  const [height, width] = cfg.ConsoleSize ?? [0, 0];
  return {
    ...base,
    terminal: cfg.Tty,
    ...(cfg.Tty && height > 0 && width > 0 ? { consoleSize: { height, width } } : { consoleSize: undefined }),
    user: user ? { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) } : base.user,
    args: [...cfg.Cmd],
    env,
    cwd: cfg.WorkingDir || base.cwd || '/',
    ...(caps ? { capabilities: { bounding: caps, effective: caps, permitted: caps } } : {}),
  };
}
