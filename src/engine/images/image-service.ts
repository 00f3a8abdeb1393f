/**
 * The image engine, composed: the records every part works over (image-records.ts: lookup,
 * references, tags, the lock, events) and parts of one job each, which the daemon binds the
 * API's image backends to:
 *
 *   records      lookup, tags, lock, events (everything below uses it)
 *   queries      list, inspect, history, disk usage
 *   removal      rmi, prune, release of force-removed images
 *   transfers    registries: pull, push, login, distribution inspect
 *   archives     load, save, import (through commit)
 *
 * New images from a layer stay here: commit (docker commit, a build's steps, import) and the
 * build cache over it.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { NotFoundError } from '../../errors';
import type { Store } from '../store/store';
import { KEY } from '../store/schema';
import { chainIds } from '../digest';
import { FsTools } from '../../host/fs-tools';
import { commitNewImage, unpackNewLayer, type CommitContext } from './image-commit';
import { ImageArchives } from './image-archives';
import { ImageQueries } from './image-queries';
import { HOST_ARCH, ImageRecords } from './image-records';
import { ImageRemoval, type ImageUsers } from './image-removal';
import { ImageFiles } from './image-store-files';
import { ImageTransfers, type RegistrySettings } from './image-transfers';
import { familiarString, repoTagReference } from './reference';
import type { ContainerImageConfig, ImageRecord, LayerRecord } from './types';
import type { Readable } from 'node:stream';
import type { EventSink } from '../events/event-log';

export interface ImageServiceDeps extends ImageUsers, RegistrySettings {
  store: Store;
  /** `<data-root>/image` */
  root: string;
  log: Logger;
  /** The storage driver image inspect names in GraphDriver (default overlay2). */
  storageDriver?: string;
  /** The mknod/setfattr adapter (tests may pass one with other program paths). */
  fsTools?: FsTools;
  events?: EventSink;
}

export interface CommitImageOptions {
  /** The image the new one is made from (none: a base image, as `docker import` makes). */
  parentId?: string;
  /** The new layer as an uncompressed tar (whiteouts as `.wh.` files); none: a config-only image. */
  layer?: Readable;
  /** The new image's Config section. */
  config: ContainerImageConfig;
  author?: string;
  comment?: string;
  /** The history entry's created_by. */
  createdBy: string;
  repo?: string;
  tag?: string;
  /** Set by builds: see ImageRecord.buildKey. */
  buildKey?: string;
}

export class ImageService {
  readonly records: ImageRecords;
  readonly queries: ImageQueries;
  readonly removal: ImageRemoval;
  readonly transfers: ImageTransfers;
  readonly archives: ImageArchives;
  private readonly files: ImageFiles;
  private readonly fsTools: FsTools;

  constructor(private readonly deps: ImageServiceDeps) {
    this.files = new ImageFiles(deps.root);
    this.fsTools = deps.fsTools ?? new FsTools();
    this.records = new ImageRecords({ store: deps.store, files: this.files, fsTools: this.fsTools, log: deps.log, events: deps.events });
    this.queries = new ImageQueries(this.records, deps.imageUsers, deps.storageDriver);
    this.removal = new ImageRemoval(this.records, deps);
    this.transfers = new ImageTransfers(this.records, deps);
    this.archives = new ImageArchives(this.records, (opts) => this.commit(opts));
  }

  /** See ImageRecords.init. */
  init(): Promise<void> {
    return this.records.init();
  }

