/**
 * `docker pull` from a registry: manifest (an index or list picks the platform), config and
 * layers downloaded in parallel with every digest verified, each layer unpacked as soon as it
 * arrived and its diff ID checked against the config, then config, layers, image and tag are
 * committed together. Layers already stored are not downloaded again. Progress goes out as
 * dockerd's JSON messages (`Pulling fs layer`, `Downloading`, `Extracting`, `Pull complete`,
 * `Digest:`, `Status:`).
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { InvalidParameterError, NotFoundError, UnavailableError } from '../../errors';
import { readEndpoints } from '../registry/endpoint';
import { RegistryClient, type RegistryCredentials } from '../registry/registry-client';
import type { BatchOp, Store } from '../store/store';
import { KEY } from '../store/schema';
import { chainIds, hexOf } from '../digest';
import type { FsTools } from '../../host/fs-tools';
import type { ImageFiles } from './image-store-files';
import { commitStaged } from './staged-commit';
import { withSource } from './layer-sources';
import { supported, unpackLayerStream } from './layer-unpack';
import { teeToFile } from './tee-file';
import { detectCompression, MAGIC_LENGTH, peek } from './compression';
import { familiarString, repoDigestReference, storeKeyOf, tagNameOnly, type NamedReference } from './reference';
import { formatOfManifest } from './image-manifest';
import type { ImageConfigFile, ImageFormat, ImageRecord, LayerBlob, LayerRecord } from './types';

export interface PullProgress {
  status: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
}

export interface PullContext {
  store: Store;
  files: ImageFiles;
  fsTools: FsTools;
  log: Logger;
  hostArch: string;
  insecureRegistries: readonly string[];
  /** `--registry-mirror` URLs, tried in order before docker.io itself. */
  registryMirrors?: readonly string[];
  /** Mirrors of other registries, by registry host (a node without the internet pulls gcr.io from them). */
  registryHostMirrors?: Readonly<Record<string, readonly string[]>>;
  /** Per-registry CA certificates (see registry/endpoint.ts). */
  certsDir?: string;
  progress(p: PullProgress): void;
  /** The client went away: downloads in flight stop and the pull fails with the signal's reason. */
  signal?: AbortSignal;
  /** Runs the commit under the image service's lock. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Layers (by chain ID) another pull is fetching right now, settled once that pull has stored
   * or dropped them: concurrent pulls of images that share layers download each layer once.
   */
  inflight: Map<string, Promise<void>>;
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const PARALLEL_DOWNLOADS = 3;
const DOWNLOAD_ATTEMPTS = 5;
const short = (digest: string) => hexOf(digest).slice(0, 12);

/**
 * `docker pull`: one tag or digest, or, for a bare repository name (`docker pull -a`), every tag
 * the registry lists, as dockerd does. Ends with the `Status:` line; returns the image IDs.
 * `platform` is `os/arch[/variant]`.
 */
export async function pullRepository(ctx: PullContext, ref: NamedReference, creds: RegistryCredentials, workDir: string, platform?: string): Promise<string[]> {
  const tags = ref.tag || ref.digest ? [undefined] : await listTags(ctx, ref, creds);
  const ids: string[] = [];
  let updated = false;
  for (const tag of tags) {
    const pulled = await pullImage(ctx, tag ? { ...ref, tag } : ref, creds, workDir, platform);
    ids.push(pulled.id);
    updated ||= pulled.updated;
  }
  const name = familiarString(tags.length === 1 && tags[0] === undefined ? tagNameOnly(ref) : ref);
  ctx.progress({ status: updated ? `Status: Downloaded newer image for ${name}` : `Status: Image is up to date for ${name}` });
  return ids;
}

