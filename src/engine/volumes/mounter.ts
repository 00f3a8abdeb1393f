/**
 * How the volume service mounts device volumes: an interface so the service states what it
 * needs, backed on the host by the engine's one mount adapter (containers/rootfs.ts).
 */
import { isMounted, mountFilesystem, unmountNow } from '../containers/rootfs';

export interface Mounter {
  mount(fstype: string, device: string, target: string, options: string[]): Promise<void>;
  unmount(target: string): Promise<void>;
  isMounted(target: string): Promise<boolean>;
}

export const hostMounter: Mounter = {
  mount: (fstype, device, target, options) => mountFilesystem(fstype, device, target, options),
  unmount: (target) => unmountNow(target),
  isMounted: (target) => isMounted(target),
};
