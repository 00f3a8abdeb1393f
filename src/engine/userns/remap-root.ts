/**
 * The data root of a remapping daemon, laid out as dockerd lays it out (moby setupDaemonRoot):
 * the state lives in `<data-root>/<uid>.<gid>` (the remapped root's host ids), so daemons with
 * different mappings never share images or containers. Both directories and `containers/` are 0710
 * root:<remapped gid>: the container's root may pass through to its rootfs and /etc files and
 * read nothing else. Every directory above must let it pass too, or containers would fail to
 * start; dockerd refuses to start then, and so does Berth.
 */
import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hostRoot, type IdMap } from './id-map';

/** `<data-root>/<uid>.<gid>`, created and owned as dockerd does; returns its path. */
export async function setupRemappedRoot(dataRoot: string, idMap: IdMap): Promise<string> {
  const { uid, gid } = hostRoot(idMap);
  const root = join(dataRoot, `${uid}.${gid}`);
  // `containers/` too (dockerd's daemonRepo): the path to every container's rootfs and /etc files.
  for (const dir of [dataRoot, root, join(root, 'containers')]) {
    await mkdir(dir, { recursive: true, mode: 0o710 });
    await chown(dir, 0, gid);
    await chmod(dir, 0o710);
  }
  // The store is the daemon's alone (dockerd's own state dirs are 0700 too).
  await mkdir(join(root, 'db'), { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  await chmod(join(root, 'db'), 0o700);
  for (let dir = dirname(root); dir !== '/' && dir !== '.'; dir = dirname(dir)) {
    if (!(await canTraverse(dir, uid, gid))) {
      throw new Error(`a subdirectory in your graphroot path (${root}) restricts access to the remapped root uid/gid; please fix by allowing 'o+x' permissions on existing directories`);
    }
  }
  return root;
}

/** dockerd's rough check (moby canAccess): the execute bit for others, the owner or the group. */
async function canTraverse(dir: string, uid: number, gid: number): Promise<boolean> {
  const st = await stat(dir).catch(() => undefined);
  if (!st) return false;
  const perm = st.mode & 0o777;
  if (perm & 0o001) return true;
  if (st.uid === uid && perm & 0o100) return true;
  return st.gid === gid && (perm & 0o010) !== 0;
}
