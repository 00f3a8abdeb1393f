/**
 * How the volume service mounts device volumes: an interface so the service states what it
 * needs, backed on the host by the one mount adapter (host/mount.ts).
 */
import { isMountPoint, mount, unmount } from '../../host/mount';

export interface Mounter {
  mount(fstype: string, device: string, target: string, options: string[]): Promise<void>;
  unmount(target: string): Promise<void>;
  isMounted(target: string): Promise<boolean>;
}

export const hostMounter: Mounter = {
  mount: (fsType, source, target, options) => mount(target, { type: 'filesystem', fsType, source, options }),
  // Not lazy: a volume still in use must fail to unmount (the service reports it).
  unmount: (target) => unmount(target, { lazy: false }),
  isMounted: (target) => isMountPoint(target),
};
