/**
 * `docker push`: the image's layer blobs (the exact bytes it was loaded, pulled or committed
 * with), its config and an OCI manifest go to the registry; blobs the repository has are
 * skipped, blobs another repository of the registry has are mounted from it. Progress as dockerd's JSON messages, ending with `<tag>: digest: … size: …` and the
 * aux object the CLI reads.
 */
import { readFile } from 'node:fs/promises';
import { registryEndpoint } from '../registry/endpoint';
import { RegistryClient, type RegistryCredentials } from '../registry/registry-client';
import { hexOf } from './digest';
import { layerBlobs, ociManifest, OCI_MANIFEST_TYPE } from './image-save';
import { mountSources } from './layer-sources';
import type { ImageFiles } from './image-store-files';
import type { PullProgress } from './image-pull';
import type { NamedReference } from './reference';
import type { ImageRecord, LayerRecord } from './types';

export interface PushContext {
  files: ImageFiles;
  layer(chainId: string): Promise<LayerRecord | undefined>;
  insecureRegistries: readonly string[];
  certsDir?: string;
  progress(p: PullProgress | { progressDetail: object; aux: object }): void;
  /** Records that the repository (`<domain>/<path>`) now holds these layers' blobs. */
  recordSource(chainIds: string[], repo: string): Promise<void>;
}

/** Pushes `rec` as `ref` (which has a tag); returns the manifest digest. */
export async function pushImage(ctx: PushContext, ref: NamedReference, rec: ImageRecord, creds: RegistryCredentials): Promise<{ digest: string; size: number }> {
  const client = new RegistryClient(registryEndpoint(ref.domain, ctx.insecureRegistries, ctx.certsDir), ref.path, creds);
  ctx.progress({ status: `The push refers to repository [${ref.domain}/${ref.path}]` });
  const blobs = await layerBlobs(rec, ctx.layer, 'push');
  // Newest layer first, like the CLI shows it.
  for (let i = blobs.length - 1; i >= 0; i--) {
    const blob = blobs[i];
    const id = hexOf(blob.digest).slice(0, 12);
    if (await client.hasBlob(blob.digest)) {
      ctx.progress({ status: 'Layer already exists', id });
      continue;
    }
    const mount = await mountFromSources(client, blob.digest, mountSources(await ctx.layer(rec.chainIds[i]), ref.domain, ref.path));
    if (mount.from) {
      ctx.progress({ status: `Mounted from ${mount.from}`, id });
      continue;
    }
    ctx.progress({ status: 'Pushing', id, progressDetail: { current: 0, total: blob.size } });
    await client.uploadBlob(blob.digest, { path: ctx.files.layerBlobPath(rec.chainIds[i]) }, mount.location);
    ctx.progress({ status: 'Pushed', id });
  }
  await ctx.recordSource(rec.chainIds, `${ref.domain}/${ref.path}`);
  const configBytes = await readFile(ctx.files.blobPath(rec.id));
  if (!(await client.hasBlob(rec.id))) await client.uploadBlob(rec.id, { bytes: configBytes });
  const manifest = ociManifest(rec.id, configBytes.length, blobs);
  const digest = await client.putManifest(ref.tag!, OCI_MANIFEST_TYPE, manifest);
  ctx.progress({ status: `${ref.tag}: digest: ${digest} size: ${manifest.length}` });
  ctx.progress({ progressDetail: {}, aux: { Tag: ref.tag, Digest: digest, Size: manifest.length } });
  return { digest, size: manifest.length };
}

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
