import { readFileSync } from 'node:fs';

/** dockerd's default owner group of its API socket: members may use the daemon without sudo. */
export const DEFAULT_SOCKET_GROUP = 'docker';

export class SocketGroupError extends Error {}

/** A group name or number as /etc/group knows it, or undefined. */
export function lookupGroup(group: string, groupFile = '/etc/group'): number | undefined {
  let text = '';
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    // No group file: only numbers resolve.
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return /^\d+$/.test(group) ? Number(group) : undefined;
}

/**
 * The gid for the API sockets (`-G/--group`), checked before any socket exists, as dockerd does:
 * the default group may be missing (sockets stay root's, with a warning); a named group must exist.
 */
export function socketGroupId(group: string, warn: (msg: string) => void): number | undefined {
  if (group === '') return undefined;
  const gid = lookupGroup(group);
  if (gid !== undefined) return gid;
  if (group !== DEFAULT_SOCKET_GROUP) throw new SocketGroupError(`can't create unix socket: group ${group} not found`);
  warn(`could not change the API socket's group to ${group}: group ${group} not found`);
  return undefined;
}
