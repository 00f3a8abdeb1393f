/**
 * `docker commit`: a container's overlay upper dir written as an image layer tar, the way
 * dockerd's overlay2 driver diffs (`[moby] pkg/archive` overlay whiteout converter): a whiteout
 * (char device 0:0) becomes an empty `.wh.<name>`, an opaque directory gets `.wh..wh..opq`
 * after its own entry. What the runtime made for mount points (dockerd keeps those in an init
 * layer, see changes.ts) is left out, and so is a directory that was only copied up for them.
 */
import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tar from 'tar-stream';
import { isInitPath, sameDirMeta } from './changes';
import { TreePacker } from './tar-pack';
import { toContainerOwner } from './owner-shift';
import { classifyUpperEntry, isOpaqueDir } from './upper-marks';
import type { StorageDriverName } from '../../../host/overlay-driver';
import type { IdMap } from '../../userns/id-map';

export interface LayerPackOptions {
  /** Reads an xattr (undefined when absent); the overlay opaque flag. */
  getXattr(path: string, name: string): Promise<Buffer | undefined>;
  /** userns-remap: the container's mapping; the upper holds host ids, the layer container ids. */
  idMap?: IdMap;
  /** How the upper dir was written (upper-marks.ts); default overlay2. */
  driver?: StorageDriverName;
}


type Planned =
  | { kind: 'entry'; host: string; name: string; st: Stats }
  | { kind: 'marker'; name: string; mtime: Date };

/** Writes the layer tar of `upper` (over `lowerDirs`, top-most first) into `pack` and finalizes it. */
export async function packUpperLayer(upper: string, lowerDirs: string[], pack: tar.Pack, opts: LayerPackOptions): Promise<void> {
  const planned: Planned[] = [];
  const inLower = async (path: string): Promise<Stats | undefined> => {
    for (const dir of lowerDirs) {
      const st = await lstat(join(dir, path)).catch(() => undefined);
      if (st) return st;
    }
    return undefined;
  };

  /** Plans `path` (container path) and below; true when anything was planned. */
  const visit = async (path: string): Promise<boolean> => {
    if (isInitPath(path)) return false;
    const host = join(upper, path);
    const st = await lstat(host);
    const name = path.slice(1);
    const slash = name.lastIndexOf('/');
    const mark = classifyUpperEntry(name.slice(slash + 1), st, opts.driver);
    if (mark.kind === 'skip') return false;
    if (mark.kind === 'whiteout') {
      planned.push({ kind: 'marker', name: `${name.slice(0, slash + 1)}.wh.${mark.target}`, mtime: st.mtime });
      return true;
    }
    if (!st.isDirectory()) {
      planned.push({ kind: 'entry', host, name, st });
      return true;
    }
    const at = planned.length;
    const below = await inLower(path);
    // Overlayfs marks a directory opaque only where it replaces a lower entry (made over a
    // whiteout), so one with nothing below is never asked: each ask runs getfattr, and a layer of
    // new directories (a package install) would otherwise spend most of its commit on them.
    const opaque = below !== undefined && (await isOpaqueDir(host, opts.getXattr, opts.driver));
    let childPlanned = false;
    for (const child of (await readdir(host)).sort()) {
      if (await visit(`${path === '/' ? '' : path}/${child}`)) childPlanned = true;
    }
    const own = !below?.isDirectory() || opaque || !sameDirMeta(opts.idMap ? { mode: st.mode, ...toContainerOwner(opts.idMap, st) } : st, below);
    if (!own && !childPlanned) return false;
    const head: Planned[] = [{ kind: 'entry', host, name, st }];
    if (opaque) head.push({ kind: 'marker', name: `${name}/.wh..wh..opq`, mtime: st.mtime });
    planned.splice(at, 0, ...head); // a directory's entry goes before what it holds
    return true;
  };

  for (const child of (await readdir(upper).catch(() => [] as string[])).sort()) await visit(`/${child}`);
  const idMap = opts.idMap;
  const packer = new TreePacker(pack, idMap && ((o) => toContainerOwner(idMap, o)));
  for (const p of planned) {
    if (p.kind === 'marker') await packer.addMarker(p.name, p.mtime);
    else await packer.addEntry(p.host, p.name, p.st);
  }
  pack.finalize();
}
