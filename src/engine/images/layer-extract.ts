/**
 * Unpacks one uncompressed layer tar into a directory in overlayfs form: regular files, dirs,
 * symlinks, hard links, device nodes and fifos with their owner, mode, mtime and xattrs;
 * `.wh.<name>` becomes a whiteout (char device 0:0) and `.wh..wh..opq` marks its directory
 * opaque (`trusted.overlay.opaque=y`). Every path is confined to the layer root (safe-path.ts):
 * nothing is ever created, linked or changed outside it.
 *
 * One concern, kept in one file: every entry kind is applied by one extractor that tracks what
 * this layer created (hard-link targets, deferred metadata, batched writes), and the
 * confinement checks only hold if all of them go through it.
 */
import { constants as fsConstants } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink, type FileHandle } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import * as tar from 'tar-stream';
import { InvalidParameterError } from '../../errors';
import { ExternalCommandError } from '../../host/command-error';
import type { FsTools } from '../../host/fs-tools';
import { cleanEntryPath, resolveInRoot } from './safe-path';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
export const OPAQUE_XATTR = 'trusted.overlay.opaque';

export interface ExtractLayerOptions {
  fsTools: FsTools;
  log: Logger;
  signal?: AbortSignal;
  /**
   * Extract below this directory (relative to `root`) instead of at the root itself: entry
   * names are confined to it, while symlinks met on the way resolve within the whole `root`
   * (docker cp into a container directory).
   */
  base?: string;
  /** Resolve symlinks like the root's own processes would (absolute targets mean the root). */
  scoped?: boolean;
  /** Turn `.wh.` entries into overlay whiteouts (layers; the default) or keep them as files. */
  whiteouts?: boolean;
  /** Refuse to replace a directory with a non-directory or the reverse (docker cp). */
  noOverwriteDirNonDir?: boolean;
  /** Own every entry by this identity instead of the header's. */
  owner?: { uid: number; gid: number };
  /** The ids written on disk for an entry's owner (userns-remap: container ids to host ids). */
  mapOwner?: (owner: { uid: number; gid: number }) => { uid: number; gid: number };
  /**
   * `root` is a new, empty directory that only this extraction writes (a layer's diff dir, a
   * build context): small files are then read into memory and written in the background, since
   * nothing can already be at their paths unless an earlier entry put it there.
   */
  fresh?: boolean;
}

type Header = Omit<tar.Header, 'type' | 'pax'> & {
  type: tar.Header['type'] | string | null | undefined;
  pax?: Record<string, string> | null;
};
/** One tar entry as tar-stream yields it: a (streamx) readable of the content plus its header. */
type Entry = AsyncIterable<Buffer> & { header: tar.Header };

const FILE_TYPES = new Set<unknown>(['file', 'contiguous-file', null, undefined]);

const CREATE_FILE_FLAGS =
  fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW;

/** Unpacks the tar read from `input` into `root` (an existing, normally empty directory). */
export async function extractLayer(input: Readable, root: string, opts: ExtractLayerOptions): Promise<void> {
  const extractor = new LayerExtractor(root, opts);
  const extract = tar.extract();
  const feed = pipeline(input, extract, opts.signal ? { signal: opts.signal } : {});
  feed.catch(() => undefined); // observed below; keeps an early failure from going unhandled
  try {
    for await (const entry of extract) {
      await extractor.entry(entry as unknown as Entry);
    }
    await feed;
    await extractor.finish();
  } catch (err) {
    extract.destroy();
    input.destroy();
    await feed.catch(() => undefined);
    await extractor.settle().catch(() => undefined);
    throw err;
  }
}

/** File metadata calls left running in the background before the extractor waits for them. */
const MAX_PENDING = 64;
/** Files up to this size are written in the background when the root is fresh (64 × this in memory at most). */
const SMALL_FILE = 256 * 1024;

