/**
 * The read side of the image engine: GET /images/json, /images/{name}/json and /history, and
 * the images part of `docker system df`. Shapes come from image-views.ts and image-history.ts;
 * this module gathers the records and references they need.
 */
import type { Filters } from '../filter-args';
import { PREFIX } from '../store/schema';
import { imageHistory, type HistoryItem } from './image-history';
import { imageListFilter, shownReferences } from './image-filters';
import { tagNames, type ImageRecords } from './image-records';
import { imageInspect, imageSummary, unixSeconds, type ImageInspect, type ImageSummary } from './image-views';
import type { ImageRecord, LayerRecord } from './types';

export class ImageQueries {
  constructor(
    private readonly records: ImageRecords,
    /** IDs of the containers created from `imageId`. */
    private readonly imageUsers: (imageId: string) => Promise<string[]>,
    private readonly storageDriver = 'overlay2',
  ) {}

  /** GET /images/{name}/history */
  async history(ref: string): Promise<HistoryItem[]> {
    const rec = await this.records.resolve(ref);
    const refs = await this.records.refsByImage();
    return imageHistory(rec, {
      image: (id) => this.records.visible(id),
      tags: async (id) => tagNames(refs, id),
      layerSize: async (chainId) => (await this.records.layer(chainId))?.size ?? 0,
    });
  }

  /**
   * GET /images/json items, newest first, filtered; without `all`, untagged images that are the
   * parent of another (docker commit's intermediates) are left out, as dockerd does.
   */
  async list(filters: Filters = {}, all = false): Promise<ImageSummary[]> {
    const refs = await this.records.refsByImage();
    const images = await this.visibleImages();
    const names = (r: ImageRecord) => tagNames(refs, r.id);
    const keep = await imageListFilter(filters, { names, resolve: (ref) => this.records.resolve(ref), now: Date.now() });
    const parents = new Set(images.map((r) => r.parent).filter(Boolean));
    const shown = images.filter((r) => keep(r) && (all || names(r).length > 0 || !parents.has(r.id)));
    shown.sort((a, b) => unixSeconds(b.config.created) - unixSeconds(a.config.created) || (a.id < b.id ? -1 : 1));
    const listed = shownReferences(filters);
    // Containers counts the image's users (dockerd fills it from API 1.51; older versions see -1).
    return Promise.all(shown.map(async (r) => ({ ...imageSummary(r, refs.get(r.id) ?? [], listed), Containers: (await this.imageUsers(r.id)).length })));
  }

  /**
   * `docker system df`: the layers' total size and each image with the bytes it shares with
   * other images (layers more than one image uses).
   */
  async diskUsage(): Promise<{ LayersSize: number; Images: ImageSummary[] }> {
    const refs = await this.records.refsByImage();
    const images = await this.visibleImages();
    const layers = new Map((await this.records.store.list<LayerRecord>(PREFIX.layer)).map((e) => [e.value.chainId, e.value]));
    const LayersSize = [...layers.values()].reduce((sum, l) => sum + l.size, 0);
    const Images = images.map((r) => ({
      ...imageSummary(r, refs.get(r.id) ?? []),
      SharedSize: r.chainIds.reduce((sum, c) => sum + ((layers.get(c)?.refs ?? 0) > 1 ? (layers.get(c)?.size ?? 0) : 0), 0),
    }));
    return { LayersSize, Images };
  }

  /** GET /images/{name}/json */
  async inspect(ref: string): Promise<ImageInspect> {
    const record = await this.records.resolve(ref);
    return imageInspect(record, (await this.records.refsByImage()).get(record.id) ?? [], this.records.files, this.storageDriver);
  }

  private async visibleImages(): Promise<ImageRecord[]> {
    return (await this.records.store.list<ImageRecord>(PREFIX.image)).map((e) => e.value).filter((r) => !r.removed);
  }
}
