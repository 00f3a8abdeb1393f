/**
 * Images going away: `docker rmi` (untag, delete, prune untagged parents), `docker image prune`,
 * and the release of force-removed images once no container uses them. Which references and
 * records a removal touches is decided in image-delete.ts; this module applies it to the store
 * and the files.
 */
import { InvalidParameterError } from '../../errors';
import { KEY, PREFIX } from '../store/schema';
import type { BatchOp } from '../store/store';
import type { Filters } from '../filter-args';
import { planImageDelete, type DeleteRecord, type PruneImagesResult } from './image-delete';
import { imagePruneFilter } from './image-filters';
import { tagNames, type ImageRecords } from './image-records';
import { familiarOfStored } from './reference';
import type { ImageRecord, LayerRecord } from './types';

export interface RemoveImageOptions {
  force: boolean;
  /** Keep untagged parent images (by default they go with their last child). */
  noprune: boolean;
}

export interface ImageUsers {
  /** IDs of the containers created from `imageId`. */
  imageUsers: (imageId: string) => Promise<string[]>;
  /** Whether a container is running; without it every user counts as stopped. */
  containerRunning?: (containerId: string) => boolean | Promise<boolean>;
}

export class ImageRemoval {
  constructor(
    private readonly records: ImageRecords,
    private readonly users: ImageUsers,
  ) {}

  /**
   * DELETE /images/{name}: untags and deletes like `docker rmi`; unless `noprune`, untagged
   * parents (commit intermediates) that nothing else holds go with it.
   */
  async remove(ref: string, opts: RemoveImageOptions): Promise<DeleteRecord[]> {
    if (ref.trim() === '') throw new InvalidParameterError('image name cannot be blank');
    return this.records.exclusive(async () => {
      await this.dropUnusedRemoved();
      const record = await this.records.resolve(ref);
      const users = await this.usersOf(record.id);
      const refs = (await this.records.refsByImage()).get(record.id) ?? [];
      const children = await this.records.childCount(record.id);
      const plan = planImageDelete({ imageId: record.id, ref, refs, users, children, force: opts.force });
      const untagOps: BatchOp[] = plan.untag.map((key) => ({ type: 'del', key: KEY.tag(key) }));
      if (!plan.deleteImage) await this.records.store.batch(untagOps);
      for (const r of plan.records) if ('Untagged' in r) this.records.emit(record.id, r.Untagged, 'untag', record.config.config?.Labels);
      if (!plan.deleteImage) return plan.records;
      const records = [...plan.records, ...(await this.deleteImage(record, users.length > 0, untagOps))];
      if (!opts.noprune) records.push(...(await this.pruneParents(record.parent)));
      return records;
    });
  }

  /**
   * POST /images/prune: removes the images the filters select (dangling ones by default) that no
   * container uses; returns what went and the bytes of the layers freed.
   */
  async prune(filters: Filters): Promise<PruneImagesResult> {
    const { store } = this.records;
    const refs = await this.records.refsByImage();
    const names = (r: ImageRecord) => tagNames(refs, r.id);
    const keep = imagePruneFilter(filters, { names, now: Date.now() });
    const candidates = (await store.list<ImageRecord>(PREFIX.image)).map((e) => e.value).filter((r) => !r.removed && keep(r));
    const layerSizes = new Map((await store.list<LayerRecord>(PREFIX.layer)).map((e) => [e.value.chainId, e.value.size]));
    const deleted: DeleteRecord[] = [];
    let reclaimed = 0;
    for (const rec of candidates) {
      if ((await this.users.imageUsers(rec.id)).length > 0) continue;
      try {
        for (const ref of refs.get(rec.id) ?? []) deleted.push(...(await this.remove(familiarOfStored(ref), { force: false, noprune: false })));
        if (await this.records.visible(rec.id)) deleted.push(...(await this.remove(rec.id, { force: false, noprune: false })));
      } catch (err) {
        this.records.log.debug({ err, image: rec.id }, 'image kept by prune');
      }
    }
    for (const r of deleted) if ('Deleted' in r) reclaimed += layerSizes.get(r.Deleted) ?? 0;
    return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }

