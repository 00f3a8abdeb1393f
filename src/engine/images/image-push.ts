/**
 * `docker push`: the image's layer blobs (the exact bytes it was loaded, pulled or committed
 * with), its config and its manifest go to the registry: Docker v2 schema 2 as dockerd sends, or
 * OCI for images that arrived as OCI (ImageRecord.format); blobs the repository has are
 * skipped, blobs another repository of the registry has are mounted from it. Progress as dockerd's JSON messages, ending with `<tag>: digest: … size: …` and the
 * aux object the CLI reads.
 */
import { readFile, rm } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { registryEndpoint } from '../registry/endpoint';
import { RegistryClient, type RegistryCredentials } from '../registry/registry-client';
import { gzipStream, readLarge } from './compression';
import { hexOf } from '../digest';
import { imageManifest, manifestMediaType } from './image-manifest';
import { layerBlobs } from './image-save';
import { mountSources } from './layer-sources';
import { teeToFile } from './tee-file';
import type { ImageFiles } from './image-store-files';
import type { ProgressMessage } from '../progress';
import type { NamedReference } from './reference';
import type { ImageRecord, LayerBlob, LayerRecord } from './types';

export interface PushContext {
  files: ImageFiles;
  layer(chainId: string): Promise<LayerRecord | undefined>;
  insecureRegistries: readonly string[];
  certsDir?: string;
  progress(p: ProgressMessage): void;
  /** The client went away: the transfer in flight stops and the push fails with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Makes `copyPath` (the gzip of the layer's blob `oldDigest`, described by `blob`) the layer's
   * kept blob, unless the layer changed meanwhile.
   */
  keepCompressed(chainId: string, oldDigest: string, copyPath: string, blob: LayerBlob): Promise<void>;
  /** Records that the repository (`<domain>/<path>`) now holds these layers' blobs. */
  recordSource(chainIds: string[], repo: string): Promise<void>;
}

/** Pushes `rec` as `ref` (which has a tag); returns the manifest digest. */
export async function pushImage(ctx: PushContext, ref: NamedReference, rec: ImageRecord, creds: RegistryCredentials): Promise<{ digest: string; size: number }> {
  const client = new RegistryClient(registryEndpoint(ref.domain, ctx.insecureRegistries, ctx.certsDir), ref.path, creds, { signal: ctx.signal });
  ctx.progress({ status: `The push refers to repository [${ref.domain}/${ref.path}]` });
  const blobs = await layerBlobs(rec, ctx.layer, 'push');
  const diffIds = rec.config.rootfs?.diff_ids ?? [];
  // Newest layer first, like the CLI shows it; progress is keyed by the short diff ID as with dockerd.
  const ids = blobs.map((b, i) => hexOf(diffIds[i] ?? b.digest).slice(0, 12));
  for (let i = blobs.length - 1; i >= 0; i--) ctx.progress({ status: 'Preparing', id: ids[i] });
  // A few layers at a time (dockerd pushes up to 5 concurrently).
  const todo = blobs.map((_, i) => i).reverse();
  const worker = async () => {
    for (let i = todo.shift(); i !== undefined; i = todo.shift()) {
      ctx.signal?.throwIfAborted();
      blobs[i] = await pushLayer(ctx, client, ref, rec.chainIds[i], blobs[i], ids[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, todo.length) }, worker));
  await ctx.recordSource(rec.chainIds, `${ref.domain}/${ref.path}`);
  const configBytes = await readFile(ctx.files.blobPath(rec.id));
  if (!(await client.hasBlob(rec.id))) await client.uploadBlob(rec.id, { bytes: configBytes });
  const format = rec.format ?? 'docker';
  const manifest = imageManifest(format, rec.id, configBytes.length, blobs);
  const tag = ref.tag!;
  const digest = await client.putManifest(tag, manifestMediaType(format), manifest);
  ctx.progress({ status: `${tag}: digest: ${digest} size: ${manifest.length}` });
  ctx.progress({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: manifest.length } });
  return { digest, size: manifest.length };
}

/**
 * One layer: skipped when the repository has it, mounted when another repository of the registry
 * does, uploaded otherwise. Returns the blob the manifest names: an uncompressed one is gzipped
 * while it is uploaded (registries and dockerd expect compressed layers) and the compressed
 * bytes become the layer's kept blob, so the next push names the same digest.
 */
async function pushLayer(ctx: PushContext, client: RegistryClient, ref: NamedReference, chainId: string, blob: LayerBlob, id: string): Promise<LayerBlob> {
  if (await client.hasBlob(blob.digest)) {
    ctx.progress({ status: 'Layer already exists', id });
    return blob;
  }
  const mount = await mountFromSources(client, blob.digest, mountSources(await ctx.layer(chainId), ref.domain, ref.path));
  if (mount.from) {
    ctx.progress({ status: `Mounted from ${mount.from}`, id });
    return blob;
  }
  ctx.progress({ status: 'Pushing', id, progressDetail: { current: 0, total: blob.size } });
  const path = ctx.files.layerBlobPath(chainId, blob);
  if (blob.compression === 'gzip') {
    await client.uploadBlob(blob.digest, { path }, mount.location);
    ctx.progress({ status: 'Pushed', id });
    return blob;
  }
  const copy = ctx.files.tempPath('push-gz');
  try {
    const sent = await client.uploadStream(gzipWithCopy(path, copy, (current) => ctx.progress({ status: 'Pushing', id, progressDetail: { current, total: blob.size } })), mount.location);
    const compressed: LayerBlob = { ...sent, compression: 'gzip', file: 'blob.gz' };
    await ctx.keepCompressed(chainId, blob.digest, copy, compressed);
    ctx.progress({ status: 'Pushed', id });
    return compressed;
  } finally {
    await rm(copy, { force: true });
  }
}

/**
 * The gzip of the file at `src` as a stream, also written to `copyPath` (finished before the
 * stream ends). `onRead` reports the uncompressed bytes read, every 512 KiB.
 */
function gzipWithCopy(src: string, copyPath: string, onRead: (bytes: number) => void): Readable {
  const tee = teeToFile(copyPath);
  let read = 0;
  let reported = 0;
  const input = readLarge(src).on('data', (chunk) => {
    read += chunk.length;
    if (read - reported >= 512 * 1024) onRead((reported = read));
  });
  pipeline(input, gzipStream(), tee, (err) => {
    if (err) tee.destroy(err);
  });
  return tee;
}

const PARALLEL_UPLOADS = 3;

/** Sources tried per blob (dockerd tries a few too) before uploading it. */
const MOUNT_ATTEMPTS = 3;

/**
 * Asks the registry to mount the blob from repositories known to hold it: `from` is the one that
 * lent it; otherwise `location` is the upload session the last refusal opened.
 */
async function mountFromSources(client: RegistryClient, digest: string, sources: string[]): Promise<{ from?: string; location?: string }> {
  let location: string | undefined;
  for (const from of sources.slice(0, MOUNT_ATTEMPTS)) {
    const mount = await client.mountBlob(digest, from);
    if (mount.mounted) return { from };
    location = mount.location ?? location;
  }
  return { location };
}
