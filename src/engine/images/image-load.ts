/**
 * `docker load`: a save tarball becomes images, layers and tags, all or nothing.
 *
 * 1. ingest   the tarball is streamed into a private work dir under `<root>/tmp` (no lock held);
 *             manifests and configs are read and checked.
 * 2. unpack   (under the service lock) each layer the store lacks is unpacked into the work dir
 *             and its diff ID checked against the config's rootfs.diff_ids.
 * 3. commit   config blobs are written, layer dirs renamed into `layers/`, then every record
 *             (layers with their refcounts, images, tags) goes to the store in one batch. If
 *             anything fails, what was moved into place is removed again.
 */
import { copyFile, link, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { InvalidParameterError } from '../../errors';
import type { BatchOp, Store } from '../store/store';
import { KEY } from '../store/schema';
import { SaveArchive } from './archive-ingest';
import { chainIds, hexOf, isSha256Digest, sha256Digest } from '../digest';
import type { FsTools } from '../../host/fs-tools';
import type { ImageFiles } from './image-store-files';
import { commitStaged } from './staged-commit';
import { unpackLayer } from './layer-unpack';
import { familiarString, parseNormalizedNamed, storeKeyOf, type NamedReference } from './reference';
import { readSaveItems } from './save-manifest';
import type { ImageConfigFile, ImageFormat, ImageRecord, LayerBlob, LayerRecord } from './types';

export interface LoadContext {
  store: Store;
  files: ImageFiles;
  fsTools: FsTools;
  log: Logger;
  /** GOARCH-style name of this host (`amd64`), to pick a platform from an OCI index. */
  hostArch: string;
  signal?: AbortSignal;
  /** Told of each image once the load is committed, with the tags it got (events). */
  onLoaded?: (id: string, tags: string[], labels: Record<string, string>) => void;
}

interface LoadItem {
  id: string;
  configBytes: Buffer;
  config: ImageConfigFile;
  diffIds: string[];
  chainIds: string[];
  layers: Array<{ path: string; digest?: string }>;
  tags: NamedReference[];
  format?: ImageFormat;
  parent?: string;
  /** From the format of Docker before 1.10: no `Loaded image` lines for it, as with dockerd. */
  legacy: boolean;
}

export interface IngestedLoad {
  archive: SaveArchive;
  items: LoadItem[];
  workDir: string;
}

const invalid = (message: string) => new InvalidParameterError(message);

/** Step 1: reads the tarball into `workDir` and checks what it describes. */
export async function ingestLoad(ctx: LoadContext, input: NodeJS.ReadableStream, workDir: string): Promise<IngestedLoad> {
  const ingestDir = join(workDir, 'ingest');
  await mkdir(ingestDir);
  const archive = await SaveArchive.ingest(input, ingestDir, { signal: ctx.signal });
  const items: LoadItem[] = [];
  for (const item of await readSaveItems(archive, ctx.hostArch)) {
    const configBytes = item.configBytes ?? (await archive.read(item.config));
    const id = sha256Digest(configBytes);
    if (item.configDigest && item.configDigest !== id) {
      throw invalid(`invalid image config ${item.config}: content digest ${id} does not match`);
    }
    const config = parseConfig(configBytes, item.config);
    const diffIds = config.rootfs.diff_ids;
    if (item.layers.length !== diffIds.length) {
      throw invalid(`invalid manifest, layers length mismatch: expected ${item.layers.length}, got ${diffIds.length}`);
    }
    for (const layer of item.layers) archive.file(layer.path); // every layer must be present
    items.push({ id, configBytes, config, diffIds, chainIds: chainIds(diffIds), layers: item.layers, tags: item.repoTags.map(parseRepoTag), format: item.format, parent: item.parent, legacy: item.legacy ?? false });
  }
  return { archive, items, workDir };
}

function parseConfig(bytes: Buffer, path: string): ImageConfigFile {
  let config: ImageConfigFile;
  try {
    config = JSON.parse(bytes.toString('utf8')) as ImageConfigFile;
  } catch (err) {
    throw new InvalidParameterError(`invalid image config ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw invalid(`invalid image config ${path}: not an object`);
  if (typeof config.rootfs !== 'object' || config.rootfs === null) throw invalid('invalid image JSON, no RootFS key');
  const diffIds = config.rootfs.diff_ids ?? [];
  if (!Array.isArray(diffIds) || !diffIds.every((d) => typeof d === 'string' && isSha256Digest(d))) {
    throw invalid(`invalid image config ${path}: rootfs.diff_ids must be sha256 digests`);
  }
  config.rootfs.diff_ids = diffIds;
  if (config.os && config.os !== 'linux') throw invalid(`cannot load ${config.os} image on linux`);
  return config;
}

function parseRepoTag(repoTag: string): NamedReference {
  const ref = parseNormalizedNamed(repoTag);
  if (!ref.tag || ref.digest) throw invalid(`invalid tag "${repoTag}"`);
  return ref;
}

interface NewLayer {
  chainId: string;
  diffId: string;
  size: number;
  /** Unpacked dir (holding `diff/` and `blob`) inside the work dir. */
  dir: string;
  blob: LayerBlob;
}

/** Steps 2 and 3; the caller holds the service lock. Returns dockerd's output lines. */
export async function commitLoad(ctx: LoadContext, load: IngestedLoad): Promise<string[]> {
  const { store, files } = ctx;
  const newLayers = new Map<string, NewLayer>();
  const layerSizes = new Map<string, number>();
  const existingLayers = new Map<string, LayerRecord>();
  const refDelta = new Map<string, number>();
  const imageOps: BatchOp[] = [];
  const newBlobs: string[] = [];
  const seenImages = new Set<string>();
  const tagTargets = new Map<string, string>();
  const lines: string[] = [];
  const idLines: string[] = [];
  let printIds = false;

  for (const item of load.items) {
    for (let i = 0; i < item.chainIds.length; i++) {
      const chainId = item.chainIds[i];
      if (layerSizes.has(chainId)) continue;
      const record = await store.get<LayerRecord>(KEY.layer(chainId));
      if (record) {
        existingLayers.set(chainId, record);
        layerSizes.set(chainId, record.size);
        continue;
      }
      const layer = await unpackOne(ctx, load, item, i);
      newLayers.set(chainId, layer);
      layerSizes.set(chainId, layer.size);
    }

    if (!seenImages.has(item.id)) {
      seenImages.add(item.id);
      const existing = await store.get<ImageRecord>(KEY.image(item.id));
      if (!existing || existing.removed) {
        if (!existing) {
          for (const c of item.chainIds) refDelta.set(c, (refDelta.get(c) ?? 0) + 1);
          newBlobs.push(item.id);
        }
        const record: ImageRecord = existing
          ? { ...existing, removed: undefined }
          : {
              id: item.id,
              config: item.config,
              chainIds: item.chainIds,
              size: item.chainIds.reduce((sum, c) => sum + (layerSizes.get(c) ?? 0), 0),
              repoDigests: [],
              loadedAt: new Date().toISOString(),
              ...(item.format === 'oci' ? { format: item.format } : {}),
              ...(item.parent ? { parent: item.parent } : {}),
            };
        imageOps.push({ type: 'put', key: KEY.image(item.id), value: record });
      }
    }

    idLines.push(`Loaded image ID: ${item.id}`);
    for (const tag of item.tags) {
      const key = storeKeyOf(tag);
      const previous = tagTargets.get(key) ?? (await store.get<string>(KEY.tag(key)));
      if (previous && previous !== item.id) {
        lines.push(`The image ${familiarString(tag)} already exists, renaming the old one with ID ${previous} to empty string`);
      }
      tagTargets.set(key, item.id);
      if (!item.legacy) lines.push(`Loaded image: ${familiarString(tag)}`);
    }
    printIds = !item.legacy && item.tags.length === 0;
  }
  // dockerd prints the IDs only when the last image of the archive had no tag (never for legacy ones).
  if (printIds) lines.push(...idLines);

  const ops: BatchOp[] = [];
  for (const [chainId, layer] of newLayers) {
    const value: LayerRecord = { chainId, diffId: layer.diffId, size: layer.size, refs: refDelta.get(chainId) ?? 0, blob: layer.blob };
    ops.push({ type: 'put', key: KEY.layer(chainId), value });
  }
  for (const [chainId, record] of existingLayers) {
    const delta = refDelta.get(chainId) ?? 0;
    if (delta > 0) ops.push({ type: 'put', key: KEY.layer(chainId), value: { ...record, refs: record.refs + delta } });
  }
  ops.push(...imageOps);
  for (const [key, id] of tagTargets) ops.push({ type: 'put', key: KEY.tag(key), value: id });

  await commitStaged(files, store, {
    configs: load.items.filter((item) => newBlobs.includes(item.id)).map((item) => ({ id: item.id, bytes: item.configBytes })),
    layers: [...newLayers].map(([chainId, layer]) => ({ chainId, dir: layer.dir })),
    ops,
  });
  for (const id of seenImages) ctx.log.info({ image: id }, 'image loaded');
  for (const item of load.items) ctx.onLoaded?.(item.id, item.tags.map(familiarString), item.config.config?.Labels ?? {});
  return lines;
}

async function unpackOne(ctx: LoadContext, load: IngestedLoad, item: LoadItem, i: number): Promise<NewLayer> {
  const chainId = item.chainIds[i];
  const dir = join(load.workDir, 'layers', hexOf(chainId));
  const diffDir = join(dir, 'diff');
  await mkdir(diffDir, { recursive: true, mode: 0o755 });
  const layer = item.layers[i];
  const unpacked = await unpackLayer(load.archive.file(layer.path).hostPath, diffDir, ctx);
  if (layer.digest && unpacked.blobDigest !== layer.digest) {
    throw invalid(`invalid layer ${layer.path}: content digest ${unpacked.blobDigest} does not match`);
  }
  const expected = item.diffIds[i];
  if (unpacked.diffId !== expected) {
    throw invalid(`invalid diffID for layer ${i}: expected "${expected}", got "${unpacked.diffId}"`);
  }
  ctx.log.debug({ layer: chainId, size: unpacked.size }, 'layer unpacked');
  // The layer file as it came, kept beside the diff (a hard link: the ingest dir goes away).
  const source = load.archive.file(layer.path).hostPath;
  await link(source, join(dir, 'blob')).catch(() => copyFile(source, join(dir, 'blob')));
  const blob: LayerBlob = { digest: unpacked.blobDigest, size: unpacked.blobSize, compression: unpacked.compression };
  return { chainId, diffId: expected, size: unpacked.size, dir, blob };
}
