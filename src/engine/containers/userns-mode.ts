/**
 * A container's user namespace under userns-remap (HostConfig.UsernsMode): `host` keeps the
 * host's, anything else gets the daemon's mapping (dockerd's IsPrivate is "not host"), and the
 * combinations dockerd refuses while the daemon remaps (moby verifyPlatformContainerSettings):
 * privileged, the host's network or PID namespace — each only with `--userns=host`.
 */
import { InvalidParameterError } from '../../errors';
import type { IdMap } from '../userns/id-map';
import type { HostConfig } from './types';

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
