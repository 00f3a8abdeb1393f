/**
 * The IPC, PID and UTS namespaces of a starting container, from HostConfig's IpcMode, PidMode and
 * UTSMode as dockerd reads them: empty/`private`/`shareable` make a new namespace, `host` keeps
 * the host's, `container:<name|id>` joins a running container's (Kubernetes pods are built this
 * way: every container joins the pod's infra container).
 */
import { ConflictError } from '../../errors';
import type { NamespaceChoice, SpecMount } from './oci-spec';
import type { ContainerRecord } from './types';

export interface NamespacePlan {
  ipc: NamespaceChoice;
  pid: NamespaceChoice;
  uts: NamespaceChoice;
  /** /dev/shm goes with the host's IPC namespace. */
  shmMount?: SpecMount;
}

const modeOf = (v: unknown) => (typeof v === 'string' ? v : '');
const containerRef = (mode: string) => (mode.startsWith('container:') ? mode.slice('container:'.length) : undefined);

export function namespacePlan(hostConfig: Record<string, unknown>, lookup: (ref: string) => ContainerRecord): NamespacePlan {
  const ipcMode = modeOf(hostConfig.IpcMode);
  const pidMode = modeOf(hostConfig.PidMode);
  const plan: NamespacePlan = { ipc: 'private', pid: 'private', uts: modeOf(hostConfig.UTSMode) === 'host' ? 'host' : 'private' };

  const ipcRef = containerRef(ipcMode);
  if (ipcMode === 'host') {
    plan.ipc = 'host';
    plan.shmMount = shmBind('/dev/shm');
  } else if (ipcRef) {
    const donor = lookup(ipcRef);
    if (!donor.state.Running) throw new ConflictError(`can't join IPC of container ${donor.id}: container ${donor.id} is not running`);
    const donorMode = modeOf(donor.hostConfig.IpcMode);
    if (donorMode !== 'shareable' && donorMode !== 'host') {
      throw new ConflictError(`can't join IPC of container ${donor.id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    }
    // The donor's /dev/shm is a tmpfs inside its own mount namespace, which cannot be bound from
    // here: SysV IPC is shared, POSIX shm under /dev/shm is not (yet).
    plan.ipc = donorMode === 'host' ? 'host' : { path: `/proc/${donor.state.Pid}/ns/ipc` };
    if (donorMode === 'host') plan.shmMount = shmBind('/dev/shm');
  }

  const pidRef = containerRef(pidMode);
  if (pidMode === 'host') {
    plan.pid = 'host';
  } else if (pidRef) {
    const other = lookup(pidRef);
    if (!other.state.Running) throw new ConflictError(`container ${other.id} is not running`);
    plan.pid = { path: `/proc/${other.state.Pid}/ns/pid` };
  }
  return plan;
}

function shmBind(source: string): SpecMount {
  return { destination: '/dev/shm', source, type: 'bind', options: ['rbind', 'rprivate'] };
}
