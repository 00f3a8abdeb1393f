/**
 * A container's user namespace under userns-remap (HostConfig.UsernsMode): `host` keeps the
 * host's, anything else gets the daemon's mapping (dockerd's IsPrivate is "not host"); the
 * combinations dockerd refuses while the daemon remaps (moby verifyPlatformContainerSettings:
 * privileged, the host's network or PID namespace — each only with `--userns=host`); and what
 * a remapped container's spec needs besides the mapping (a peer's namespace to join, the
 * locked flags of its binds, the sysctls the daemon writes for it).
 */
import { readlink } from 'node:fs/promises';
import { InvalidParameterError } from '../../errors';
import { lockedMountFlags } from '../../host/mountinfo';
import { ociMappings, type IdMap } from '../userns/id-map';
import type { ContainerRecord, HostConfig } from './types';

const isHostUserns = (hc: HostConfig) => hc.UsernsMode === 'host';

/** The mapping a container runs under: the daemon's, unless it asked for the host's namespace. */
export function containerIdMap(daemonMap: IdMap | undefined, hc: HostConfig): IdMap | undefined {
  return daemonMap && !isHostUserns(hc) ? daemonMap : undefined;
}

/** Throws dockerd's 400 for a setting a remapping daemon cannot honour in a private user namespace. */
export function checkUsernsMode(hc: HostConfig, remapping: boolean): void {
  if (!remapping || isHostUserns(hc)) return;
  if (hc.Privileged) {
    throw new InvalidParameterError('privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode');
  }
  if (hc.NetworkMode === 'host') throw new InvalidParameterError("cannot share the host's network namespace when user namespaces are enabled");
  if (hc.PidMode === 'host') throw new InvalidParameterError('cannot share the host PID namespace when user namespaces are enabled');
}

/**
 * The spec's user namespace for a container running under `idMap`: a new one with the mapping,
 * or, when it joins a remapped peer's network, IPC or PID namespace (`joined`: `/proc/<pid>/ns/*`
 * paths), that peer's (dockerd: namespaces shared between containers share the user namespace).
 */
export async function userNamespaceOf(c: ContainerRecord, idMap: IdMap | undefined, joined: Array<string | undefined>) {
  if (!idMap) return undefined;
  checkUsernsMode(c.hostConfig, true);
  const mappings = ociMappings(idMap);
  const own = await readlink('/proc/self/ns/user');
  for (const nsPath of joined) {
    const pid = nsPath && /^\/proc\/(\d+)\/ns\//.exec(nsPath)?.[1];
    if (!pid) continue;
    const path = `/proc/${pid}/ns/user`;
    // A peer in the host's user namespace (`--userns=host`) has none of its own to join.
    if ((await readlink(path).catch(() => own)) !== own) return { mappings, path };
  }
  return { mappings };
}

/**
 * The container's own `--sysctl net.*` settings, taken out of the spec, for the daemon to write
 * once the endpoints are attached: in a network namespace the runtime makes itself (remapped
 * containers), it writes them at create, before the interfaces they may name exist.
 */
export function takeUserSysctls(c: ContainerRecord, spec: { linux: { sysctl: Record<string, string> } }): Record<string, string> | undefined {
  const late: Record<string, string> = {};
  for (const key of Object.keys(c.hostConfig.Sysctls ?? {})) {
    if (!key.startsWith('net.') || spec.linux.sysctl[key] === undefined) continue;
    late[key] = spec.linux.sysctl[key];
    delete spec.linux.sysctl[key];
  }
  return Object.keys(late).length ? late : undefined;
}

/**
 * The runtime remounts binds (read-only ones) inside the user namespace, where the source
 * mount's nosuid/nodev/noexec/atime flags are locked; each bind repeats them, as dockerd's do
 * (UnprivilegedMountFlags), or the remount fails with EPERM. Nothing to do without a user namespace.
 */
export async function keepLockedFlags(spec: { linux: { namespaces: Array<{ type: string }> }; mounts: Array<{ type: string; source: string; options: string[] }> }): Promise<void> {
  if (!spec.linux.namespaces.some((n) => n.type === 'user')) return;
  for (const m of spec.mounts) {
    if (m.type !== 'bind') continue;
    const locked = await lockedMountFlags(m.source).catch(() => []);
    for (const flag of locked) if (!m.options.includes(flag)) m.options.push(flag);
  }
}
