/**
 * Reads a `docker save` tarball (optionally gzip-compressed as a whole) into an ingest
 * directory. Entry names are never used as host paths: every regular file is stored as
 * `<dir>/f<n>` and looked up through an in-memory index of cleaned archive paths, so a hostile
 * archive cannot write anywhere. Symlinks and hard links between archive members (older
 * `docker save` links shared `<id>/layer.tar` files) are resolved within the archive.
 */
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { BerthError, InvalidParameterError } from '../../errors';
import { decompressed } from './compression';
import { HashingStream } from '../digest';
import { cleanArchivePath } from './safe-path';

export interface ArchiveFile {
  /** Host path of the stored copy. */
  hostPath: string;
  size: number;
  /** `sha256:<hex>` of the member's bytes. */
  digest: string;
}

type ArchiveEntry = { kind: 'file'; file: ArchiveFile } | { kind: 'symlink'; target: string } | { kind: 'link'; target: string };

const MAX_LINK_HOPS = 40;
/** JSON members (manifest, index, image config) larger than this are refused. */
export const MAX_JSON_BYTES = 32 * 1024 * 1024;

export class SaveArchive {
  private constructor(
    private readonly entries: Map<string, ArchiveEntry>,
    private readonly dirs: Set<string>,
    /** The ingest dir (the archive's members are stored there under other names). */
    readonly dir: string,
  ) {}

  /** Streams `input` into `dir` (which must exist and be empty). */
  static async ingest(input: NodeJS.ReadableStream, dir: string, opts: { signal?: AbortSignal } = {}): Promise<SaveArchive> {
    const entries = new Map<string, ArchiveEntry>();
    const dirs = new Set<string>();
    let count = 0;
    const extract = tar.extract();
    let feed: Promise<void> | undefined;
    try {
      const { stream } = await decompressed(input, 'image archive');
      feed = pipeline(stream, extract, opts.signal ? { signal: opts.signal } : {});
      feed.catch(() => undefined);
      for await (const raw of extract) {
        const h = (raw as unknown as { header: tar.Header }).header;
        // The body's iterator is taken at once so that an error is never missed (see layer-extract).
        const iterator = (raw as unknown as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
        const entry: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => iterator };
        const name = cleanArchivePath(h.name);
        if (h.type === 'file' || h.type === 'contiguous-file' || !h.type) {
          const hostPath = join(dir, `f${count++}`);
          const hasher = new HashingStream();
          await pipeline(entry, hasher, createWriteStream(hostPath, { flags: 'wx', mode: 0o600 }));
          entries.set(name, { kind: 'file', file: { hostPath, size: hasher.bytes, digest: hasher.digest() } });
          continue;
        }
        for await (const _chunk of entry);
        if (h.type === 'directory') dirs.add(name);
        else if (h.type === 'symlink') entries.set(name, { kind: 'symlink', target: h.linkname ?? '' });
        else if (h.type === 'link') entries.set(name, { kind: 'link', target: cleanArchivePath(h.linkname ?? '') });
      }
      await feed;
    } catch (err) {
      extract.destroy();
      await feed?.catch(() => undefined);
      throw untarError(err);
    }
    return new SaveArchive(entries, dirs, dir);
  }

  /** The directories at the archive's top level, sorted by name. */
  topDirs(): string[] {
    const names = new Set<string>();
    for (const path of [...this.entries.keys(), ...this.dirs]) {
      const slash = path.indexOf('/');
      if (slash > 0) names.add(path.slice(0, slash));
      else if (this.dirs.has(path) && path !== '.') names.add(path);
    }
    return [...names].sort();
  }

  has(path: string): boolean {
    try {
      this.file(path);
      return true;
    } catch {
      return false;
    }
  }

  /** The regular file at archive path `path`, following links within the archive. */
  file(path: string): ArchiveFile {
    let current = cleanArchivePath(path);
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const entry = this.entries.get(current);
      if (!entry) throw new InvalidParameterError(`invalid image archive: ${path} not found in the archive`);
      if (entry.kind === 'file') return entry.file;
      current =
        entry.kind === 'link'
          ? entry.target
          : cleanArchivePath(entry.target.startsWith('/') ? entry.target : posix.join(posix.dirname(current), entry.target));
    }
    throw new InvalidParameterError(`invalid image archive: ${path}: too many levels of links`);
  }

  /** The bytes of a (small) member. */
  async read(path: string, limit = MAX_JSON_BYTES): Promise<Buffer> {
    const file = this.file(path);
    if (file.size > limit) throw new InvalidParameterError(`invalid image archive: ${path} is too large (${file.size} bytes)`);
    const fh = await open(file.hostPath, 'r');
    try {
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }

  /** A member parsed as JSON. */
  async readJson<T>(path: string): Promise<T> {
    const bytes = await this.read(path);
    try {
      return JSON.parse(bytes.toString('utf8')) as T;
    } catch (err) {
      throw new InvalidParameterError(`invalid image archive: ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
}

/**
 * A load's archive that cannot be read, in dockerd's words (its untar runs in a child process,
 * hence the exit status; the rest is Go's archive/tar or io error).
 */
function untarError(err: unknown): unknown {
  const classified = archiveError(err, 'tar');
  if (!(classified instanceof InvalidParameterError) || !(err instanceof Error) || err instanceof BerthError) return classified;
  const words = /invalid tar header/i.test(err.message)
    ? 'archive/tar: invalid tar header'
    : /unexpected end of (data|file)/i.test(err.message)
      ? 'unexpected EOF'
      : classified.message.slice('tar: '.length);
  return new InvalidParameterError(`Error processing tar file(exit status 1): ${words}`, { cause: err });
}

/**
 * Classifies a failure while reading archive or layer bytes: corrupt or truncated data (tar and
 * zlib errors, a body that ended early) is the client's fault and becomes InvalidParameterError;
 * engine errors, aborts and system errors (ENOSPC, EIO, ...) pass through unchanged.
 */
export function archiveError(err: unknown, what: string): unknown {
  if (err instanceof BerthError) return err;
  if (!(err instanceof Error)) return err;
  if (err.name === 'AbortError') return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return err;
  const message = err.message.charAt(0).toLowerCase() + err.message.slice(1);
  return new InvalidParameterError(`${what}: ${message}`, { cause: err });
}
