/**
 * The CRI ImageService over Berth's one image store: what kubelet pulls is what `docker images`
 * lists, and the other way round. Names are normalized as Docker and containerd normalize them
 * (busybox → docker.io/library/busybox:latest); answers follow containerd's CRI (an unknown image
 * is a null status, removing one that is gone succeeds, a pull answers the image id).
 */
import { NotFoundError, InvalidParameterError } from '../errors';
import type { ImageService } from '../engine/images/image-service';
import type { ImageRecord } from '../engine/images/types';
import { parseNormalizedNamed, referenceString, tagNameOnly } from '../engine/images/reference';
import type { RegistryCredentials } from '../engine/registry/registry-client';
import { treeSize } from '../engine/tree-size';
import type { ImageHandlers } from './server';
import type { Image } from './generated/runtime/v1/Image';
import type { AuthConfig__Output } from './generated/runtime/v1/AuthConfig';

export interface ImageHandlerDeps {
  images: ImageService;
  /** `<data-root>/image`: the image filesystem kubelet's image GC watches. */
  imageRoot: string;
  /** Images kubelet must never collect (the pod infra image). */
  pinned(): string[];
}

/** The full, normalized form of a reference Berth stores (`docker.io/library/busybox:latest`). */
function normalized(ref: string): string {
  try {
    return referenceString(parseNormalizedNamed(ref));
  } catch {
    return ref;
  }
}

/** The image's user as containerd reports it: a numeric uid, else a user name. */
function userOf(user: string | undefined): Pick<Image, 'uid' | 'username'> {
  const name = (user ?? '').split(':')[0];
  if (!name) return {};
  return /^\d+$/.test(name) ? { uid: { value: name } } : { username: name };
}

/** Registry credentials from kubelet's AuthConfig (`auth` is base64 of user:password). */
export function credentialsOf(auth: AuthConfig__Output | null | undefined): RegistryCredentials {
  if (!auth) return {};
  let { username, password } = auth;
  if (auth.auth && !username) {
    const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new InvalidParameterError('invalid auth config: auth is not base64 of user:password');
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  return {
    ...(username ? { username, password } : {}),
    ...(auth.identity_token ? { identitytoken: auth.identity_token } : {}),
    ...(auth.registry_token ? { registrytoken: auth.registry_token } : {}),
  };
}

export function imageHandlers(deps: ImageHandlerDeps): ImageHandlers {
  const { images } = deps;

  const resolve = async (ref: string): Promise<ImageRecord | undefined> => {
    if (!ref) throw new InvalidParameterError('image spec is required');
    try {
      return await images.records.resolve(ref);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  };

  const describe = (record: ImageRecord, refs: string[]): Image => {
    const pinned = new Set(deps.pinned().map(normalized));
    const tags = refs.filter((r) => !r.includes('@')).map(normalized);
    const digests = [...new Set([...refs.filter((r) => r.includes('@')), ...record.repoDigests].map(normalized))];
    return {
      id: record.id,
      repo_tags: tags,
      repo_digests: digests,
      size: record.size,
      ...userOf(record.config.config?.User),
      spec: { image: record.id, annotations: {} },
      pinned: tags.some((t) => pinned.has(t)),
    };
  };

  const refsOf = async (id: string) => (await images.records.refsByImage()).get(id) ?? [];

  return {
    ListImages: async (req) => {
      const wanted = req.filter?.image?.image;
      const byImage = await images.records.refsByImage();
      const ids = wanted ? [(await resolve(wanted))?.id].filter((id): id is string => !!id) : [...byImage.keys()];
      const out: Image[] = [];
      for (const id of ids) {
        const record = await images.records.visible(id);
        if (record) out.push(describe(record, byImage.get(id) ?? []));
      }
      return { images: out };
    },

    ImageStatus: async (req) => {
      const record = await resolve(req.image?.image ?? '');
      if (!record) return { image: null, info: {} };
      const image = describe(record, await refsOf(record.id));
      const info: Record<string, string> = req.verbose ? { info: JSON.stringify({ imageSpec: record.config, chainIds: record.chainIds }) } : {};
      return { image, info };
    },

    PullImage: async (req) => {
      const ref = req.image?.image;
      if (!ref) throw new InvalidParameterError('image spec is required');
      const named = tagNameOnly(parseNormalizedNamed(ref));
      await images.transfers.pull(referenceString(named), { creds: credentialsOf(req.auth), progress: () => undefined });
      const record = await images.records.resolve(referenceString(named));
      return { image_ref: record.id };
    },

    RemoveImage: async (req) => {
      const ref = req.image?.image ?? '';
      if (!(await resolve(ref))) return {};
      // The store is shared with the Docker API, so `docker rmi -f`'s rule holds: a name removes
      // that name (the image goes with its last one), an id removes the image with all its names.
      await images.removal.remove(ref, { force: true, noprune: false });
      return {};
    },

    ImageFsInfo: async () => {
      const seen = new Set<string>();
      const bytes = await treeSize(deps.imageRoot, seen).catch(() => 0);
      const timestamp = (BigInt(Date.now()) * 1_000_000n).toString();
      return {
        image_filesystems: [{ timestamp, fs_id: { mountpoint: deps.imageRoot }, used_bytes: { value: bytes }, inodes_used: { value: seen.size } }],
        container_filesystems: [],
      };
    },
  };
}
