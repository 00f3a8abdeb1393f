/**
 * `docker save`: images as one tar that `docker load` (Berth's, dockerd's old and new) reads:
 * an OCI image layout (`oci-layout`, `index.json`, manifests, configs and layers under
 * `blobs/sha256/`) plus dockerd's `manifest.json` (`[moby] image/tarexport/save.go`). Layers go
 * out as the exact bytes that were loaded or committed (LayerRecord.blob), so every digest and
 * diff ID in the archive holds.
 */
import { readFile } from 'node:fs/promises';
import type * as tar from 'tar-stream';
import { InvalidParameterError } from '../../errors';
import { hexOf, sha256Digest } from '../digest';
import { imageManifest, MEDIA } from './image-manifest';
import type { ImageFiles } from './image-store-files';
import { packFile } from './pack-stream';
import type { ImageRecord, LayerBlob, LayerRecord } from './types';

export interface SaveItem {
  rec: ImageRecord;
  /** Full references (`docker.io/library/busybox:latest`) to record for the image. */
  refs: Array<{ full: string; familiar: string; tag: string }>;
}

export interface SaveContext {
  files: ImageFiles;
  layer(chainId: string): Promise<LayerRecord | undefined>;
}


/**
 * The kept blob of each layer of `rec`, bottom first (save and push need them); 400 when a layer
 * was stored before Berth kept them.
 */
export async function layerBlobs(rec: ImageRecord, layer: (chainId: string) => Promise<LayerRecord | undefined>, action: 'save' | 'push'): Promise<LayerBlob[]> {
  const out: LayerBlob[] = [];
  for (const chainId of rec.chainIds) {
    const blob = (await layer(chainId))?.blob;
    if (!blob) throw new InvalidParameterError(`cannot ${action} image ${rec.id}: layer ${chainId} was stored without its original data by an older Berth; load the image again`);
    out.push(blob);
  }
  return out;
}


const blobName = (digest: string) => `blobs/sha256/${hexOf(digest)}`;

/** Writes the archive of `items` into `pack` and finalizes it. */
export async function writeSaveArchive(pack: tar.Pack, items: SaveItem[], ctx: SaveContext): Promise<void> {
  const written = new Set<string>();
  const entry = (name: string, data: Buffer | string) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, mode: 0o644, mtime: new Date(0) }, data, (err) => (err ? reject(err) : resolve())));
  const blob = async (digest: string, data: Buffer) => {
    if (written.has(digest)) return;
    written.add(digest);
    await entry(blobName(digest), data);
  };
  const fileBlob = async (digest: string, path: string, size: number) => {
    if (written.has(digest)) return;
    written.add(digest);
    await packFile(pack, { name: blobName(digest), mode: 0o644, size, mtime: new Date(0) }, path);
  };

  await entry('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const manifestJson: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  const index: Array<Record<string, unknown>> = [];
  for (const { rec, refs } of items) {
    const blobs = await layerBlobs(rec, ctx.layer, 'save');
    const configBytes = await readFile(ctx.files.blobPath(rec.id));
    await blob(rec.id, configBytes);
    for (const [i, b] of blobs.entries()) await fileBlob(b.digest, ctx.files.layerBlobPath(rec.chainIds[i], b), b.size);
    const manifest = imageManifest('oci', rec.id, configBytes.length, blobs);
    const manifestDigest = sha256Digest(manifest);
    await blob(manifestDigest, manifest);
    const descriptor = { mediaType: MEDIA.ociManifest, digest: manifestDigest, size: manifest.length };
    if (refs.length === 0) index.push(descriptor);
    for (const r of refs) index.push({ ...descriptor, annotations: { 'io.containerd.image.name': r.full, 'org.opencontainers.image.ref.name': r.tag } });
    manifestJson.push({ Config: blobName(rec.id), RepoTags: refs.length ? refs.map((r) => r.familiar) : null, Layers: blobs.map((b) => blobName(b.digest)) });
  }
  await entry('index.json', JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: index }));
  await entry('manifest.json', JSON.stringify(manifestJson));
  pack.finalize();
}
