/**
 * Which overlay driver the daemon mounts container rootfs with (host/overlay-driver.ts), chosen
 * once at start. A driver given with `--storage-driver` (or daemon.json `storage-driver`) must
 * mount here, else the start fails with why. Unset: overlay2; a daemon in a user namespace
 * (rootless) first tries a tiny native overlay under the data root and, when the kernel or the
 * data root's filesystem refuses it there, falls back to fuse-overlayfs as dockerd rootless
 * users do by hand, saying so in the log.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { fuseOverlayfsInstalled, probeOverlay, type StorageDriverName } from '../host/overlay-driver';

export interface StorageChoiceInput {
  configured?: StorageDriverName;
  inUserNs: boolean;
  dataRoot: string;
  log: Pick<Logger, 'info' | 'warn'>;
  /** Injected by unit tests; the real probe mounts under the data root. */
  probe?: (dir: string, driver: StorageDriverName) => Promise<string | undefined>;
  fuseInstalled?: () => boolean;
}

export class StorageDriverError extends Error {}

export async function chooseStorageDriver(input: StorageChoiceInput): Promise<StorageDriverName> {
  const probe = input.probe ?? probeOverlay;
  const fuseInstalled = input.fuseInstalled ?? (() => fuseOverlayfsInstalled() !== undefined);
  const dir = join(input.dataRoot, 'storage-probe');
  if (input.configured) {
    if (input.configured === 'fuse-overlayfs' && !fuseInstalled()) throw new StorageDriverError('storage driver fuse-overlayfs: fuse-overlayfs is not installed (Debian: apt-get install fuse-overlayfs)');
    // The rootful default needs no probe: the host's overlayfs is Berth's baseline.
    if (input.configured === 'overlay2' && !input.inUserNs) return 'overlay2';
    const failed = await probe(dir, input.configured);
    if (failed) throw new StorageDriverError(`storage driver ${input.configured} cannot mount under ${input.dataRoot}: ${failed}${hint(input.configured)}`);
    return input.configured;
  }
  if (!input.inUserNs) return 'overlay2';
  const native = await probe(dir, 'overlay2');
  if (!native) return 'overlay2';
  if (!fuseInstalled()) {
    throw new StorageDriverError(`overlayfs cannot be mounted in this user namespace under ${input.dataRoot} (${native}) and fuse-overlayfs is not installed: install fuse-overlayfs (Debian: apt-get install fuse-overlayfs), or use a data root on a filesystem overlayfs supports (--data-root)`);
  }
  const fuse = await probe(dir, 'fuse-overlayfs');
  if (fuse) throw new StorageDriverError(`overlayfs cannot be mounted in this user namespace under ${input.dataRoot} (${native}), nor fuse-overlayfs (${fuse})${hint('fuse-overlayfs')}`);
  input.log.warn({ reason: native }, 'native overlayfs cannot be mounted in this user namespace: using the fuse-overlayfs storage driver');
  return 'fuse-overlayfs';
}

function hint(driver: StorageDriverName): string {
  return driver === 'fuse-overlayfs' ? ' (fuse-overlayfs needs /dev/fuse usable by the user: mode 0666, as Debian sets it)' : '';
}