/** Pulls one tag or digest into the store: the image ID and whether anything changed. */
async function pullImage(ctx: PullContext, ref: NamedReference, creds: RegistryCredentials, workDir: string, platform?: string): Promise<{ id: string; updated: boolean }> {
  const named = tagNameOnly(ref);
  const reference = named.digest ?? named.tag!;
  // Errors until the manifest is in reach are HTTP errors: the progress stream starts here, as with dockerd.
  const source = await firstManifest(ctx, named, creds, reference);
  ctx.progress({ status: `Pulling from ${familiarRepo(named)}`, id: reference });
  const client = source.client;
  let manifest = source.manifest;
  let body = JSON.parse(manifest.bytes.toString('utf8')) as ManifestBody;
  const repoDigest = manifest.digest;
  if (INDEX_TYPES.has(manifest.mediaType) || body.manifests) {
    const chosen = choosePlatform(body.manifests ?? [], platform, ctx.hostArch);
    manifest = await client.manifest(chosen.digest);
    body = JSON.parse(manifest.bytes.toString('utf8')) as ManifestBody;
  }
  const { config: configDesc, layers } = body;
  if (!configDesc || !Array.isArray(layers)) throw new InvalidParameterError(`unsupported manifest type ${manifest.mediaType || 'unknown'} for ${familiarString(named)}`);
  const configBytes = await client.blobBytes(configDesc.digest);
  const config = JSON.parse(configBytes.toString('utf8')) as ImageConfigFile;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layers.length) throw new InvalidParameterError(`invalid image: ${layers.length} layers in the manifest, ${diffIds.length} in the config`);
  const chain = chainIds(diffIds);

  // What the store lacks is fetched here, unless another pull is already fetching it.
  const todo: number[] = [];
  const waiting: number[] = [];
  const claimed: Array<() => void> = [];
  for (let i = 0; i < chain.length; i++) {
    const id = short(layers[i].digest);
    if (await ctx.store.get<LayerRecord>(KEY.layer(chain[i]))) ctx.progress({ status: 'Already exists', id });
    else if (ctx.inflight.has(chain[i])) {
      ctx.progress({ status: 'Waiting', id });
      waiting.push(i);
    } else {
      ctx.progress({ status: 'Pulling fs layer', id });
      claimed.push(claim(ctx.inflight, chain[i]));
      todo.push(i);
    }
  }
  try {
    const fresh = new Map<number, FreshLayer>();
    const fetchAll = () => Promise.all(Array.from({ length: Math.min(PARALLEL_DOWNLOADS, todo.length) }, () => fetchLayers(ctx, client, layers, chain, diffIds, todo, workDir, fresh)));
    await fetchAll();
    // Layers another pull was fetching: stored by now, or that pull failed and they are ours.
    for (const i of waiting) {
      await ctx.inflight.get(chain[i]);
      if (await ctx.store.get<LayerRecord>(KEY.layer(chain[i]))) ctx.progress({ status: 'Already exists', id: short(layers[i].digest) });
      else todo.push(i);
    }
    await fetchAll();
    const imageId = configDesc.digest;
    const repoDigestRef = repoDigestReference(named, repoDigest);
    const format = formatOfManifest({ mediaType: manifest.mediaType, config: configDesc });
    const pulled = { imageId, configBytes, config, chain, diffIds, fresh, tag: named.digest ? undefined : named, repoDigestRef, format };
    const updated = await ctx.exclusive(() => commitPull(ctx, { ...pulled, repo: `${named.domain}/${named.path}`, layerDigests: layers.map((l) => l.digest) }));
    ctx.progress({ status: `Digest: ${repoDigest}` });
    return { id: imageId, updated };
  } finally {
    for (const release of claimed) release();
  }
}

