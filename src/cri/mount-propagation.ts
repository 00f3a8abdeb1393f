/**
 * containerd's checks on a CRI mount's propagation, made at CreateContainer: a bidirectional
 * mount needs a shared source mount, a host-to-container one a shared or slave source mount;
 * otherwise the propagation asked for could not happen, and the error says why.
 */
import { InvalidParameterError } from '../errors';
import { mountPropagationOf } from '../host/mountinfo';
import type { Mount__Output } from './generated/runtime/v1/Mount';

export async function checkMountPropagation(mounts: readonly Mount__Output[], lookup = mountPropagationOf): Promise<void> {
  for (const m of mounts) {
    if (m.propagation !== 'PROPAGATION_BIDIRECTIONAL' && m.propagation !== 'PROPAGATION_HOST_TO_CONTAINER') continue;
    const p = await lookup(m.host_path);
    if (m.propagation === 'PROPAGATION_BIDIRECTIONAL' && !p.shared) {
      throw new InvalidParameterError(`path "${m.host_path}" is mounted on "${p.mountPoint}" but it is not a shared mount`);
    }
    if (!p.shared && !p.slave) throw new InvalidParameterError(`path "${m.host_path}" is mounted on "${p.mountPoint}" but it is not a shared or slave mount`);
  }
}
