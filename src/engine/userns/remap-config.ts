/**
 * `--userns-remap` resolved as dockerd resolves it (moby daemon/daemon_unix.go parseRemappedRoot
 * and setupRemappedRoot, with dockerd 20.10's messages): `default` (the `dockremap` user, created
 * with a subordinate range when missing), `user`, `user:group`, `uid`, `uid:gid`; then the user's
 * ranges from /etc/subuid and /etc/subgid laid end to end as the daemon's id mapping. Like
 * dockerd, both files are read for the *user* (the group is only checked and reported).
 */
import { parseSubIdFile, rangesOf, nextFreeRange, DEFAULT_RANGE_SIZE } from './subid-file';
import type { IdMap } from './id-map';

/** The host's user database, as the daemon reaches it (host/system-users.ts). */
export interface UserDatabase {
  lookupUser(key: string): Promise<{ name: string; uid: number; gid: number } | undefined>;
  lookupGroup(key: string): Promise<{ name: string; gid: number } | undefined>;
  addSystemUser(name: string): Promise<void>;
  addSubIdRange(name: string, kind: 'uid' | 'gid', start: number, count: number): Promise<void>;
  readSubIdFile(kind: 'uid' | 'gid'): Promise<string>;
}

export interface UsernsRemap {
  /** The resolved `user:group`, as dockerd rewrites its setting. */
  user: string;
  group: string;
  idMap: IdMap;
}

export interface RemapLog {
  info(msg: string): void;
  warn(msg: string): void;
}

/** dockerd's special value and the user it stands for. */
export const DEFAULT_SPECIFIER = 'default';
export const DEFAULT_REMAP_USER = 'dockremap';

const notFound = (key: string, db: string) => `getent unable to find entry "${key}" in ${db} database`;
const isId = (s: string) => /^\d+$/.test(s) && Number(s) <= 0x7fffffff;

/** The daemon's mapping for `--userns-remap <spec>`; undefined for root (dockerd: remapping off). */
export async function resolveUsernsRemap(spec: string, db: UserDatabase, log: RemapLog): Promise<UsernsRemap | undefined> {
  const { user, group } = await resolveUserGroup(spec, db);
  if (user === 'root') {
    log.warn('User namespaces: root cannot be remapped with itself; user namespaces are OFF');
    return undefined;
  }
  log.info(`User namespaces: ID ranges will be mapped to subuid/subgid ranges of: ${user}`);
  return { user, group, idMap: await loadIdMap(user, db) };
}

/** parseRemappedRoot: the user and group names the setting names. */
async function resolveUserGroup(spec: string, db: UserDatabase): Promise<{ user: string; group: string }> {
  const parts = spec.split(':');
  if (parts.length > 2) throw new Error(`Invalid user/group specification in --userns-remap: "${spec}"`);
  const [userPart, groupPart] = parts;
  let user: string;
  let group = '';
  if (isId(userPart)) {
    const found = await db.lookupUser(userPart);
    if (!found) throw new Error(`Uid ${Number(userPart)} has no entry in /etc/passwd: ${notFound(userPart, 'passwd')}`);
    user = found.name;
    if (groupPart === undefined) {
      // A bare uid names the gid of the same number.
      const g = await db.lookupGroup(userPart);
      if (!g) throw new Error(`Gid ${Number(userPart)} has no entry in /etc/group: ${notFound(userPart, 'group')}`);
      group = g.name;
    }
  } else {
    const name = userPart === DEFAULT_SPECIFIER ? DEFAULT_REMAP_USER : userPart;
    const found = await db.lookupUser(name);
    if (!found) {
      if (userPart !== DEFAULT_SPECIFIER) throw new Error(`Error during uid lookup for "${name}": ${notFound(name, 'passwd')}`);
      await createDefaultUser(db).catch((err: Error) => {
        throw new Error(`Error during "${DEFAULT_REMAP_USER}" user creation: ${err.message}`, { cause: err });
      });
      return { user: DEFAULT_REMAP_USER, group: DEFAULT_REMAP_USER };
    }
    user = found.name;
    if (groupPart === undefined) {
      const g = await db.lookupGroup(name);
      if (!g) throw new Error(`Error during gid lookup for "${name}": ${notFound(name, 'group')}`);
      group = g.name;
    }
  }
  if (groupPart !== undefined) {
    const g = await db.lookupGroup(groupPart);
    if (isId(groupPart)) {
      if (!g) throw new Error(`Gid ${Number(groupPart)} has no entry in /etc/passwd: ${notFound(groupPart, 'group')}`);
      group = g.name;
    } else {
      if (!g) throw new Error(`Error during groupname lookup for "${groupPart}": ${notFound(groupPart, 'group')}`);
      group = groupPart;
    }
  }
  return { user, group };
}

/**
 * AddNamespaceRangesUser: the system user, then a free range in each file unless the
 * distribution's tools already gave it one (system users usually get none).
 */
async function createDefaultUser(db: UserDatabase): Promise<void> {
  await db.addSystemUser(DEFAULT_REMAP_USER);
  const created = await db.lookupUser(DEFAULT_REMAP_USER);
  if (!created) throw new Error(`error trying to find uid/gid for new user "${DEFAULT_REMAP_USER}"`);
  for (const kind of ['uid', 'gid'] as const) {
    const entries = parseSubIdFile(await db.readSubIdFile(kind));
    if (rangesOf(entries, created).length) continue;
    await db.addSubIdRange(DEFAULT_REMAP_USER, kind, nextFreeRange(entries), DEFAULT_RANGE_SIZE);
  }
}

/** The user's subordinate ranges as the mapping; dockerd refuses to start without them. */
async function loadIdMap(userName: string, db: UserDatabase): Promise<IdMap> {
  const user = await db.lookupUser(userName);
  if (!user) throw new Error(`Could not get user for username ${userName}: ${notFound(userName, 'passwd')}`);
  const uids = rangesOf(parseSubIdFile(await db.readSubIdFile('uid')), user);
  if (!uids.length) throw new Error(`Can't create ID mappings: no subuid ranges found for user "${user.name}"`);
  const gids = rangesOf(parseSubIdFile(await db.readSubIdFile('gid')), user);
  if (!gids.length) throw new Error(`Can't create ID mappings: no subgid ranges found for user "${user.name}"`);
  return { uids, gids };
}