class LayerExtractor {
  /**
   * Directory mtimes by path relative to the root, applied once every entry is in place
   * (children change them). Resolved again then: a later entry may have replaced a parent.
   */
  private readonly dirTimes = new Map<string, Date>();
  /** Resolved directories by path relative to the root; forgotten whenever something is removed. */
  private readonly dirs = new Map<string, string>();
  /**
   * A written file's close, owner, mode and times run in the background while the next entries
   * are read (one thread-pool round trip each: awaiting them one by one made small files slow).
   */
  private pending: Array<Promise<void>> = [];
  private failure: unknown;
  /** In a fresh root: every path this extraction created (anything else cannot exist). */
  private readonly created = new Set<string>();
  /** Every directory `dir()` resolved, with its ancestors (it may create them on the way). */
  private readonly parentsMade = new Set<string>();
  /** Symlinks made in the background and not yet settled: a path through one waits for it. */
  private readonly linksOnTheWay = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly opts: ExtractLayerOptions,
  ) {}

  async entry(entry: Entry): Promise<void> {
    const h = entry.header as Header;
    // Take the body's iterator now: it records an error (a truncated tar) that happens while
    // apply() is still preparing, which a stream consumed later would swallow.
    const iterator = entry[Symbol.asyncIterator]();
    const body: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => iterator };
    // File entries are consumed by apply(); every other entry's (normally empty) body is drained.
    await this.apply(h, body);
    if (!FILE_TYPES.has(h.type)) for await (const _chunk of body);
  }

  /** Only a fresh root needs to know what this extraction made. */
  private noteCreated(target: string): void {
    if (this.opts.fresh) this.created.add(target);
  }

  /** Waits for the background metadata calls; throws the first that failed. */
  async settle(): Promise<void> {
    const running = this.pending;
    this.pending = [];
    await Promise.all(running);
    this.linksOnTheWay.clear();
    if (this.failure) throw this.failure;
  }

  private async defer(work: () => Promise<void>): Promise<void> {
    this.pending.push(
      work().catch((err: unknown) => {
        this.failure ??= err;
      }),
    );
    if (this.pending.length >= MAX_PENDING) await this.settle();
  }

  async finish(): Promise<void> {
    await this.settle();
    for (const [rel, mtime] of this.dirTimes) {
      const path = rel === '' ? this.root : await resolveInRoot(this.root, rel, { scoped: this.opts.scoped }).catch(() => undefined);
      const st = path ? await lstat(path).catch(() => undefined) : undefined;
      if (path && st?.isDirectory()) await lutimes(path, mtime, mtime);
    }
  }

  private async apply(h: Header, entry: AsyncIterable<Buffer>): Promise<void> {
    const rel = this.inBase(cleanEntryPath(h.name));
    const base = posix.basename(rel);
    const dirRel = rel.includes('/') ? posix.dirname(rel) : '';

    if (this.opts.whiteouts !== false && base.startsWith(WHITEOUT_PREFIX)) {
      if (FILE_TYPES.has(h.type)) for await (const _chunk of entry);
      return this.whiteout(h, dirRel, base);
    }
    if (rel === (this.opts.base ?? '')) {
      // The layer root itself ("./"): only a directory entry can describe it.
      if (h.type === 'directory') await this.setMetadata(await this.dir(rel), h, 'directory', rel);
      else if (FILE_TYPES.has(h.type)) for await (const _chunk of entry);
      return;
    }

    const parent = await this.dir(dirRel);
    const target = join(parent, base);
    if (h.type === 'symlink' && this.opts.fresh && !this.created.has(target) && !this.parentsMade.has(rel)) {
      // Nothing can be in the way in a fresh root: made in the background like a small file
      // (a busybox layer is mostly symlinks, each three calls through the thread pool).
      this.noteCreated(target);
      this.linksOnTheWay.add(rel);
      return this.defer(async () => {
        await symlink(h.linkname ?? '', target);
        await this.setMetadata(target, h, 'symlink');
      });
    }
    // A regular file finds out whether something is in the way when it is created (one call less).
    if (!FILE_TYPES.has(h.type)) {
      if (this.created.has(target)) await this.settle(); // an earlier file there may still be on its way
      await this.clear(target, h.type === 'directory', rel);
      this.noteCreated(target);
    }

    switch (h.type) {
      case 'directory':
        this.noteCreated(target);
        await mkdir(target, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
        });
        return this.setMetadata(target, h, 'directory', rel);
      case 'file':
      case 'contiguous-file':
      case null:
      case undefined: {
        if (this.opts.fresh && !this.created.has(target) && (h.size ?? 0) <= SMALL_FILE) {
          const chunks: Buffer[] = [];
          for await (const chunk of entry) chunks.push(chunk);
          this.noteCreated(target);
          return this.defer(async () => {
            const fh = await open(target, CREATE_FILE_FLAGS, 0o600);
            try {
              await writeBatched(fh, chunks);
            } finally {
              await fh.close();
            }
            await this.setMetadata(target, h, 'file');
          });
        }
        if (this.opts.fresh && this.created.has(target)) await this.settle();
        this.noteCreated(target);
        const fh = await open(target, CREATE_FILE_FLAGS, 0o600).catch(async (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
          await this.clear(target, false, rel);
          return open(target, CREATE_FILE_FLAGS, 0o600);
        });
        try {
          // Batched writes: far fewer syscalls than one per tar chunk through a write stream.
          await writeBatched(fh, entry);
        } catch (err) {
          await fh.close();
          throw err;
        }
        return this.defer(async () => {
          await fh.close();
          await this.setMetadata(target, h, 'file');
        });
      }
      case 'symlink':
        await symlink(h.linkname ?? '', target);
        return this.setMetadata(target, h, 'symlink');
      case 'link':
        return this.hardLink(h, target);
      case 'character-device':
      case 'block-device':
        return this.device(h, target);
      case 'fifo':
        await this.opts.fsTools.mknod(target, { type: 'fifo' });
        return this.setMetadata(target, h, 'file');
      default:
        this.opts.log.debug({ path: h.name, type: h.type }, 'skipping unsupported tar entry type in layer');
    }
  }

  /** An entry's path relative to the root: the cleaned name under `base`. */
  private inBase(rel: string): string {
    const base = this.opts.base ?? '';
    if (base === '') return rel;
    return rel === '' ? base : `${base}/${rel}`;
  }

  /** Resolves (creating if needed) the directory `rel` inside the root; returns its host path. */
  private async dir(rel: string): Promise<string> {
    if (rel === '') return this.root;
    const known = this.dirs.get(rel);
    if (known) return known;
    if (this.linksOnTheWay.size && selfAndAncestors(rel).some((r) => this.linksOnTheWay.has(r))) await this.settle();
    const path = await resolveInRoot(this.root, rel, { createParents: true, followLast: true, scoped: this.opts.scoped });
    const st = await lstat(path).catch(() => undefined);
    if (!st) await mkdir(path, { mode: 0o755 });
    else if (!st.isDirectory()) throw new InvalidParameterError(`invalid layer: ${rel} is not a directory`);
    this.dirs.set(rel, path);
    for (const r of selfAndAncestors(rel)) this.parentsMade.add(r);
    return path;
  }

  /** Removes what is at `target` unless both it and the new entry are directories. */
  private async clear(target: string, entryIsDir: boolean, rel = ''): Promise<void> {
    const st = await lstat(target).catch(() => undefined);
    if (!st || (st.isDirectory() && entryIsDir)) return;
    if (this.opts.noOverwriteDirNonDir && st.isDirectory() !== entryIsDir) {
      throw new InvalidParameterError(
        st.isDirectory()
          ? `cannot overwrite directory "/${rel}" with non-directory "/${rel}"`
          : `cannot overwrite non-directory "/${rel}" with directory "/${rel}"`,
      );
    }
    // Nothing of what goes may still be written to, and no resolved directory may point into it.
    await this.settle();
    this.dirs.clear();
    await rm(target, { recursive: true, force: true });
  }

  private async whiteout(h: Header, dirRel: string, base: string): Promise<void> {
    if (base === WHITEOUT_OPAQUE) {
      const dir = await this.dir(dirRel);
      await this.opts.fsTools.setXattr(dir, OPAQUE_XATTR, Buffer.from('y'));
      return;
    }
    if (base.startsWith(WHITEOUT_META_PREFIX)) {
      this.opts.log.debug({ path: h.name }, 'skipping whiteout metadata entry');
      return;
    }
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..') throw new InvalidParameterError(`invalid whiteout in layer: ${h.name}`);
    const target = join(await this.dir(dirRel), name);
    if (this.created.has(target)) await this.settle();
    await this.clear(target, false);
    await this.opts.fsTools.whiteout(target);
    const owner = this.diskOwner(ownerOf(h));
    await lchown(target, owner.uid, owner.gid);
    await chmod(target, 0);
  }

  private async hardLink(h: Header, target: string): Promise<void> {
    let linkRel: string;
    try {
      linkRel = this.inBase(cleanEntryPath(h.linkname ?? ''));
    } catch {
      throw new InvalidParameterError(`invalid hard link in layer: ${h.name} -> ${h.linkname} points outside the layer`);
    }
    await this.settle(); // the link shares the file's inode: its own metadata comes first
    const source = linkRel === '' ? this.root : await resolveInRoot(this.root, linkRel, { scoped: this.opts.scoped });
    const st = await lstat(source).catch(() => undefined);
    if (!st || st.isDirectory()) {
      throw new InvalidParameterError(`invalid hard link in layer: ${h.name} -> ${h.linkname}: no such file in the layer`);
    }
    await link(source, target);
    await this.setMetadata(target, h, st.isSymbolicLink() ? 'symlink' : 'file');
  }

  private async device(h: Header, target: string): Promise<void> {
    const type = h.type === 'block-device' ? 'block' : 'char';
    try {
      await this.opts.fsTools.mknod(target, { type, major: h.devmajor ?? 0, minor: h.devminor ?? 0 });
    } catch (err) {
      if (!(err instanceof ExternalCommandError)) throw err;
      this.opts.log.warn({ err, path: h.name }, 'cannot create device node in layer; skipping it');
      return;
    }
    await this.setMetadata(target, h, 'file');
  }

  /**
   * Owner, xattrs, mode and times, in the order that keeps security.capability (chown clears
   * it). `path` was just created or checked by us, so chmod cannot follow a symlink here.
   */
  private async setMetadata(path: string, h: Header, kind: 'file' | 'directory' | 'symlink', rel = ''): Promise<void> {
    const { uid, gid } = this.diskOwner(this.opts.owner ?? ownerOf(h));
    await lchown(path, uid, gid);
    await this.setXattrs(path, h);
    if (kind !== 'symlink') await chmod(path, (h.mode ?? (kind === 'directory' ? 0o755 : 0o644)) & 0o7777);
    const mtime = mtimeOf(h);
    if (kind === 'directory') this.dirTimes.set(rel, mtime);
    else await lutimes(path, mtime, mtime);
  }

  private diskOwner(o: { uid: number; gid: number }): { uid: number; gid: number } {
    return this.opts.mapOwner ? this.opts.mapOwner(o) : o;
  }

  private async setXattrs(path: string, h: Header): Promise<void> {
    if (!h.pax) return;
    for (const [key, value] of Object.entries(h.pax)) {
      if (!key.startsWith('SCHILY.xattr.')) continue;
      const name = key.slice('SCHILY.xattr.'.length);
      if (name.startsWith('trusted.overlay.')) {
        // overlayfs metadata from a tarball would let a layer redirect lookups; never trust it.
        this.opts.log.debug({ path: h.name, xattr: name }, 'ignoring overlay xattr in layer');
        continue;
      }
      if (value.includes('\uFFFD')) {
        // tar-stream decodes PAX records as UTF-8, so binary values that are not valid UTF-8
        // arrive mangled; setting a corrupted security.capability would be worse than none.
        this.opts.log.warn({ path: h.name, xattr: name }, 'xattr value in layer is not valid UTF-8; ignoring it');
        continue;
      }
      try {
        await this.opts.fsTools.setXattr(path, name, Buffer.from(value, 'utf8'));
      } catch (err) {
        if (!(err instanceof ExternalCommandError)) throw err;
        this.opts.log.warn({ err, path: h.name, xattr: name }, 'cannot set xattr from layer; ignoring it');
      }
    }
  }
}