interface ManifestBody {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

interface FreshLayer {
  dir: string;
  size: number;
  blob: LayerBlob;
}

/** Marks a layer as being fetched by this pull; the returned function ends that. */
function claim(inflight: Map<string, Promise<void>>, chainId: string): () => void {
  let release!: () => void;
  inflight.set(chainId, new Promise<void>((r) => (release = r)));
  return () => {
    inflight.delete(chainId);
    release();
  };
}

/** A download worker: takes layer indexes from `todo`, downloads, verifies and unpacks each. */
async function fetchLayers(
  ctx: PullContext,
  client: RegistryClient,
  layers: Descriptor[],
  chain: string[],
  diffIds: string[],
  todo: number[],
  workDir: string,
  fresh: Map<number, FreshLayer>,
): Promise<void> {
  for (let i = todo.shift(); i !== undefined; i = todo.shift()) {
    ctx.signal?.throwIfAborted();
    const layer = layers[i];
    const id = short(layer.digest);
    const dir = join(workDir, hexOf(chain[i]));
    let last = 0;
    const onBytes = (current: number, total: number) => {
      if (current - last < 512 * 1024 && current !== total) return;
      last = current;
      ctx.progress({ status: 'Downloading', id, progressDetail: { current, total } });
    };
    // Unpacked while it downloads, the blob kept as it arrives; the digest is checked at the end
    // and the diff ID after it. A dropped connection is retried from scratch (dockerd retries 5
    // times); a digest mismatch is not.
    let unpacked: { diffId: string; size: number; compression: 'none' | 'gzip' };
    for (let attempt = 1; ; attempt++) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(join(dir, 'diff'), { recursive: true });
      try {
        unpacked = await client.fetchBlob(layer.digest, (body) => unpackDownload(ctx, body, dir), onBytes);
        break;
      } catch (err) {
        if (!(err instanceof UnavailableError) || attempt >= DOWNLOAD_ATTEMPTS || ctx.signal?.aborted) throw err;
        ctx.progress({ status: `Retrying in ${attempt} second${attempt > 1 ? 's' : ''}`, id });
        await sleep(attempt * 1000, undefined, { signal: ctx.signal });
        last = 0;
      }
    }
    ctx.progress({ status: 'Download complete', id });
    ctx.progress({ status: 'Extracting', id });
    if (unpacked.diffId !== diffIds[i]) throw new InvalidParameterError(`layer ${layer.digest}: unpacked content has diff ID ${unpacked.diffId}, the config says ${diffIds[i]}`);
    const blobSize = (await stat(join(dir, 'blob'))).size;
    fresh.set(i, { dir, size: unpacked.size, blob: { digest: layer.digest, size: blobSize, compression: unpacked.compression } });
    ctx.progress({ status: 'Pull complete', id });
  }
}

/** A layer download unpacked into `dir/diff` as it flows, and kept as `dir/blob`. */
async function unpackDownload(ctx: PullContext, body: Readable, dir: string): Promise<{ diffId: string; size: number; compression: 'none' | 'gzip' }> {
  const { head, stream } = await peek(body, MAGIC_LENGTH);
  const compression = supported(detectCompression(head));
  const { diffId, size } = await unpackLayerStream([stream, teeToFile(join(dir, 'blob'))], compression, join(dir, 'diff'), { fsTools: ctx.fsTools, log: ctx.log });
  return { diffId, size, compression };
}

interface PulledImage {
  imageId: string;
  configBytes: Buffer;
  config: ImageConfigFile;
  chain: string[];
  diffIds: string[];
  fresh: Map<number, FreshLayer>;
  tag?: NamedReference;
  repoDigestRef: string;
  /** `<domain>/<path>` pulled from: recorded as a source of the layers whose blobs it holds. */
  repo: string;
  /** The manifest's layer digests. */
  layerDigests: string[];
  /** The manifest's format: a push sends the image back in it. */
  format: ImageFormat;
}

/** Where `ref` is pulled from, in order: the registry's mirrors, then the registry itself. */
function sources(ctx: PullContext, ref: NamedReference, creds: RegistryCredentials): RegistryClient[] {
  return readEndpoints(ref.domain, ctx).map((e) => new RegistryClient(e, ref.path, creds, { signal: ctx.signal }));
}

/** The first source that answers `ask` (a failing mirror is skipped, as dockerd does; the registry's error stands). */
async function fromFirstSource<T>(ctx: PullContext, ref: NamedReference, creds: RegistryCredentials, ask: (client: RegistryClient) => Promise<T>): Promise<{ client: RegistryClient; value: T }> {
  const clients = sources(ctx, ref, creds);
  for (const client of clients.slice(0, -1)) {
    try {
      return { client, value: await ask(client) };
    } catch (err) {
      ctx.log.info({ err, mirror: client.baseUrl }, 'mirror failed; trying the next source');
    }
  }
  const registry = clients[clients.length - 1];
  return { client: registry, value: await ask(registry) };
}

