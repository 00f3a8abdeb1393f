/**
 * Paths inside a container's root filesystem, resolved the way dockerd's `ResolvePath` does:
 * every directory component is resolved with symlinks interpreted inside the root (an absolute
 * target means the container's `/`, `..` stops at it), then the last component is taken as is
 * (so a symlink there is reported, not followed) unless the path ends in `/` or `/.`.
 */
import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { posix } from 'node:path';
import { InvalidParameterError, NotFoundError } from '../../../errors';
import { resolveInRoot } from '../../images/safe-path';
import { goFileMode } from './file-mode';

/** dockerd's PathStat (`container.PathStat`), `mode` a Go FileMode. */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

export interface ResolvedContainerPath {
  /** The host path of the entry (its last component unresolved). */
  hostPath: string;
  /** The entry's path relative to the container root, '' for `/`. */
  rel: string;
  /** `base(path)` as dockerd names the entry: `.` for `dir/.`, `/` for `/`. */
  name: string;
  /** The path asked for ends in `/.`: archive the directory's contents. */
  contentsOnly: boolean;
  /** The path ends in a separator (or `/.`): it must be a directory. */
  assertsDirectory: boolean;
  stat: Stats;
}

export const errNoSuchPath = (path: string, container: string) =>
  new NotFoundError(`Could not find the file ${path} in container ${container}`);

/** Resolves `path` inside `root`; NotFound when it does not exist. */
export async function resolveContainerPath(root: string, path: string, container: string): Promise<ResolvedContainerPath> {
  if (path === '') throw new InvalidParameterError('path cannot be empty');
  // The kernel refuses a NUL in a path (EINVAL); dockerd passes that on as a 500.
  if (path.includes('\0')) throw new InvalidParameterError(`lstat ${path}: invalid argument`);
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const contentsOnly = path === '.' || path.endsWith('/.');
  const assertsDirectory = contentsOnly || path.endsWith('/');
  const last = parts.length > 0 && !assertsDirectory ? parts[parts.length - 1] : undefined;
  const dirParts = last !== undefined ? parts.slice(0, -1) : parts;
  let dirHost: string;
  try {
    dirHost = await resolveInRoot(root, dirParts.join('/'), { followLast: true, scoped: true });
  } catch (err) {
    if (err instanceof InvalidParameterError) throw errNoSuchPath(path, container);
    throw err;
  }
  if (last === '..') {
    // `a/..` as the last component: resolved like any other directory component.
    return resolveContainerPath(root, `${parts.join('/')}/`, container);
  }
  const hostPath = last !== undefined ? posix.join(dirHost, last) : dirHost;
  const st = await lstat(hostPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw errNoSuchPath(path, container);
    throw err;
  });
  if (assertsDirectory && !st.isDirectory()) throw errNoSuchPath(path, container);
  const rel = posix.relative(root, hostPath);
  const abs = posix.join('/', ...parts);
  const name = contentsOnly ? '.' : abs === '/' ? '/' : posix.basename(abs);
  return { hostPath, rel, name, contentsOnly, assertsDirectory, stat: st };
}

/** The PathStat dockerd reports for a resolved path (symlink targets resolved in the root). */
export async function pathStat(root: string, p: ResolvedContainerPath): Promise<PathStat> {
  let linkTarget = '';
  if (p.stat.isSymbolicLink()) {
    const target = await resolveInRoot(root, p.rel, { followLast: true, scoped: true });
    linkTarget = `/${posix.relative(root, target)}`;
  }
  return { name: p.name, size: p.stat.size, mode: goFileMode(p.stat), mtime: rfc3339Nano(p.stat), linkTarget };
}

/** Go's RFC3339Nano in UTC (to the microsecond a double holds): fraction's trailing zeros dropped. */
export function rfc3339Nano(st: Stats): string {
  const seconds = Math.floor(st.mtimeMs / 1000);
  const micros = Math.min(999_999, Math.round((st.mtimeMs - seconds * 1000) * 1000));
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  const frac = micros > 0 ? `.${String(micros * 1000).padStart(9, '0').replace(/0+$/, '')}` : '';
  return `${base}${frac}Z`;
}
