/** The volumes a container's mounts name: made at create, anonymous ones removed with it. */
import type { Logger } from 'pino';
import type { VolumeLookup } from './mount-spec';
import type { MountPoint } from './types';

/** Creates (or finds) every volume a new container mounts; records names and paths. */
export async function createVolumes(volumes: VolumeLookup, mounts: MountPoint[]): Promise<void> {
  for (const m of mounts) {
    if (m.Type !== 'volume') continue;
    m.Name = await volumes.ensure(m.Name || undefined, m.anonymous ? { 'com.docker.volume.anonymous': '' } : undefined);
    m.Source = (await volumes.mountSource(m.Name)).source;
  }
}

/** `docker rm -v` (and a failed create): anonymous volumes go, unless another container uses them. */
export async function removeAnonymousVolumes(volumes: VolumeLookup, log: Logger, mounts: MountPoint[]): Promise<void> {
  for (const m of mounts) {
    if (m.Type !== 'volume' || !m.anonymous || !m.Name) continue;
    await volumes.remove(m.Name, { force: false }).catch((err) => log.debug({ err, volume: m.Name }, 'anonymous volume kept'));
  }
}
