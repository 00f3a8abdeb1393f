/**
 * Confining paths to a root directory. Tar entry names are cleaned like dockerd cleans them (a
 * leading `/` is dropped, `a/../b` is `b`) and refused when they climb out (`../x`). Parent
 * components are then resolved inside the root: a symlink met on the way is followed only when
 * its target is relative and stays inside the root (`lib -> usr/lib` makes `lib/x` mean
 * `<root>/usr/lib/x`); an absolute target or one that climbs above the root (`a -> /etc`, then
 * `a/passwd`) is refused. Nothing here follows a symlink to the host.
 */
import type { Stats } from 'node:fs';
import { lstat, mkdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameterError } from '../../errors';

const MAX_SYMLINKS = 40;

/**
 * Cleans a tar entry name into a relative POSIX path ('' is the root itself). Throws
 * InvalidParameterError when the name would leave the root.
 */
export function cleanEntryPath(name: string): string {
  if (name.includes('\0')) throw new InvalidParameterError(`invalid path in layer: ${JSON.stringify(name)}`);
  const out: string[] = [];
  for (const part of name.replace(/^\/+/, '').split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw new InvalidParameterError(`invalid path in layer: ${JSON.stringify(name)} escapes the layer root`);
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out.join('/');
}

export interface ResolveOptions {
  /** Create missing parent directories (mode 0755, owned by the caller). */
  createParents?: boolean;
  /** Also resolve a symlink in the last component (default: the last component is taken as is). */
  followLast?: boolean;
  /**
   * Interpret symlinks as the root's own processes would (a container's filesystem): an
   * absolute target restarts at the root and `..` at the root stays there. Nothing escapes.
   */
  scoped?: boolean;
}

const escapes = (rel: string) =>
  new InvalidParameterError(`invalid path in layer: ${rel}: a symbolic link on the way points outside the layer`);

const isNotFound = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Maps a cleaned relative path to an absolute path under `root`, resolving symlinked parents
 * within the root. The returned path's parents are real directories under `root` (or missing
 * when `createParents` is false).
 */
export async function resolveInRoot(root: string, rel: string, opts: ResolveOptions = {}): Promise<string> {
  const queue = rel.split('/').filter((p) => p !== '' && p !== '.');
  const resolved: string[] = [];
  let links = 0;
  // Once a component is missing nothing below it exists: the rest is resolved lexically.
  let missing = false;
  while (queue.length > 0) {
    const part = queue.shift() as string;
    if (part === '..') {
      if (resolved.length === 0) {
        if (opts.scoped) continue;
        throw escapes(rel);
      }
      resolved.pop();
      missing = false;
      continue;
    }
    const isLast = queue.length === 0;
    const candidate = join(root, ...resolved, part);
    if (missing || (isLast && !opts.followLast)) {
      resolved.push(part);
      continue;
    }
    let st: Stats | undefined;
    try {
      st = await lstat(candidate);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (st?.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw new InvalidParameterError(`invalid path in layer: ${rel}: too many levels of symbolic links`);
      const target = await readlink(candidate);
      if (target.startsWith('/')) {
        if (!opts.scoped) throw escapes(rel);
        resolved.length = 0;
        missing = false;
      }
      queue.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    if (!isLast) {
      if (!st) {
        if (opts.createParents) await mkdir(candidate, { mode: 0o755 });
        else missing = true;
      } else if (!st.isDirectory()) {
        throw new InvalidParameterError(`invalid path in layer: ${rel}: ${resolved.concat(part).join('/')} is not a directory`);
      }
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}

/** Cleans a path inside an archive (docker-save tarball) or throws when it leaves the archive. */
export function cleanArchivePath(name: string): string {
  try {
    return cleanEntryPath(name);
  } catch {
    throw new InvalidParameterError(`invalid archive: path ${JSON.stringify(name)} escapes the archive`);
  }
}