async function firstManifest(ctx: PullContext, ref: NamedReference, creds: RegistryCredentials, reference: string) {
  const { client, value } = await fromFirstSource(ctx, ref, creds, (c) => c.manifest(reference));
  return { client, manifest: value };
}

/** The repository's tags (`docker pull -a`). */
async function listTags(ctx: PullContext, ref: NamedReference, creds: RegistryCredentials): Promise<string[]> {
  const { value } = await fromFirstSource(ctx, ref, creds, (c) => c.tags());
  if (value.length === 0) throw new NotFoundError(`no tags found for ${familiarString(ref)}`);
  return value;
}

/** Stores what was pulled in one batch; true when anything changed. */
async function commitPull(ctx: PullContext, p: PulledImage): Promise<boolean> {
  const ops: BatchOp[] = [];
  const existing = await ctx.store.get<ImageRecord>(KEY.image(p.imageId));
  let size = 0;
  const isNew = !existing || existing.removed;
  for (let i = 0; i < p.chain.length; i++) {
    const rec = await ctx.store.get<LayerRecord>(KEY.layer(p.chain[i]));
    const fresh = p.fresh.get(i);
    if (rec) {
      size += rec.size;
      let next = existing ? rec : { ...rec, refs: rec.refs + 1 };
      if (rec.blob?.digest === p.layerDigests[i]) next = withSource(next, p.repo);
      if (next !== rec) ops.push({ type: 'put', key: KEY.layer(p.chain[i]), value: next });
    } else if (fresh) {
      size += fresh.size;
      const layer: LayerRecord = { chainId: p.chain[i], diffId: p.diffIds[i], size: fresh.size, refs: 1, blob: fresh.blob, sources: [p.repo] };
      ops.push({ type: 'put', key: KEY.layer(p.chain[i]), value: layer });
    } else {
      throw new NotFoundError(`layer ${p.chain[i]} vanished while pulling; pull again`);
    }
  }
  const repoDigests = [...new Set([...(existing?.repoDigests ?? []), p.repoDigestRef])];
  const record: ImageRecord = existing
    ? { ...existing, removed: undefined, repoDigests }
    : { id: p.imageId, config: p.config, chainIds: p.chain, size, repoDigests, loadedAt: new Date().toISOString(), ...(p.format === 'oci' ? { format: p.format } : {}) };
  ops.push({ type: 'put', key: KEY.image(p.imageId), value: record });
  let retagged = false;
  if (p.tag) {
    const key = storeKeyOf(p.tag);
    retagged = (await ctx.store.get<string>(KEY.tag(key))) !== p.imageId;
    ops.push({ type: 'put', key: KEY.tag(key), value: p.imageId });
  }
  await commitStaged(ctx.files, ctx.store, {
    configs: [{ id: p.imageId, bytes: p.configBytes }],
    layers: [...p.fresh].map(([i, f]) => ({ chainId: p.chain[i], dir: f.dir })),
    ops,
  });
  return isNew || retagged || p.fresh.size > 0;
}

/** The manifest of an index for `platform` (`os/arch[/variant]`, default linux/<host arch>). */
function choosePlatform(manifests: Descriptor[], platform: string | undefined, hostArch: string): Descriptor {
  const [os, arch, variant] = (platform || `linux/${hostArch}`).split('/');
  const match = manifests.find((m) => m.platform?.os === os && m.platform?.architecture === arch && (!variant || m.platform?.variant === variant));
  if (!match) throw new NotFoundError(`no matching manifest for ${os}/${arch}${variant ? `/${variant}` : ''} in the manifest list entries`);
  return match;
}

function familiarRepo(ref: NamedReference): string {
  return ref.domain === 'docker.io' ? ref.path : `${ref.domain}/${ref.path}`;
}
