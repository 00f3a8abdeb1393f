import { mkdir, readdir, stat } from 'node:fs/promises';
import { copyTreeContents } from '../../host/copy-tree';
import type { MountPoint } from './types';
import type { SpecMount } from './oci-spec-types';
import { resolveInRootfs } from './user';

/** What container mounts need from the volume service. */
export interface VolumeLookup {
  /** Creates the volume if needed (undefined name: a new anonymous one); returns its name. */
  ensure(name: string | undefined, labels?: Record<string, string>): Promise<string>;
  mountSource(name: string): Promise<{ source: string; type: 'bind' | 'tmpfs' | 'mount'; options?: string[] }>;
  isEmpty(name: string): Promise<boolean>;
  remove(name: string, opts: { force: boolean }): Promise<void>;
}

const isEmptyDir = async (dir: string) => (await readdir(dir).catch(() => [])).length === 0;

/**
 * OCI mounts for a starting container. A new empty volume first receives what the image has at
 * its destination (dockerd's copy-up), unless `nocopy` was asked for.
 */
export async function specMounts(mounts: MountPoint[], rootfs: string, volumes: VolumeLookup): Promise<SpecMount[]> {
  const out: SpecMount[] = [];
  for (const m of mounts) {
    const ro = m.RW ? [] : ['ro'];
    if (m.Type === 'tmpfs') {
      out.push({ destination: m.Destination, source: 'tmpfs', type: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...(m.tmpfsOptions ?? []), ...ro] });
      continue;
    }
    if (m.Type === 'bind') {
      // `-v /missing:/x` creates the host directory, as dockerd does (`--mount` was refused at create).
      await mkdir(m.Source, { recursive: true }).catch(() => undefined);
      out.push({ destination: m.Destination, source: m.Source, type: 'bind', options: ['rbind', m.Propagation || 'rprivate', ...ro] });
      continue;
    }
    const src = await volumes.mountSource(m.Name!);
    if (src.type === 'tmpfs') {
      out.push({ destination: m.Destination, source: 'tmpfs', type: 'tmpfs', options: ['nosuid', 'nodev', ...(src.options ?? []), ...ro] });
      continue;
    }
    if (!m.noCopy && (await isEmptyDir(src.source))) await copyUp(rootfs, m.Destination, src.source);
    out.push({ destination: m.Destination, source: src.source, type: 'bind', options: ['rbind', 'rprivate', ...ro] });
  }
  // Parents before children, so a mount inside another volume lands on top of it.
  return out.sort((a, b) => a.destination.split('/').length - b.destination.split('/').length);
}

/** Copies the image's content at `dest` into an empty volume, keeping owners and modes. */
async function copyUp(rootfs: string, dest: string, volumeDir: string): Promise<void> {
  const from = await resolveInRootfs(rootfs, dest);
  const st = await stat(from).catch(() => undefined);
  if (!st?.isDirectory()) return;
  await copyTreeContents(from, volumeDir);
}
