/**
 * `Config.User` → uid, gid and supplementary groups, with dockerd's semantics (runc's
 * libcontainer/user GetExecUser): "" is root; "name", "uid", "name:group", "uid:gid"; a numeric
 * uid without a passwd entry is allowed (gid 0); supplementary groups are the /etc/group entries
 * listing the user, and only when no group was given, plus HostConfig.GroupAdd (names looked up
 * in /etc/group, numbers taken as they are). /etc/passwd and /etc/group are read inside
 * the container's rootfs, resolving symlinks relative to the rootfs root so they never lead out.
 */
import { constants } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameterError } from '../../errors';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

const MAX_ID = 2147483647;
const MAX_SYMLINKS = 255;

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** A `--group-add` that names no group; dockerd answers 500 with these words. */
export class GroupAddError extends Error {}

export async function resolveUser(rootfsPath: string, userSpec: string, groupAdd: readonly string[] = []): Promise<ResolvedUser> {
  const [userArg, groupArg = ''] = userSpec.split(':');
  const uidArg = parseId(userArg);
  const gidArg = parseId(groupArg);

  const passwd = parsePasswd(await readRootfsFile(rootfsPath, '/etc/passwd'));
  const matched = passwd.find((u) => (userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg));

  const user = { name: '', uid: 0, gid: 0 };
  if (matched) {
    Object.assign(user, matched);
  } else if (userArg !== '') {
    if (uidArg === undefined) {
      throw new InvalidParameterError(`unable to find user ${userArg}: no matching entries in passwd file`);
    }
    user.uid = checkRange(uidArg);
  }

  let additionalGids: number[] = [];
  if (groupArg !== '' || matched) {
    const groups = parseGroup(await readRootfsFile(rootfsPath, '/etc/group'));
    if (groupArg !== '') {
      const g = groups.find((e) => (gidArg !== undefined ? e.gid === gidArg : e.name === groupArg));
      if (g) user.gid = g.gid;
      else if (gidArg === undefined) {
        throw new InvalidParameterError(`unable to find group ${groupArg}: no matching entries in group file`);
      } else user.gid = checkRange(gidArg);
    } else {
      additionalGids = groups.filter((g) => g.members.includes(user.name)).map((g) => g.gid);
    }
  }
  if (groupAdd.length) {
    const groups = parseGroup(await readRootfsFile(rootfsPath, '/etc/group'));
    additionalGids = [...additionalGids, ...additionalGroups(groupAdd, groups)];
  }
  return { uid: user.uid, gid: user.gid, additionalGids };
}

/**
 * HostConfig.GroupAdd as runc's libcontainer GetAdditionalGroups reads it: each entry is the
 * first group whose name or gid it spells and whose gid is not taken yet, else a number.
 * (So `1000` and the name of gid 1000 together fail on the name, as with dockerd.)
 */
function additionalGroups(wanted: readonly string[], groups: GroupEntry[]): number[] {
  const gids = new Set<number>();
  for (const ag of wanted) {
    const match = groups.find((g) => (g.name === ag || String(g.gid) === ag) && !gids.has(g.gid));
    if (match) {
      gids.add(match.gid);
      continue;
    }
    const gid = parseId(ag);
    if (gid === undefined) throw new GroupAddError(`Unable to find group ${ag}: no matching entries in group file`);
    if (gid < 0 || gid > MAX_ID) throw new GroupAddError(`uids and gids must be in range 0-${MAX_ID}`);
    gids.add(gid);
  }
  return [...gids];
}

function parseId(s: string): number | undefined {
  return /^-?\d+$/.test(s) ? Number(s) : undefined;
}

function checkRange(id: number): number {
  if (id < 0 || id > MAX_ID) throw new InvalidParameterError(`uids and gids must be in range 0-${MAX_ID}`);
  return id;
}

function records(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

function parsePasswd(text: string): PasswdEntry[] {
  return records(text).map((f) => ({ name: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]) || 0 }));
}

function parseGroup(text: string): GroupEntry[] {
  return records(text).map((f) => ({
    name: f[0] ?? '',
    gid: Number(f[2]),
    members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean),
  }));
}

/** Contents of `path` inside the rootfs, or "" when it does not exist. */
async function readRootfsFile(rootfs: string, path: string): Promise<string> {
  let fh;
  try {
    fh = await open(await resolveInRootfs(rootfs, path), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return '';
    throw err;
  }
  try {
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * The host path of `path` as seen from inside `rootfs`: symlinks are followed as if `rootfs` were
 * `/` (absolute targets restart at the rootfs, `..` stops at it). Components that do not exist
 * are kept as they are; the result always lies under `rootfs`.
 */
export async function resolveInRootfs(rootfs: string, path: string): Promise<string> {
  const pending = path.split('/').filter(Boolean);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const hostPath = join(rootfs, ...resolved, part);
    let isLink = false;
    try {
      isLink = (await lstat(hostPath)).isSymbolicLink();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw Object.assign(new Error(`too many levels of symbolic links: ${path}`), { code: 'ELOOP' });
    const target = await readlink(hostPath);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/').filter(Boolean));
  }
  return join(rootfs, ...resolved);
}