  /**
   * Drops images that were force-removed while containers used them, once no container does.
   * Runs before each removal; the container engine should call it after removing a container
   * so the space is freed at once.
   */
  async releaseRemoved(): Promise<void> {
    await this.records.exclusive(() => this.dropUnusedRemoved());
  }

  /**
   * Deletes an image record with `extraOps` in the same batch; returns the `Deleted` records
   * (the image, then each layer freed). An image stopped containers still use is hidden
   * instead, its layers kept for them.
   */
  private async deleteImage(record: ImageRecord, used: boolean, extraOps: BatchOp[] = []): Promise<DeleteRecord[]> {
    const ops = [...extraOps];
    let freed: string[] = [];
    if (used) {
      ops.push({ type: 'put', key: KEY.image(record.id), value: { ...record, removed: true } });
    } else {
      const released = await this.releaseImageOps(record);
      ops.push(...released.ops);
      freed = released.freed;
    }
    await this.records.store.batch(ops);
    await this.removeFiles(used ? undefined : record.id, freed);
    this.records.log.info({ image: record.id }, 'image deleted');
    this.records.emit(record.id, record.id, 'delete', record.config.config?.Labels);
    return [{ Deleted: record.id }, ...freed.map((chainId) => ({ Deleted: chainId }))];
  }

  /** dockerd's parent pruning: each untagged ancestor no container or other child holds goes. */
  private async pruneParents(parentId: string | undefined): Promise<DeleteRecord[]> {
    const records: DeleteRecord[] = [];
    const refs = await this.records.refsByImage();
    const visible = (id: string) => this.records.visible(id);
    for (let parent = parentId ? await visible(parentId) : undefined; parent; parent = parent.parent ? await visible(parent.parent) : undefined) {
      if ((refs.get(parent.id) ?? []).length > 0) break;
      if ((await this.users.imageUsers(parent.id)).length > 0) break;
      if ((await this.records.childCount(parent.id)) > 0) break;
      records.push(...(await this.deleteImage(parent, false)));
    }
    return records;
  }

  private async usersOf(imageId: string): Promise<Array<{ id: string; running: boolean }>> {
    const ids = await this.users.imageUsers(imageId);
    return Promise.all(ids.map(async (id) => ({ id, running: (await this.users.containerRunning?.(id)) ?? false })));
  }

  private async dropUnusedRemoved(): Promise<void> {
    const removed = (await this.records.store.list<ImageRecord>(PREFIX.image)).map((e) => e.value).filter((r) => r.removed);
    for (const record of removed) {
      if ((await this.users.imageUsers(record.id)).length > 0) continue;
      const { ops, freed } = await this.releaseImageOps(record);
      await this.records.store.batch(ops);
      await this.removeFiles(record.id, freed);
      this.records.log.info({ image: record.id }, 'released removed image');
    }
  }

  /** Store ops deleting `record` and dropping its layer references; `freed`: top-most first. */
  private async releaseImageOps(record: ImageRecord): Promise<{ ops: BatchOp[]; freed: string[] }> {
    const ops: BatchOp[] = [{ type: 'del', key: KEY.image(record.id) }];
    if (record.buildKey) ops.push({ type: 'del', key: KEY.buildCache(record.parent, record.buildKey) });
    const freed: string[] = [];
    for (const chainId of [...record.chainIds].reverse()) {
      const layer = await this.records.layer(chainId);
      if (!layer) continue;
      if (layer.refs <= 1) {
        ops.push({ type: 'del', key: KEY.layer(chainId) });
        freed.push(chainId);
      } else {
        ops.push({ type: 'put', key: KEY.layer(chainId), value: { ...layer, refs: layer.refs - 1 } });
      }
    }
    return { ops, freed };
  }

  private async removeFiles(imageId: string | undefined, layers: string[]): Promise<void> {
    try {
      if (imageId) await this.records.files.removeBlob(imageId);
      for (const chainId of layers) await this.records.files.removeLayer(chainId);
    } catch (err) {
      // The records are gone; init() removes layer dirs without a record.
      this.records.log.warn({ err, image: imageId }, 'cannot remove image files');
    }
  }
}
