/**
 * Where a layer's kept blob is known to exist (`<domain>/<path>` repositories it was pulled from
 * or pushed to), so a push to another repository of the same registry can mount it instead of
 * uploading it (dockerd keeps the same "v2 metadata" per layer).
 */
import type { LayerRecord } from './types';

/** Enough to find a mount source without the record growing with every push. */
const MAX_SOURCES = 5;

/** `layer` with `repo` as its newest source (the same object when nothing changes). */
export function withSource(layer: LayerRecord, repo: string): LayerRecord {
  const sources = layer.sources ?? [];
  if (sources[0] === repo) return layer;
  return { ...layer, sources: [repo, ...sources.filter((s) => s !== repo)].slice(0, MAX_SOURCES) };
}

/** Repositories on `domain` other than `path` that hold the blob, newest first (their paths). */
export function mountSources(layer: LayerRecord | undefined, domain: string, path: string): string[] {
  const prefix = `${domain}/`;
  return (layer?.sources ?? []).filter((s) => s.startsWith(prefix) && s !== prefix + path).map((s) => s.slice(prefix.length));
}
