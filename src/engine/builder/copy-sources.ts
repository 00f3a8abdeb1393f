/**
 * What a COPY or ADD takes from a source tree (the build context, or a stage's files): sources
 * resolved inside the tree (wildcards as Go's filepath.Match, .dockerignore honoured), laid out
 * under the destination the way the classic builder does (`[moby] builder/dockerfile/copy.go`),
 * packed as a tar to extract at the container's root, and hashed for the build cache; ADD's
 * local tar archives, found and opened unpacked.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { InvalidParameterError } from '../../errors';
import { decompressed } from '../images/compression';
import { packFile } from '../images/pack-stream';
import { resolveInRoot } from '../images/safe-path';
import type { IgnoreMatcher } from './dockerignore';

/** One entry to write: a host path as a name below the container root (no leading `/`). */
export interface CopyEntry {
  hostPath: string;
  name: string;
  stat: Stats;
  /** Owner to write (default root). */
  owner?: { uid: number; gid: number };
}

export interface CopyRequest {
  /** The tree the sources are read from. */
  root: string;
  /** Source paths as written (expanded), relative to the root. */
  sources: string[];
  /** Destination as written (expanded); relative ones are below `workdir`. */
  dest: string;
  workdir: string;
  /** Whether a container path is an existing directory (decides `COPY file /existing-dir`). */
  isDir(containerPath: string): Promise<boolean>;
  ignore?: IgnoreMatcher;
  /** 'COPY' or 'ADD', for messages. */
  what: string;
}