  /**
   * A new image: the parent's layers plus `layer` (docker commit, a build's RUN or COPY), or the
   * parent's layers only with a new config (no `layer`, or one that changes nothing: the history
   * entry is then an empty_layer one, as dockerd records it). The tag is checked before any
   * work; nothing is stored unless everything is.
   */
  async commit(opts: CommitImageOptions): Promise<string> {
    const tag = opts.repo ? repoTagReference(opts.repo, opts.tag || undefined) : undefined;
    const parent = opts.parentId ? await this.records.resolve(opts.parentId) : undefined;
    const ctx: CommitContext = { store: this.deps.store, files: this.files, fsTools: this.fsTools, log: this.deps.log };
    const workDir = await this.files.workDir('commit');
    try {
      const unpacked = opts.layer ? await unpackNewLayer(ctx, opts.layer, workDir) : undefined;
      const layer = unpacked && !(await isEmptyDir(join(unpacked.dir, 'diff'))) ? unpacked : undefined;
      const created = new Date().toISOString();
      const entry = { created, created_by: opts.createdBy, ...(opts.author ? { author: opts.author } : {}), ...(opts.comment ? { comment: opts.comment } : {}), ...(layer ? {} : { empty_layer: true }) };
      const config = {
        architecture: parent?.config.architecture ?? HOST_ARCH,
        ...(parent?.config.variant ? { variant: parent.config.variant } : {}),
        os: 'linux',
        created,
        ...(opts.author ? { author: opts.author } : {}),
        ...(opts.comment ? { comment: opts.comment } : {}),
        config: opts.config,
        history: [...(parent?.config.history ?? []), entry],
      };
      const id = await this.records.exclusive(() => commitNewImage(ctx, { parent, config, layer, tag, buildKey: opts.buildKey }));
      if (tag) this.records.emit(id, familiarString(tag), 'tag', opts.config.Labels);
      return id;
    } finally {
      await this.files.removeWorkDir(workDir);
    }
  }

  /** A private work dir under the image store's tmp (cleared at start), for builds. */
  workDir(prefix: string): Promise<string> {
    return this.files.workDir(prefix);
  }

  removeWorkDir(dir: string): Promise<void> {
    return this.files.removeWorkDir(dir);
  }

  /** The build cache: the image a build step with `buildKey` made on top of `parentId` before. */
  async buildCache(parentId: string | undefined, buildKey: string): Promise<string | undefined> {
    const id = await this.deps.store.get<string>(KEY.buildCache(parentId, buildKey));
    const rec = id ? await this.records.visible(id) : undefined;
    return rec && rec.buildKey === buildKey && rec.parent === parentId ? rec.id : undefined;
  }

  /**
   * --cache-from: step `historyIndex` of `sourceId` (an image with no local build history, e.g.
   * pulled) as a new image on `parentId`: that history entry and, unless it is an empty_layer
   * one, the layer it made (stored already: the parent's layers are the source's first ones).
   */
  async commitCachedStep(opts: { parentId?: string; sourceId: string; historyIndex: number; layerDiffId?: string; config: ContainerImageConfig; buildKey: string; author?: string }): Promise<string> {
    const parent = opts.parentId ? await this.records.resolve(opts.parentId) : undefined;
    const source = await this.records.resolve(opts.sourceId);
    const entry = source.config.history?.[opts.historyIndex];
    if (!entry) throw new NotFoundError(`image ${opts.sourceId} has no history entry ${opts.historyIndex}`);
    const diffIds = [...(parent?.config.rootfs.diff_ids ?? []), ...(opts.layerDiffId ? [opts.layerDiffId] : [])];
    const top = opts.layerDiffId ? chainIds(diffIds).at(-1)! : undefined;
    const known = top ? await this.deps.store.get<LayerRecord>(KEY.layer(top)) : undefined;
    if (top && !known) throw new NotFoundError(`layer ${top} of image ${opts.sourceId} is missing`);
    const config = {
      architecture: source.config.architecture ?? parent?.config.architecture ?? HOST_ARCH,
      os: 'linux',
      created: entry.created,
      ...(opts.author ? { author: opts.author } : {}),
      config: opts.config,
      history: [...(parent?.config.history ?? []), entry],
    };
    const ctx: CommitContext = { store: this.deps.store, files: this.files, fsTools: this.fsTools, log: this.deps.log };
    // The layer is stored (`known`): commitNewImage only counts one more user of it.
    const layer = known && opts.layerDiffId ? { diffId: opts.layerDiffId, size: known.size, dir: '', blob: known.blob ?? { digest: opts.layerDiffId, size: 0, compression: 'none' as const } } : undefined;
    return this.records.exclusive(() => commitNewImage(ctx, { parent, config, layer, buildKey: opts.buildKey }));
  }

  /** Makes `parentId` the image's parent (--cache-from links a source it used whole to the chain it continues, as dockerd does). */
  async setParent(id: string, parentId: string): Promise<void> {
    await this.records.exclusive(async () => {
      const rec = await this.deps.store.get<ImageRecord>(KEY.image(id));
      if (rec && rec.parent !== parentId) await this.deps.store.put(KEY.image(id), { ...rec, parent: parentId });
    });
  }
}

async function isEmptyDir(dir: string): Promise<boolean> {
  return (await readdir(dir)).length === 0;
}
