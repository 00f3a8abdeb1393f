/**
 * Is this process inside a user namespace (a rootless daemon under rootlesskit)? The initial
 * namespace maps the whole id space (`0 0 4294967295`); any other mapping means a user
 * namespace, where overlayfs keeps its metadata in `user.overlay.*` xattrs (mount option
 * `userxattr`), device nodes cannot be made and only mapped ids can own files.
 */
import { readFileSync } from 'node:fs';

let cached: boolean | undefined;

export function runningInUserNs(): boolean {
  if (cached === undefined) cached = !isInitialUidMap(readUidMap());
  return cached;
}

/** True for the initial namespace's map (or when it cannot be read: a host without userns). */
export function isInitialUidMap(text: string | undefined): boolean {
  if (text === undefined) return true;
  const lines = text.trim().split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) return false;
  const [inside, outside, length] = lines[0].trim().split(/\s+/).map(Number);
  return inside === 0 && outside === 0 && length === 4294967295;
}

function readUidMap(): string | undefined {
  try {
    return readFileSync('/proc/self/uid_map', 'utf8');
  } catch {
    return undefined;
  }
}

/** Prefix of overlayfs's own xattrs: trusted.* needs real CAP_SYS_ADMIN, user.* is the userns form. */
export function overlayXattrPrefix(): 'trusted.overlay.' | 'user.overlay.' {
  return runningInUserNs() ? 'user.overlay.' : 'trusted.overlay.';
}

/** The xattr marking an overlay directory opaque, in this namespace's form. */
export function overlayOpaqueXattr(): string {
  return `${overlayXattrPrefix()}opaque`;
}

/** Either form of overlayfs metadata: never taken from a tarball, never written into one. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');
}
