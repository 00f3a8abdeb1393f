/**
 * `--cache-from` as dockerd's classic builder does it (`[moby v20.10] image/cache/cache.go`):
 * with source images given, a step is cached only when
 *
 * 1. the local build cache has it and it is one of the sources or their ancestors, or
 * 2. a source's history continues the current image's history (same entries, same layers so far)
 *    with an entry made by the same instruction (`created_by`): the source itself when that is
 *    its last entry, else that step of it, rebuilt as an image on the current one.
 *
 * The second way lets images pulled or loaded (which have no local build history) serve as cache.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { NotFoundError } from '../../errors';
import type { ImageRecord } from '../images/types';

export interface CacheSource {
  image: ImageRecord;
  /** The image and its ancestors by ID (way 1). */
  chain: Set<string>;
}

export type HistoryMatch = { kind: 'image'; id: string } | { kind: 'step'; source: ImageRecord; historyIndex: number };

/**
 * The --cache-from images with their ancestors; one that is missing is skipped, as dockerd
 * skips it ("Could not look up ... for cache resolution").
 */
export async function resolveCacheSources(refs: string[], resolve: (ref: string) => Promise<ImageRecord>, log: Logger): Promise<CacheSource[]> {
  const sources: CacheSource[] = [];
  for (const ref of refs) {
    const image = await resolve(ref).catch((err: unknown) => {
      if (!(err instanceof NotFoundError)) throw err;
      log.warn({ image: ref }, 'cache-from image not found; skipped');
      return undefined;
    });
    if (!image) continue;
    const chain = new Set<string>();
    for (let at: ImageRecord | undefined = image; at && !chain.has(at.id); ) {
      chain.add(at.id);
      at = at.parent ? await resolve(at.parent).catch(() => undefined) : undefined;
    }
    sources.push({ image, chain });
  }
  return sources;
}

/** Way 1: whether a local cache hit may be used. */
export function allowedLocalHit(sources: readonly CacheSource[], cachedId: string): boolean {
  return sources.some((s) => s.chain.has(cachedId));
}

/** Way 2: the first source whose history continues `parent`'s with `createdBy`. */
export function matchHistory(sources: readonly CacheSource[], parent: ImageRecord | undefined, createdBy: string): HistoryMatch | undefined {
  const parentHistory = parent?.config.history ?? [];
  for (const { image } of sources) {
    const history = image.config.history ?? [];
    if (!continues(image, parent) || history[parentHistory.length]?.created_by !== createdBy) continue;
    if (history.length - 1 === parentHistory.length) return { kind: 'image', id: image.id };
    return { kind: 'step', source: image, historyIndex: parentHistory.length };
  }
  return undefined;
}

/** dockerd's isValidParent: `image` has more history than `parent`, starting with all of it and its layers. */
function continues(image: ImageRecord, parent: ImageRecord | undefined): boolean {
  const history = image.config.history ?? [];
  if (history.length === 0) return false;
  const parentHistory = parent?.config.history ?? [];
  const parentLayers = parent?.config.rootfs.diff_ids ?? [];
  if (!parent || (parentHistory.length === 0 && parentLayers.length === 0)) return true;
  const layers = image.config.rootfs.diff_ids;
  if (parentHistory.length >= history.length || parentLayers.length > layers.length) return false;
  return parentHistory.every((h, i) => isDeepStrictEqual(h, history[i])) && parentLayers.every((d, i) => d === layers[i]);
}

/** The diff ID of the layer that history entry `index` made, or undefined for an empty_layer entry. */
export function layerOfHistoryEntry(image: ImageRecord, index: number): string | undefined {
  const history = image.config.history ?? [];
  if (history[index]?.empty_layer) return undefined;
  const layerIndex = history.slice(0, index).filter((h) => !h.empty_layer).length;
  return image.config.rootfs.diff_ids[layerIndex];
}
