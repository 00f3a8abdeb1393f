/**
 * What `docker rmi` does, decided before anything is changed (dockerd's ImageDelete):
 *
 * - By reference (`busybox`, `busybox:1`, `busybox@sha256:…`): untag it. If it was the image's
 *   last reference, try to delete the image too, quietly (a conflict keeps the image, untagged).
 *   Untagging the last reference of an image a container uses needs force.
 * - By ID (or ID prefix): with one reference (or one tag plus digests of that repository),
 *   remove those and delete the image; with references in several repositories, only with force.
 * - Child images (their Parent is this image) and running containers block deletion even with
 *   force; a stopped container only without force.
 *
 * The result lists the references to remove and whether to delete the image; the caller applies
 * it and adds `Deleted` entries for the image and for each layer that is freed.
 */
import { ConflictError } from '../../errors';
import { shortId } from '../ids';
import { familiarOfStored, familiarString, parseNormalizedNamed, parseReference, repositoryName, storeKeyOf, tagNameOnly } from './reference';

export interface ImageUser {
  id: string;
  running: boolean;
}

export interface DeleteRequest {
  imageId: string;
  /** What the user asked to remove, as typed. */
  ref: string;
  /** The image's stored references (`docker.io/library/busybox:latest`, `…@sha256:…`). */
  refs: readonly string[];
  users: readonly ImageUser[];
  /** How many images name this one as their parent (commit or build intermediates). */
  children: number;
  force: boolean;
}

export type DeleteRecord = { Untagged: string } | { Deleted: string };

/** POST /images/prune */
export interface PruneImagesResult {
  ImagesDeleted: DeleteRecord[] | null;
  SpaceReclaimed: number;
}

export interface DeletePlan {
  /** Stored references to remove. */
  untag: string[];
  deleteImage: boolean;
  /** `Untagged` records, in dockerd's order. */
  records: DeleteRecord[];
}

/** dockerd's `isImageIDPrefix`: the ref is a prefix of the ID, with or without `sha256:`. */
export function isImageIdPrefix(imageId: string, ref: string): boolean {
  if (imageId.startsWith(ref)) return true;
  const colon = imageId.indexOf(':');
  return colon >= 0 && imageId.slice(colon + 1).startsWith(ref);
}

const isDigestRef = (stored: string) => stored.includes('@');
const nameOf = (stored: string) => repositoryName(parseReference(stored));

/** All references are in one repository with at most one tag (`isSingleReference`). */
export function isSingleReference(refs: readonly string[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: string | undefined;
  const digestRepos = new Set<string>();
  for (const r of refs) {
    if (isDigestRef(r)) digestRepos.add(nameOf(r));
    else if (single === undefined) single = r;
    else return false;
  }
  return digestRepos.size === 1 && digestRepos.has(nameOf(single ?? refs[0]));
}

interface Conflict {
  error: ConflictError;
  /** The conflict is a container using the image. */
  used: boolean;
}

function conflict(imageId: string, hard: boolean, message: string, used: boolean): Conflict {
  const force = hard ? 'cannot be forced' : 'must be forced';
  return { error: new ConflictError(`conflict: unable to delete ${shortId(imageId)} (${force}) - ${message}`), used };
}

function checkConflicts(req: DeleteRequest, remainingRefs: number, soft: { refs: boolean; stopped: boolean }): Conflict | undefined {
  if (req.children > 0) return conflict(req.imageId, true, 'image has dependent child images', false);
  const running = req.users.find((u) => u.running);
  if (running) return conflict(req.imageId, true, `image is being used by running container ${shortId(running.id)}`, true);
  if (soft.refs && remainingRefs > 0) return conflict(req.imageId, false, 'image is referenced in multiple repositories', false);
  const stopped = req.users.find((u) => !u.running);
  if (soft.stopped && stopped) return conflict(req.imageId, false, `image is being used by stopped container ${shortId(stopped.id)}`, true);
  return undefined;
}

/** Plans the removal; throws ConflictError (or InvalidParameterError for a bad reference). */
export function planImageDelete(req: DeleteRequest): DeletePlan {
  const untag: string[] = [];
  const records: DeleteRecord[] = [];
  const drop = (stored: string) => {
    untag.push(stored);
    records.push({ Untagged: familiarOfStored(stored) });
  };
  let remaining = [...req.refs].sort(); // dockerd orders references by their full name
  let quiet = false;

  if (!isImageIdPrefix(req.imageId, req.ref)) {
    if (!req.force && isSingleReference(remaining) && req.users.length > 0) {
      throw new ConflictError(
        `conflict: unable to remove repository reference "${req.ref}" (must force) - container ${shortId(req.users[0].id)} is using its referenced image ${shortId(req.imageId)}`,
      );
    }
    const parsed = tagNameOnly(parseNormalizedNamed(req.ref));
    const key = storeKeyOf(parsed);
    untag.push(key);
    records.push({ Untagged: familiarString(parsed) });
    remaining = remaining.filter((r) => r !== key);
    if (!parsed.digest) {
      // Untagging a repository's last tag also drops that repository's digest references.
      const name = repositoryName(parsed);
      if (!remaining.some((r) => !isDigestRef(r) && nameOf(r) === name)) {
        for (const r of remaining.filter((x) => isDigestRef(x) && nameOf(x) === name)) drop(r);
        remaining = remaining.filter((r) => !untag.includes(r));
      }
    }
    if (remaining.length > 0) return { untag, deleteImage: false, records };
    quiet = true;
  } else if (isSingleReference(remaining)) {
    const c = checkConflicts(req, 0, { refs: false, stopped: !req.force });
    if (c) throw c.error;
    for (const r of remaining) drop(r);
    remaining = [];
  }

  const c = checkConflicts(req, remaining.length, { refs: !req.force, stopped: !req.force });
  if (c) {
    const dangling = remaining.length === 0 && req.children === 0;
    if (quiet && (!dangling || c.used)) return { untag, deleteImage: false, records };
    throw c.error;
  }
  for (const r of remaining) drop(r);
  return { untag, deleteImage: true, records };
}