const hasWildcards = (p: string) => /[*?[]/.test(p);

/** A fake directory stat for the directories a COPY or WORKDIR creates: 0755, now. */
const DIR_STAT = { mode: 0o40755, mtime: new Date(), isDirectory: () => true, isSymbolicLink: () => false, isFile: () => false } as unknown as Stats;

/** The entries a COPY writes, in a stable order. */
export async function copyEntries(req: CopyRequest): Promise<CopyEntry[]> {
  const matched: Array<{ rel: string; path: string; stat: Stats }> = [];
  for (const src of req.sources) {
    const rel = posix.normalize(`/${src}`).slice(1).replace(/\/$/, '');
    if (hasWildcards(rel)) {
      const found = await matchWildcard(req.root, rel, req.ignore);
      matched.push(...found);
      continue;
    }
    const path = await resolveInRoot(req.root, rel, { followLast: true, scoped: true });
    const st = await stat(path).catch(() => undefined);
    if (!st || (rel !== '' && req.ignore?.ignored(rel) && !st.isDirectory())) {
      throw new InvalidParameterError(`${req.what} failed: file not found in build context or excluded by .dockerignore: stat ${src}: file does not exist`);
    }
    matched.push({ rel, path, stat: st });
  }
  if (matched.length === 0) throw new InvalidParameterError(`${req.what} failed: no source files were specified`);

  const destAbs = posix.isAbsolute(req.dest) ? req.dest : posix.join(req.workdir || '/', req.dest);
  const destIsDir = req.dest.endsWith('/') || req.dest.endsWith('/.') || req.dest === '.';
  if (matched.length > 1 && !destIsDir) {
    throw new InvalidParameterError(`When using ${req.what} with more than one source file, the destination must be a directory and end with a /`);
  }
  const destName = posix.normalize(destAbs).replace(/^\/+/, '').replace(/\/$/, '');
  const entries: CopyEntry[] = [];
  // Directories this COPY creates, as dockerd does (`[moby] builder/dockerfile/copy.go`): 0755,
  // owned by root or the --chown owner (the extraction applies it); existing ones are left alone.
  const created = new Set<string>();
  const existing = new Map<string, Promise<boolean>>();
  const createDir = async (name: string) => {
    if (!name || created.has(name)) return;
    const exists = existing.get(name) ?? req.isDir(`/${name}`);
    existing.set(name, exists);
    if (await exists) return;
    created.add(name);
    entries.push({ hostPath: '', name, stat: DIR_STAT });
  };
  for (const m of matched) {
    if (m.stat.isDirectory()) {
      // A directory's contents go into the destination, which is made as above (not with the
      // directory's own mode); its missing parents are made by the extraction, root-owned.
      await createDir(destName);
      await walk(m.path, m.rel, destName, req.ignore, entries);
      continue;
    }
    const intoDir = destIsDir || (await req.isDir(`/${destName}`));
    const name = intoDir ? posix.join(destName, posix.basename(m.rel)) : destName;
    // A file's missing parents are made as above, owned like the file.
    for (const parent of parentsOf(name)) await createDir(parent);
    entries.push({ hostPath: m.path, name, stat: m.stat });
  }
  return entries;
}

/** `a/b/c` → `a`, `a/b`: the parent directories of an entry name, top first. */
function parentsOf(name: string): string[] {
  const parts = name.split('/').slice(0, -1);
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

async function walk(dir: string, rel: string, name: string, ignore: IgnoreMatcher | undefined, out: CopyEntry[]): Promise<void> {
  const children = (await readdir(dir)).sort();
  // One directory's lstats at once: each is a thread-pool round trip.
  const stats = await Promise.all(children.map((child) => lstat(join(dir, child))));
  for (const [i, child] of children.entries()) {
    const childRel = rel ? `${rel}/${child}` : child;
    const path = join(dir, child);
    const st = stats[i];
    const ignored = ignore?.ignored(childRel) ?? false;
    if (ignored && !(st.isDirectory() && ignore?.mayContainIncluded(childRel))) continue;
    const childName = name ? `${name}/${child}` : child;
    if (!ignored) out.push({ hostPath: path, name: childName, stat: st });
    if (st.isDirectory()) await walk(path, childRel, childName, ignore, out);
  }
}

/** Every path of the tree that the pattern matches component by component (`*` stays in one). */
async function matchWildcard(root: string, pattern: string, ignore: IgnoreMatcher | undefined): Promise<Array<{ rel: string; path: string; stat: Stats }>> {
  const parts = pattern.split('/');
  let level: string[] = [''];
  for (const part of parts) {
    const next: string[] = [];
    for (const rel of level) {
      const dir = rel ? join(root, rel) : root;
      if (!hasWildcards(part)) {
        next.push(rel ? `${rel}/${part}` : part);
        continue;
      }
      const names = await readdir(dir).catch(() => [] as string[]);
      const re = globRegExp(part);
      for (const n of names.sort()) if (re.test(n)) next.push(rel ? `${rel}/${n}` : n);
    }
    level = next;
  }
  const out: Array<{ rel: string; path: string; stat: Stats }> = [];
  for (const rel of level) {
    if (ignore?.ignored(rel)) continue;
    const path = await resolveInRoot(root, rel, { followLast: true, scoped: true });
    const st = await stat(path).catch(() => undefined);
    if (st) out.push({ rel, path, stat: st });
  }
  return out;
}

/** One path component's Go filepath.Match pattern as a RegExp. */
function globRegExp(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const ch = part[i];
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '\\' && i + 1 < part.length) re += escapeRe(part[++i]);
    else if (ch === '[') {
      const end = part.indexOf(']', i + 1);
      if (end < 0) throw new InvalidParameterError('syntax error in pattern');
      let cls = part.slice(i + 1, end);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += escapeRe(ch);
  }
  return new RegExp(`^${re}$`);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The cache key part of a COPY: every entry's name, type, mode, size, link target and content
 * hash (the classic builder hashes contents too; mtimes and owners do not count).
 */
export async function contentKey(entries: CopyEntry[]): Promise<string> {
  // Each file's own digest, a batch at a time (small files are one read each), then all in order.
  const digests: string[] = [];
  for (let i = 0; i < entries.length; i += HASH_BATCH) {
    digests.push(...(await Promise.all(entries.slice(i, i + HASH_BATCH).map(entryDigest))));
  }
  const hash = createHash('sha256');
  for (const [i, e] of entries.entries()) hash.update(`${e.name}\0${e.stat.mode}\0${e.stat.isFile() ? e.stat.size : 0}\0${digests[i]}\n`);
  return hash.digest('hex');
}

const HASH_BATCH = 32;
const SMALL_FILE = 1 << 20;

async function entryDigest(e: CopyEntry): Promise<string> {
  const hash = createHash('sha256');
  if (e.stat.isSymbolicLink()) hash.update(await readlink(e.hostPath));
  else if (e.stat.isFile() && e.stat.size <= SMALL_FILE) hash.update(await readFile(e.hostPath));
  else if (e.stat.isFile()) for await (const chunk of createReadStream(e.hostPath)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Writes the entries into `pack` owned by root (an owner is applied by the extraction). */
export async function packEntries(pack: tar.Pack, entries: CopyEntry[]): Promise<void> {
  const entry = (header: Partial<tar.Header> & { name: string }) => new Promise<void>((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
  for (const e of entries) {
    const st = e.stat;
    const base = { name: e.name, mode: st.mode & 0o7777, uid: e.owner?.uid ?? 0, gid: e.owner?.gid ?? 0, mtime: st.mtime };
    if (st.isDirectory()) await entry({ ...base, name: `${e.name}/`, type: 'directory' });
    else if (st.isSymbolicLink()) await entry({ ...base, type: 'symlink', linkname: await readlink(e.hostPath) });
    else if (st.isFile()) await packFile(pack, { ...base, type: 'file', size: st.size }, e.hostPath);
    // Devices, FIFOs and sockets in a build context are not copied.
  }
  pack.finalize();
}


/** Directory entries (root-owned, 0755) for these paths, as a tar. */
export function dirsTar(names: string[]): Readable {
  return tarOf(names.map((name) => ({ hostPath: '', name, stat: DIR_STAT })));
}

/** An ADD source that is a local tar archive: its content digest and a way to read it unpacked. */
export interface LocalArchive {
  source: string;
  digest: string;
  open(): Promise<Readable>;
}

/** The sources (no wildcards) that are tar archives, plain or gzip-compressed. */
export async function localArchives(root: string, sources: string[]): Promise<LocalArchive[]> {
  const out: LocalArchive[] = [];
  for (const source of sources) {
    if (/[*?[]/.test(source)) continue;
    const path = await resolveInRoot(root, posix.normalize(`/${source}`).slice(1), { followLast: true, scoped: true }).catch(() => undefined);
    const st = path ? await stat(path).catch(() => undefined) : undefined;
    if (!path || !st?.isFile()) continue;
    const head = await readTarHead(path);
    if (!head) continue;
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    out.push({ source, digest: hash.digest('hex'), open: async () => (await decompressed(createReadStream(path), 'ADD archive')).stream });
  }
  return out;
}

/** Whether the file is a tar (its first header has the ustar magic), possibly gzip-compressed. */
async function readTarHead(path: string): Promise<boolean> {
  try {
    const { stream } = await decompressed(createReadStream(path, { end: 1 << 20 }), 'ADD source');
    let buf = Buffer.alloc(0);
    for await (const chunk of stream) {
      buf = Buffer.concat([buf, chunk as Buffer]);
      if (buf.length >= 512) break;
    }
    stream.destroy();
    return buf.length >= 512 && buf.subarray(257, 262).toString('latin1') === 'ustar';
  } catch {
    return false;
  }
}

/** The entries as a tar stream (owners overridden when given, for scratch images). */
export function tarOf(entries: CopyEntry[], owner?: { uid: number; gid: number }): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  pack.pipe(out);
  const owned = owner ? entries.map((e) => ({ ...e, owner })) : entries;
  packEntries(pack, owned).catch((err: Error) => out.destroy(err));
  return out;
}