/** Owner from the header, or from PAX records when the ids did not fit in it. */
function ownerOf(h: Header): { uid: number; gid: number } {
  const pax = (key: string) => (h.pax?.[key] !== undefined ? Number(h.pax[key]) : undefined);
  return { uid: pax('uid') ?? h.uid ?? 0, gid: pax('gid') ?? h.gid ?? 0 };
}

/** Modification time, with the sub-second precision of a PAX `mtime` record when present. */
function mtimeOf(h: Header): Date {
  const pax = h.pax?.mtime !== undefined ? Number(h.pax.mtime) : NaN;
  if (Number.isFinite(pax)) return new Date(pax * 1000);
  return h.mtime ?? new Date(0);
}

const WRITE_BATCH = 1024 * 1024;

/** Writes `body` to `fh`, gathering chunks into writes of up to WRITE_BATCH bytes. */
async function writeBatched(fh: FileHandle, body: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> {
  let pending: Buffer[] = [];
  let size = 0;
  const flush = async () => {
    const { bytesWritten } = await fh.writev(pending);
    // A short write (rare for regular files): write the rest plainly.
    if (bytesWritten < size) {
      const rest = Buffer.concat(pending).subarray(bytesWritten);
      for (let off = 0; off < rest.length; ) off += (await fh.write(rest, off)).bytesWritten;
    }
    pending = [];
    size = 0;
  };
  for await (const chunk of body) {
    pending.push(chunk);
    size += chunk.length;
    if (size >= WRITE_BATCH) await flush();
  }
  if (size > 0) await flush();
}

/** `a/b/c`, `a/b`, `a`: a relative path and the directories above it in the root. */
function selfAndAncestors(rel: string): string[] {
  const out: string[] = [];
  for (let r = rel; r !== '.' && r !== ''; r = posix.dirname(r)) out.push(r);
  return out;
}
