/**
 * What a rootless daemon does instead of the things only real root can do, each with one clear
 * log line: the socket group (the host's groups are not mapped into the user namespace), ...
 */
import type { Logger } from 'pino';

/** The socket stays the user's: a `-G` group cannot be given to it from inside the namespace. */
export function rootlessSocketGroup(group: string, log: Logger): undefined {
  if (group !== '') log.warn({ group }, 'rootless mode: ignoring the socket group, the API socket stays owned by the daemon\'s user (mode 0660)');
  return undefined;
}
