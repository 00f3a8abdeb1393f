/**
 * Writes a directory tree of the host filesystem as tar entries (docker cp GET, docker export):
 * modes, owners, mtimes, symlinks and hard links (by inode, within one archive) are preserved;
 * symlinks are never followed. Entry names are rebased: the tree at `hostPath` is named `name`.
 * Under userns-remap `owners` turns the host ids on disk into the container ids the tar carries.
 */
import type { Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tar from 'tar-stream';
import { packFile } from '../../images/pack-stream';

type HeaderArg = Partial<tar.Header> & { name: string };

export class TreePacker {
  /** First entry name seen per `dev:ino` of multiply-linked files. */
  private readonly links = new Map<string, string>();

  constructor(
    private readonly pack: tar.Pack,
    private readonly owners?: (o: { uid: number; gid: number }) => { uid: number; gid: number },
  ) {}

  /** Adds `hostPath` (and, for a directory, everything below it) as `name` ('' = the root). */
  async add(hostPath: string, name: string, st?: Stats): Promise<void> {
    st ??= await lstat(hostPath);
    await this.addEntry(hostPath, name, st);
    if (!st.isDirectory()) return;
    for (const child of (await readdir(hostPath)).sort()) {
      const childStat = await lstat(join(hostPath, child)).catch(() => undefined);
      if (childStat) await this.add(join(hostPath, child), name === '' ? child : `${name}/${child}`, childStat);
    }
  }

  /** Adds the one entry `hostPath` as `name`: a directory without what it holds. */
  async addEntry(hostPath: string, name: string, st: Stats): Promise<void> {
    const owner = this.owners ? this.owners({ uid: st.uid, gid: st.gid }) : { uid: st.uid, gid: st.gid };
    const header: HeaderArg = {
      name,
      mode: st.mode & 0o7777,
      uid: owner.uid,
      gid: owner.gid,
      mtime: st.mtime,
    };
    if (st.isDirectory()) return this.entry({ ...header, name: name === '' ? './' : `${name}/`, type: 'directory' });
    if (st.isSymbolicLink()) return this.entry({ ...header, type: 'symlink', linkname: await readlink(hostPath) });
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      return this.entry({
        ...header,
        type: st.isCharacterDevice() ? 'character-device' : 'block-device',
        devmajor: Math.floor(st.rdev / 256) & 0xfff,
        devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00),
      });
    }
    if (st.isFIFO()) return this.entry({ ...header, type: 'fifo' });
    if (st.isSocket()) return; // like dockerd: sockets are not archived
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.links.get(key);
      if (first !== undefined) return this.entry({ ...header, type: 'link', linkname: first });
      this.links.set(key, name);
    }
    await packFile(this.pack, { ...header, type: 'file', size: st.size }, hostPath);
  }

  /** An empty marker file (a layer's `.wh.` whiteouts), owned by root like dockerd's. */
  addMarker(name: string, mtime: Date): Promise<void> {
    return new Promise((resolve, reject) => {
      // An empty body, or the pack waits for a file's content to be written.
      this.pack.entry({ name, type: 'file', mode: 0o600, uid: 0, gid: 0, size: 0, mtime }, Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Adds everything below the directory `hostPath`, named relative to it (docker export). */
  async addContents(hostPath: string): Promise<void> {
    for (const child of (await readdir(hostPath)).sort()) {
      const st = await lstat(join(hostPath, child)).catch(() => undefined);
      if (st) await this.add(join(hostPath, child), child, st);
    }
  }

  private entry(header: HeaderArg): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pack.entry(header, (err) => (err ? reject(err) : resolve()));
    });
  }
}
