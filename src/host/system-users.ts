/**
 * The host's user database, for userns-remap: looking users and groups up (`getent`, so NSS
 * sources count as well as /etc/passwd), creating the system user dockerd creates for
 * `--userns-remap default` (`adduser`, else `useradd`), giving it subordinate id ranges
 * (`usermod -v/-w`, which locks /etc/subuid and /etc/subgid as shadow-utils does), and reading
 * those two files.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ExternalCommandError, runCommand } from './command';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

export interface GroupEntry {
  name: string;
  gid: number;
}

export type SubIdKind = 'uid' | 'gid';

export const SUBID_FILES: Readonly<Record<SubIdKind, string>> = Object.freeze({ uid: '/etc/subuid', gid: '/etc/subgid' });

/** Where the user tools live on Debian and most other distributions. */
const SBIN_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

/** A user by name or numeric id; undefined when no database has it. */
export async function lookupUser(key: string): Promise<PasswdEntry | undefined> {
  const fields = await getent('passwd', key);
  return fields && { name: fields[0], uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** A group by name or numeric id; undefined when no database has it. */
export async function lookupGroup(key: string): Promise<GroupEntry | undefined> {
  const fields = await getent('group', key);
  return fields && { name: fields[0], gid: Number(fields[2]) };
}

/** `getent <db> <key>`: the first entry's fields; undefined for getent's "not found" (exit 2). */
async function getent(db: 'passwd' | 'group', key: string): Promise<string[] | undefined> {
  try {
    const { stdout } = await runCommand('getent', [db, key]);
    const line = stdout.split('\n').find((l) => l.trim());
    return line ? line.split(':') : undefined;
  } catch (err) {
    if (err instanceof ExternalCommandError && err.exitCode === 2) return undefined;
    throw err;
  }
}

/** A system user with a group of its name, no home and no login (dockerd's `dockremap`). */
export async function addSystemUser(name: string): Promise<void> {
  const adduser = SBIN_DIRS.map((d) => `${d}/adduser`).find((p) => existsSync(p));
  if (adduser) {
    await runCommand(adduser, ['--system', '--shell', '/bin/false', '--no-create-home', '--disabled-login', '--disabled-password', '--group', name]);
    return;
  }
  const useradd = SBIN_DIRS.map((d) => `${d}/useradd`).find((p) => existsSync(p));
  if (!useradd) throw new Error('cannot add user; no useradd/adduser binary found');
  await runCommand(useradd, ['-r', '-s', '/bin/false', name]);
}

/** Adds `start..start+count-1` to the user's subordinate uids or gids. */
export async function addSubIdRange(name: string, kind: SubIdKind, start: number, count: number): Promise<void> {
  await runCommand('usermod', [kind === 'uid' ? '-v' : '-w', `${start}-${start + count - 1}`, name]);
}

/** The text of /etc/subuid or /etc/subgid; empty when the file does not exist. */
export async function readSubIdFile(kind: SubIdKind): Promise<string> {
  return readFile(SUBID_FILES[kind], 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
}
