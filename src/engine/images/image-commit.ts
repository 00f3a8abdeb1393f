/**
 * A new image from a parent image and one more layer (docker commit; later import and build):
 * the layer tar is streamed into a work dir, unpacked while its diff ID is measured, then the
 * config blob, the layer dir and the records (layer refcounts, image, optional tag) are committed
 * together through staged-commit.ts, as loads and pulls are.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { BatchOp, Store } from '../store/store';
import { KEY } from '../store/schema';
import { archiveError } from './archive-ingest';
import { readLarge } from './compression';
import { chainIds, HashingStream, sha256Digest } from '../digest';
import type { FsTools } from '../../host/fs-tools';
import type { ImageFiles } from './image-store-files';
import { commitStaged } from './staged-commit';
import { extractLayer } from './layer-extract';
import { treeSize } from '../tree-size';
import { storeKeyOf, type NamedReference } from './reference';
import type { ImageConfigFile, ImageRecord, LayerBlob, LayerRecord } from './types';

export interface CommitContext {
  store: Store;
  files: ImageFiles;
  fsTools: FsTools;
  log: Logger;
}

export interface UnpackedNewLayer {
  diffId: string;
  size: number;
  /** Work dir holding `diff/` and `blob` (the tar as received). */
  dir: string;
  blob: LayerBlob;
}

/** Step 1 (no lock): unpacks the layer tar into `workDir/layer/diff`, measuring its diff ID. */
export async function unpackNewLayer(ctx: CommitContext, layer: Readable, workDir: string): Promise<UnpackedNewLayer> {
  const dir = join(workDir, 'layer');
  const diffDir = join(dir, 'diff');
  await mkdir(diffDir, { recursive: true, mode: 0o755 });
  // Kept as received (save and push need these exact bytes), then unpacked from the file.
  const blobPath = join(dir, 'blob');
  const hash = new HashingStream();
  await pipeline(layer, hash, createWriteStream(blobPath, { mode: 0o600 }));
  await extractLayer(readLarge(blobPath), diffDir, { fsTools: ctx.fsTools, log: ctx.log, fresh: true }).catch((err: unknown) => {
    throw archiveError(err, 'invalid layer');
  });
  const diffId = hash.digest();
  return { diffId, size: await treeSize(diffDir), dir, blob: { digest: diffId, size: (await stat(blobPath)).size, compression: 'none' } };
}

export interface NewImage {
  parent?: ImageRecord;
  /** The config without rootfs: the parent's diff IDs (and the new layer's) are added here. */
  config: Omit<ImageConfigFile, 'rootfs'>;
  /** The new layer; none for an image that only changes the parent's config (a build's ENV, CMD…). */
  layer?: UnpackedNewLayer;
  tag?: NamedReference;
  /** The build step that made it (see ImageRecord.buildKey). */
  buildKey?: string;
}

/** Step 2 (under the service lock): stores the image; returns its ID. */
export async function commitNewImage(ctx: CommitContext, img: NewImage): Promise<string> {
  const layer = img.layer;
  const diffIds = [...(img.parent?.config.rootfs.diff_ids ?? []), ...(layer ? [layer.diffId] : [])];
  const config: ImageConfigFile = { ...img.config, rootfs: { type: 'layers', diff_ids: diffIds } };
  const configBytes = Buffer.from(JSON.stringify(config));
  const id = sha256Digest(configBytes);
  const chain = chainIds(diffIds);
  const top = layer ? chain[chain.length - 1] : undefined;

  const ops: BatchOp[] = [];
  const existingImage = await ctx.store.get<ImageRecord>(KEY.image(id));
  const known = top ? await ctx.store.get<LayerRecord>(KEY.layer(top)) : undefined;
  const isNewImage = !existingImage;
  if (isNewImage) {
    for (const c of layer ? chain.slice(0, -1) : chain) {
      const rec = await ctx.store.get<LayerRecord>(KEY.layer(c));
      if (!rec) throw new Error(`parent layer ${c} is missing`);
      ops.push({ type: 'put', key: KEY.layer(c), value: { ...rec, refs: rec.refs + 1 } });
    }
    if (layer && top) {
      const layerRec: LayerRecord = known ? { ...known, refs: known.refs + 1 } : { chainId: top, diffId: layer.diffId, size: layer.size, refs: 1, blob: layer.blob };
      ops.push({ type: 'put', key: KEY.layer(top), value: layerRec });
    }
  }
  if (isNewImage || existingImage.removed) {
    const size = (img.parent?.size ?? 0) + (layer?.size ?? 0);
    const record: ImageRecord = existingImage
      ? { ...existingImage, removed: undefined }
      : { id, config, chainIds: chain, size, repoDigests: [], loadedAt: new Date().toISOString(), parent: img.parent?.id, ...(img.buildKey ? { buildKey: img.buildKey } : {}) };
    ops.push({ type: 'put', key: KEY.image(id), value: record });
    if (record.buildKey) ops.push({ type: 'put', key: KEY.buildCache(record.parent, record.buildKey), value: id });
  }
  if (img.tag) ops.push({ type: 'put', key: KEY.tag(storeKeyOf(img.tag)), value: id });

  await commitStaged(ctx.files, ctx.store, {
    configs: isNewImage ? [{ id, bytes: configBytes }] : [],
    layers: isNewImage && layer && top && !known ? [{ chainId: top, dir: layer.dir }] : [],
    ops,
  });
  ctx.log.info({ image: id, layer: top }, 'image committed');
  return id;
}
