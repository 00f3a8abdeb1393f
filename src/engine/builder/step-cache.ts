/**
 * The build cache as the steps see it: a step's key (its history line and the config it ends
 * with) and the lookup of an image made by the same step on the same parent, locally or, with
 * --cache-from, from the history of the source images (cache-from.ts).
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { shortId } from '../ids';
import type { BuildImages } from './build-ports';
import type { Stage, StepCacheLookup } from './build-stage';
import { allowedLocalHit, layerOfHistoryEntry, matchHistory, resolveCacheSources, type CacheSource } from './cache-from';

export class StepCache implements StepCacheLookup {
  /** With --cache-from: the source images (see cache-from.ts); undefined without. */
  private sources?: CacheSource[];

  constructor(
    private readonly images: BuildImages,
    private readonly noCache: boolean,
    private readonly say: (text: string) => void,
  ) {}

  /** --cache-from: only steps these images were built with count as cache. */
  async useSources(cacheFrom: string[], log: Logger): Promise<void> {
    this.sources = await resolveCacheSources(cacheFrom, (ref) => this.images.resolve(ref), log);
  }

  /** The step's identity: its history line and the config it ends with. */
  key(stage: Stage, step: string): string {
    return createHash('sha256').update(JSON.stringify({ step, config: stage.config, author: stage.author ?? '' })).digest('hex');
  }

  /** The step's image from the build cache (`createdBy`: its history line), if there is one. */
  async hit(stage: Stage, key: string, createdBy: string): Promise<boolean> {
    if (this.noCache) return false;
    let cached = await this.images.buildCache(stage.imageId, key);
    const sources = this.sources;
    if (sources && cached && !allowedLocalHit(sources, cached)) cached = undefined;
    if (sources && !cached) {
      const parent = stage.imageId ? await this.images.resolve(stage.imageId) : undefined;
      const match = matchHistory(sources, parent, createdBy);
      if (match?.kind === 'image') {
        cached = match.id;
        if (stage.imageId) await this.images.setParent(cached, stage.imageId);
      } else if (match) {
        const layerDiffId = layerOfHistoryEntry(match.source, match.historyIndex);
        cached = await this.images.commitCachedStep({ parentId: stage.imageId, sourceId: match.source.id, historyIndex: match.historyIndex, layerDiffId, config: stage.config, buildKey: key, author: stage.author });
        // Later steps follow the same source (dockerd's rule: no jumping between sources).
        this.sources = sources.filter((s) => s.image.id === match.source.id);
      }
    }
    if (!cached) return false;
    stage.imageId = cached;
    this.say(` ---> Using cache\n ---> ${shortId(cached)}\n`);
    return true;
  }
}
