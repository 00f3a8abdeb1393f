/**
 * Owns images: their records, tags and layers (see engine/store/schema.ts for the keys and
 * image-store-files.ts for the files). Mutations (load, tag, remove) are serialized by one lock
 * per service; reads see the store as committed.
 */
import { inspectDistribution, type DistributionInspect } from './distribution-inspect';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errNoSuchImage, InvalidParameterError, NotFoundError } from '../../errors';
import { httpGetOk } from '../registry/http';
import type { BatchOp, Store } from '../store/store';
import { KEY, PREFIX } from '../store/schema';
import { chainIds } from '../digest';
import { FsTools } from '../../host/fs-tools';
import { planImageDelete, type DeleteRecord, type PruneImagesResult } from './image-delete';
import { commitNewImage, unpackNewLayer, type CommitContext } from './image-commit';
import { applyConfigChanges } from './config-changes';
import { decompressed } from './compression';
import { imageHistory, type HistoryItem } from './image-history';
import { imageListFilter, imagePruneFilter, shownReferences } from './image-filters';
import type { Filters } from '../filter-args';
import { commitLoad, ingestLoad, type LoadContext } from './image-load';
import { ImageFiles } from './image-store-files';
import { imageInspect, imageSummary, unixSeconds, type ImageInspect, type ImageSummary } from './image-views';
import { familiarOfStored, familiarString, parseAnyReference, parseNormalizedNamed, repoDigestReference, repoTagReference, storeKeyOf, tagNameOnly } from './reference';
import { pullRepository, type PullProgress } from './image-pull';
import { pushImage } from './image-push';
import { withSource } from './layer-sources';
import type { NamedReference } from './reference';
import { RegistryClient, type RegistryCredentials } from '../registry/registry-client';
import { registryEndpoint } from '../registry/endpoint';
import type { ContainerImageConfig, ImageRecord, LayerBlob, LayerRecord } from './types';
import type { Readable } from 'node:stream';
import { packStream } from './pack-stream';
import { layerBlobs, writeSaveArchive, type SaveItem } from './image-save';
import type { EventSink } from '../events/event-log';
import type { ProgressMessage } from '../progress';

export interface ImageServiceDeps {
  store: Store;
  /** `<data-root>/image` */
  root: string;
  log: Logger;
  /** IDs of the containers created from `imageId`. */
  imageUsers: (imageId: string) => Promise<string[]>;
  /** Whether a container is running; without it every user counts as stopped. */
  containerRunning?: (containerId: string) => boolean | Promise<boolean>;
  /** The mknod/setfattr adapter (tests may pass one with other program paths). */
  fsTools?: FsTools;
  events?: EventSink;
  /** `--insecure-registry`: registries reached over plain HTTP besides loopback ones. */
  insecureRegistries?: readonly string[];
  /** `--registry-mirror`: tried first for docker.io pulls. */
  registryMirrors?: readonly string[];
  /** `--registry-certs-dir`: per-registry CA certificates. */
  registryCertsDir?: string;
}

export interface LoadImagesOptions {
  /** Aborts the load (client went away); nothing is stored then. */
  signal?: AbortSignal;
  /** The request's logger, so log lines carry its reqId. */
  log?: Logger;
}

export interface RemoveImageOptions {
  force: boolean;
  /** Keep untagged parent images (by default they go with their last child). */
  noprune: boolean;
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

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export class ImageService {
  private readonly files: ImageFiles;
  private readonly fsTools: FsTools;
  private lock: Promise<unknown> = Promise.resolve();
  /** Layers being pulled right now (see PullContext.inflight). */
  private readonly pullsInFlight = new Map<string, Promise<void>>();

  constructor(private readonly deps: ImageServiceDeps) {
    this.files = new ImageFiles(deps.root);
    this.fsTools = deps.fsTools ?? new FsTools();
  }

  /**
   * Creates the directories, clears interrupted work and removes layer dirs that have no
   * record (a crash between unpacking and committing). Force-removed images are not released
   * here: the container service may not have loaded its containers yet.
   */
  async init(): Promise<void> {
    await this.files.init();
    await this.exclusive(async () => {
      const known = new Set((await this.deps.store.list<LayerRecord>(PREFIX.layer)).map((l) => l.value.chainId));
      for (const chainId of await this.files.layerDirsOnDisk()) {
        if (known.has(chainId)) continue;
        this.deps.log.warn({ layer: chainId }, 'removing layer directory without a record');
        await this.files.removeLayer(chainId);
      }
    });
  }

  /** Loads a `docker save` tarball; returns the lines dockerd prints (`Loaded image: …`). */
  async load(input: NodeJS.ReadableStream, opts: LoadImagesOptions = {}): Promise<string[]> {
    const ctx: LoadContext = {
      store: this.deps.store,
      files: this.files,
      fsTools: this.fsTools,
      log: opts.log ?? this.deps.log,
      hostArch: GOARCH[process.arch] ?? process.arch,
      signal: opts.signal,
      onLoaded: (id, tags, labels) => {
        this.emit(id, id, 'load', labels);
        for (const t of tags) this.emit(id, t, 'tag', labels);
      },
    };
    const workDir = await this.files.workDir('load');
    try {
      const ingested = await ingestLoad(ctx, input, workDir);
      return await this.exclusive(() => commitLoad(ctx, ingested));
    } finally {
      await this.files.removeWorkDir(workDir);
    }
  }

  /**
   * A new image: the parent's layers plus `layer` (docker commit, a build's RUN or COPY), or the
   * parent's layers only with a new config (no `layer`, or one that changes nothing: the history
   * entry is then an empty_layer one, as dockerd records it). The tag is checked before any
   * work; nothing is stored unless everything is.
   */
  async commit(opts: CommitImageOptions): Promise<string> {
    const tag = opts.repo ? repoTagReference(opts.repo, opts.tag || undefined) : undefined;
    const parent = opts.parentId ? await this.resolve(opts.parentId) : undefined;
    const ctx: CommitContext = { store: this.deps.store, files: this.files, fsTools: this.fsTools, log: this.deps.log };
    const workDir = await this.files.workDir('commit');
    try {
      const unpacked = opts.layer ? await unpackNewLayer(ctx, opts.layer, workDir) : undefined;
      const layer = unpacked && !(await isEmptyDir(join(unpacked.dir, 'diff'))) ? unpacked : undefined;
      const created = new Date().toISOString();
      const entry = { created, created_by: opts.createdBy, ...(opts.author ? { author: opts.author } : {}), ...(opts.comment ? { comment: opts.comment } : {}), ...(layer ? {} : { empty_layer: true }) };
      const config = {
        architecture: parent?.config.architecture ?? GOARCH[process.arch] ?? process.arch,
        ...(parent?.config.variant ? { variant: parent.config.variant } : {}),
        os: 'linux',
        created,
        ...(opts.author ? { author: opts.author } : {}),
        ...(opts.comment ? { comment: opts.comment } : {}),
        config: opts.config,
        history: [...(parent?.config.history ?? []), entry],
      };
      const id = await this.exclusive(() => commitNewImage(ctx, { parent, config, layer, tag, buildKey: opts.buildKey }));
      if (tag) this.emit(id, familiarString(tag), 'tag', opts.config.Labels);
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
    const rec = id ? await this.visible(id) : undefined;
    return rec && rec.buildKey === buildKey && rec.parent === parentId ? rec.id : undefined;
  }

  /**
   * --cache-from: step `historyIndex` of `sourceId` (an image with no local build history, e.g.
   * pulled) as a new image on `parentId`: that history entry and, unless it is an empty_layer
   * one, the layer it made (stored already: the parent's layers are the source's first ones).
   */
  async commitCachedStep(opts: { parentId?: string; sourceId: string; historyIndex: number; layerDiffId?: string; config: ContainerImageConfig; buildKey: string; author?: string }): Promise<string> {
    const parent = opts.parentId ? await this.resolve(opts.parentId) : undefined;
    const source = await this.resolve(opts.sourceId);
    const entry = source.config.history?.[opts.historyIndex];
    if (!entry) throw new NotFoundError(`image ${opts.sourceId} has no history entry ${opts.historyIndex}`);
    const diffIds = [...(parent?.config.rootfs.diff_ids ?? []), ...(opts.layerDiffId ? [opts.layerDiffId] : [])];
    const top = opts.layerDiffId ? chainIds(diffIds).at(-1)! : undefined;
    const known = top ? await this.deps.store.get<LayerRecord>(KEY.layer(top)) : undefined;
    if (top && !known) throw new NotFoundError(`layer ${top} of image ${opts.sourceId} is missing`);
    const config = {
      architecture: source.config.architecture ?? parent?.config.architecture ?? GOARCH[process.arch] ?? process.arch,
      os: 'linux',
      created: entry.created,
      ...(opts.author ? { author: opts.author } : {}),
      config: opts.config,
      history: [...(parent?.config.history ?? []), entry],
    };
    const ctx: CommitContext = { store: this.deps.store, files: this.files, fsTools: this.fsTools, log: this.deps.log };
    // The layer is stored (`known`): commitNewImage only counts one more user of it.
    const layer = known && opts.layerDiffId ? { diffId: opts.layerDiffId, size: known.size, dir: '', blob: known.blob ?? { digest: opts.layerDiffId, size: 0, compression: 'none' as const } } : undefined;
    return this.exclusive(() => commitNewImage(ctx, { parent, config, layer, buildKey: opts.buildKey }));
  }

  /** Makes `parentId` the image's parent (--cache-from links a source it used whole to the chain it continues, as dockerd does). */
  async setParent(id: string, parentId: string): Promise<void> {
    await this.exclusive(async () => {
      const rec = await this.deps.store.get<ImageRecord>(KEY.image(id));
      if (rec && rec.parent !== parentId) await this.deps.store.put(KEY.image(id), { ...rec, parent: parentId });
    });
  }

  /**
   * `docker import`: a base image from a filesystem tar (plain or gzip), its config from the
   * `--change` instructions. Returns the new image's ID.
   */
  async importImage(input: NodeJS.ReadableStream, opts: { repo?: string; tag?: string; message?: string; changes?: string[]; source?: string }): Promise<string> {
    if (opts.repo) repoTagReference(opts.repo, opts.tag || undefined); // a bad name fails before any work
    const config = applyConfigChanges({}, opts.changes ?? []);
    const { stream } = await decompressed(input, 'import');
    return this.commit({ layer: stream, config, comment: opts.message || `Imported from ${opts.source ?? '-'}`, createdBy: '', repo: opts.repo, tag: opts.tag });
  }

  /** docker import <URL>: the archive the URL serves (a bare host is taken as http://, as dockerd does). */
  async importUrl(src: string, opts: { repo?: string; tag?: string; message?: string; changes?: string[] }): Promise<string> {
    if (opts.repo) repoTagReference(opts.repo, opts.tag || undefined);
    const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(src) ? src : `http://${src}`;
    if (!/^https?:\/\//i.test(url)) throw new InvalidParameterError(`unsupported URL scheme in ${src}: only http and https can be imported`);
    const res = await httpGetOk(url);
    return this.importImage(res.body, { ...opts, source: src });
  }

  /**
   * GET /images/get: one archive of the named images (tags as named; an ID saves the image
   * untagged). Everything is checked before the stream starts.
   */
  async save(names: string[]): Promise<Readable> {
    if (names.length === 0) throw new InvalidParameterError('no images given');
    const items = new Map<string, SaveItem>();
    for (const name of names) {
      const rec = await this.resolve(name);
      const item = items.get(rec.id) ?? { rec, refs: [] };
      items.set(rec.id, item);
      const parsed = parseAnyReference(name);
      if (parsed.kind === 'id') continue;
      const ref = tagNameOnly(parsed.ref);
      if (!ref.tag || item.refs.some((r) => r.full === storeKeyOf(ref))) continue;
      // Only a tag that names this very image (not an ID prefix that looked like a name).
      if ((await this.deps.store.get<string>(KEY.tag(storeKeyOf(ref)))) !== rec.id) continue;
      item.refs.push({ full: storeKeyOf(ref), familiar: familiarString(ref), tag: ref.tag });
    }
    const layer = (chainId: string) => this.deps.store.get<LayerRecord>(KEY.layer(chainId));
    // Checked now: once the stream started, an error can only cut it short.
    for (const { rec } of items.values()) await layerBlobs(rec, layer, 'save');
    const { pack, out } = packStream();
    writeSaveArchive(pack, [...items.values()], { files: this.files, layer }).catch((err: Error) => {
      this.deps.log.warn({ err }, 'save failed');
      out.destroy(err);
    });
    return out;
  }

  /** GET /distribution/{name}/json: the registry's descriptor and platforms for `name`, nothing pulled. */
  async distributionInspect(name: string, opts: { creds?: RegistryCredentials; log?: Logger } = {}): Promise<DistributionInspect> {
    const ctx = {
      log: opts.log ?? this.deps.log,
      insecureRegistries: this.deps.insecureRegistries ?? [],
      registryMirrors: this.deps.registryMirrors ?? [],
      certsDir: this.deps.registryCertsDir,
    };
    return inspectDistribution(ctx, name, opts.creds ?? {});
  }

  /**
   * POST /images/create?fromImage=: pulls `ref` (tag or digest; a bare name: every tag) from
   * its registry, reporting progress as dockerd's JSON messages. Returns the image IDs.
   */
  async pull(refText: string, opts: { platform?: string; creds?: RegistryCredentials; progress: (p: PullProgress) => void; log?: Logger; signal?: AbortSignal }): Promise<string[]> {
    const ref = parseNormalizedNamed(refText);
    const workDir = await this.files.workDir('pull');
    try {
      return await pullRepository(
        {
          store: this.deps.store,
          files: this.files,
          fsTools: this.fsTools,
          log: opts.log ?? this.deps.log,
          hostArch: GOARCH[process.arch] ?? process.arch,
          insecureRegistries: this.deps.insecureRegistries ?? [],
          registryMirrors: this.deps.registryMirrors ?? [],
          certsDir: this.deps.registryCertsDir,
          progress: opts.progress,
          signal: opts.signal,
          exclusive: (fn) => this.exclusive(fn),
          inflight: this.pullsInFlight,
        },
        ref,
        opts.creds ?? {},
        workDir,
        opts.platform,
      );
    } finally {
      await this.files.removeWorkDir(workDir);
    }
  }

  /**
   * POST /images/{name}/push: pushes `name:tag`, or every tag of the repository when no tag is
   * given; the manifest digest becomes a RepoDigest of the image.
   */
  async push(name: string, tag: string | undefined, opts: { creds?: RegistryCredentials; progress: (p: ProgressMessage) => void; signal?: AbortSignal }): Promise<void> {
    const base = parseNormalizedNamed(name);
    const refs = await this.refsByImage();
    const targets: NamedReference[] = [];
    if (tag || base.tag) targets.push({ domain: base.domain, path: base.path, tag: tag || base.tag });
    else {
      for (const list of refs.values()) {
        for (const stored of list) {
          const r = parseNormalizedNamed(familiarOfStored(stored));
          if (r.tag && !r.digest && r.domain === base.domain && r.path === base.path) targets.push(r);
        }
      }
    }
    if (targets.length === 0) throw new NotFoundError(`An image does not exist locally with the tag: ${familiarString(base)}`);
    for (const target of targets) {
      const rec = await this.resolve(familiarString(target)).catch(() => {
        throw new NotFoundError(`An image does not exist locally with the tag: ${familiarString(target)}`);
      });
      const { digest } = await pushImage(
        {
          files: this.files,
          layer: (c) => this.deps.store.get<LayerRecord>(KEY.layer(c)),
          insecureRegistries: this.deps.insecureRegistries ?? [],
          certsDir: this.deps.registryCertsDir,
          progress: opts.progress,
          signal: opts.signal,
          recordSource: (chainIds, repo) => this.recordLayerSource(chainIds, repo),
          keepCompressed: (chainId, oldDigest, copyPath, blob) => this.keepCompressedBlob(chainId, oldDigest, copyPath, blob),
        },
        target,
        rec,
        opts.creds ?? {},
      );
      await this.exclusive(async () => {
        const current = await this.deps.store.get<ImageRecord>(KEY.image(rec.id));
        if (!current) return;
        const repoDigest = repoDigestReference(target, digest);
        if (!current.repoDigests.includes(repoDigest)) await this.deps.store.batch([{ type: 'put', key: KEY.image(rec.id), value: { ...current, repoDigests: [...current.repoDigests, repoDigest] } }]);
      });
    }
  }

  /** A push compressed the layer's blob: the compressed file replaces it (see pushLayer). */
  private async keepCompressedBlob(chainId: string, oldDigest: string, copyPath: string, blob: LayerBlob): Promise<void> {
    await this.exclusive(async () => {
      const layer = await this.deps.store.get<LayerRecord>(KEY.layer(chainId));
      if (!layer?.blob || layer.blob.digest !== oldDigest) return;
      await this.files.moveIntoLayer(chainId, copyPath, blob);
      // The old blob's sources do not hold the new one.
      await this.deps.store.batch([{ type: 'put', key: KEY.layer(chainId), value: { ...layer, blob, sources: undefined } }]);
      await rm(this.files.layerBlobPath(chainId, layer.blob), { force: true });
    });
  }

  /** Notes that `repo` holds these layers' blobs (a later push elsewhere can mount them). */
  private async recordLayerSource(chainIds: string[], repo: string): Promise<void> {
    await this.exclusive(async () => {
      const ops: BatchOp[] = [];
      for (const chainId of chainIds) {
        const layer = await this.deps.store.get<LayerRecord>(KEY.layer(chainId));
        const next = layer && withSource(layer, repo);
        if (next && next !== layer) ops.push({ type: 'put', key: KEY.layer(chainId), value: next });
      }
      if (ops.length) await this.deps.store.batch(ops);
    });
  }

  /** POST /auth: credentials checked against the registry (docker.io when none is named). */
  async login(creds: RegistryCredentials & { serveraddress?: string }): Promise<{ Status: string; IdentityToken: string }> {
    const address = (creds.serveraddress || 'docker.io').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const domain = address === 'index.docker.io' || address === 'registry-1.docker.io' ? 'docker.io' : address;
    await new RegistryClient(registryEndpoint(domain, this.deps.insecureRegistries ?? [], this.deps.registryCertsDir), '', creds).checkLogin();
    return { Status: 'Login Succeeded', IdentityToken: '' };
  }

  /** GET /images/{name}/history */
  async history(ref: string): Promise<HistoryItem[]> {
    const rec = await this.resolve(ref);
    const refs = await this.refsByImage();
    return imageHistory(rec, {
      image: (id) => this.visible(id),
      tags: async (id) => tagNames(refs, id),
      layerSize: async (chainId) => (await this.deps.store.get<LayerRecord>(KEY.layer(chainId)))?.size ?? 0,
    });
  }

  /**
   * GET /images/json items, newest first, filtered; without `all`, untagged images that are the
   * parent of another (docker commit's intermediates) are left out, as dockerd does.
   */
  async list(filters: Filters = {}, all = false): Promise<ImageSummary[]> {
    const refs = await this.refsByImage();
    const images = (await this.deps.store.list<ImageRecord>(PREFIX.image)).map((e) => e.value).filter((r) => !r.removed);
    const names = (r: ImageRecord) => tagNames(refs, r.id);
    const keep = await imageListFilter(filters, { names, resolve: (ref) => this.resolve(ref), now: Date.now() });
    const parents = new Set(images.map((r) => r.parent).filter(Boolean));
    const shown = images.filter((r) => keep(r) && (all || names(r).length > 0 || !parents.has(r.id)));
    shown.sort((a, b) => unixSeconds(b.config.created) - unixSeconds(a.config.created) || (a.id < b.id ? -1 : 1));
    const listed = shownReferences(filters);
    // Containers counts the image's users (dockerd fills it from API 1.51; older versions see -1).
    return Promise.all(shown.map(async (r) => ({ ...imageSummary(r, refs.get(r.id) ?? [], listed), Containers: (await this.deps.imageUsers(r.id)).length })));
  }

  /**
   * POST /images/prune: removes the images the filters select (dangling ones by default) that no
   * container uses; returns what went and the bytes of the layers freed.
   */
  async prune(filters: Filters): Promise<PruneImagesResult> {
    const refs = await this.refsByImage();
    const names = (r: ImageRecord) => tagNames(refs, r.id);
    const keep = imagePruneFilter(filters, { names, now: Date.now() });
    const candidates = (await this.deps.store.list<ImageRecord>(PREFIX.image)).map((e) => e.value).filter((r) => !r.removed && keep(r));
    const layerSizes = new Map((await this.deps.store.list<LayerRecord>(PREFIX.layer)).map((e) => [e.value.chainId, e.value.size]));
    const deleted: DeleteRecord[] = [];
    let reclaimed = 0;
    for (const rec of candidates) {
      if ((await this.deps.imageUsers(rec.id)).length > 0) continue;
      try {
        for (const ref of refs.get(rec.id) ?? []) deleted.push(...(await this.remove(familiarOfStored(ref), { force: false, noprune: false })));
        if (await this.visible(rec.id)) deleted.push(...(await this.remove(rec.id, { force: false, noprune: false })));
      } catch (err) {
        this.deps.log.debug({ err, image: rec.id }, 'image kept by prune');
      }
    }
    for (const r of deleted) if ('Deleted' in r) reclaimed += layerSizes.get(r.Deleted) ?? 0;
    return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }

  /**
   * `docker system df`: the layers' total size and each image with the bytes it shares with
   * other images (layers more than one image uses).
   */
  async diskUsage(): Promise<{ LayersSize: number; Images: ImageSummary[] }> {
    const refs = await this.refsByImage();
    const images = (await this.deps.store.list<ImageRecord>(PREFIX.image)).map((e) => e.value).filter((r) => !r.removed);
    const layers = new Map((await this.deps.store.list<LayerRecord>(PREFIX.layer)).map((e) => [e.value.chainId, e.value]));
    const LayersSize = [...layers.values()].reduce((sum, l) => sum + l.size, 0);
    const Images = images.map((r) => ({
      ...imageSummary(r, refs.get(r.id) ?? []),
      SharedSize: r.chainIds.reduce((sum, c) => sum + ((layers.get(c)?.refs ?? 0) > 1 ? (layers.get(c)?.size ?? 0) : 0), 0),
    }));
    return { LayersSize, Images };
  }

  /** GET /images/{name}/json */
  async inspect(ref: string): Promise<ImageInspect> {
    const record = await this.resolve(ref);
    return imageInspect(record, (await this.refsByImage()).get(record.id) ?? [], this.files);
  }

  /**
   * Finds an image as dockerd does: full ID (`sha256:<hex>` or 64 hex), then reference
   * (`busybox` = docker.io/library/busybox:latest, `name@sha256:…`), then unique ID prefix.
   */
  async resolve(ref: string): Promise<ImageRecord> {
    const parsed = parseAnyReference(ref);
    if (parsed.kind === 'id') {
      const record = await this.visible(parsed.id);
      if (!record) throw errNoSuchImage(ref);
      return record;
    }
    const id = await this.deps.store.get<string>(KEY.tag(storeKeyOf(parsed.ref)));
    const tagged = id ? await this.visible(id) : undefined;
    if (tagged) return tagged;
    if (parsed.ref.digest) {
      // `repo@sha256:…`: the image pulled or pushed with that manifest digest (its RepoDigests).
      const wanted = repoDigestReference(parsed.ref, parsed.ref.digest);
      const byDigest = (await this.deps.store.list<ImageRecord>(PREFIX.image)).find((e) => !e.value.removed && e.value.repoDigests.includes(wanted));
      if (byDigest) return byDigest.value;
    }
    const byPrefix = await this.findByPrefix(ref);
    if (byPrefix) return byPrefix;
    throw errNoSuchImage(familiarString(tagNameOnly(parsed.ref)));
  }

  async imageIdOf(ref: string): Promise<string> {
    return (await this.resolve(ref)).id;
  }

  /** Number of (visible) images. */
  async count(): Promise<number> {
    return (await this.deps.store.list<ImageRecord>(PREFIX.image)).filter((e) => !e.value.removed).length;
  }

  /** POST /images/{name}/tag: points `repo:tag` (tag defaults to latest) at the image. */
  async tag(source: string, repo: string, tag?: string): Promise<void> {
    const target = repoTagReference(repo, tag);
    await this.exclusive(async () => {
      const record = await this.resolve(source).catch((err: unknown) => {
        throw err instanceof NotFoundError ? err : new NotFoundError((err as Error).message, { cause: err });
      });
      const now = new Date().toISOString();
      await this.deps.store.batch([
        { type: 'put', key: KEY.tag(storeKeyOf(target)), value: record.id },
        { type: 'put', key: KEY.image(record.id), value: { ...record, lastTagTime: now } },
      ]);
      this.deps.log.info({ image: record.id }, 'image tagged');
      this.emit(record.id, familiarString(target), 'tag', record.config.config?.Labels);
    });
  }

  /**
   * DELETE /images/{name}: untags and deletes like `docker rmi`; unless `noprune`, untagged
   * parents (commit intermediates) that nothing else holds go with it.
   */
  async remove(ref: string, opts: RemoveImageOptions): Promise<DeleteRecord[]> {
    if (ref.trim() === '') throw new InvalidParameterError('image name cannot be blank');
    return this.exclusive(async () => {
      await this.dropUnusedRemoved();
      const record = await this.resolve(ref);
      const users = await this.usersOf(record.id);
      const refs = (await this.refsByImage()).get(record.id) ?? [];
      const children = await this.childCount(record.id);
      const plan = planImageDelete({ imageId: record.id, ref, refs, users, children, force: opts.force });
      const untagOps: BatchOp[] = plan.untag.map((key) => ({ type: 'del', key: KEY.tag(key) }));
      if (!plan.deleteImage) await this.deps.store.batch(untagOps);
      for (const r of plan.records) if ('Untagged' in r) this.emit(record.id, r.Untagged, 'untag', record.config.config?.Labels);
      if (!plan.deleteImage) return plan.records;
      const records = [...plan.records, ...(await this.deleteImage(record, users.length > 0, untagOps))];
      if (!opts.noprune) records.push(...(await this.pruneParents(record.parent)));
      return records;
    });
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
    await this.deps.store.batch(ops);
    await this.removeFiles(used ? undefined : record.id, freed);
    this.deps.log.info({ image: record.id }, 'image deleted');
    this.emit(record.id, record.id, 'delete', record.config.config?.Labels);
    return [{ Deleted: record.id }, ...freed.map((chainId) => ({ Deleted: chainId }))];
  }

  /** dockerd's parent pruning: each untagged ancestor no container or other child holds goes. */
  private async pruneParents(parentId: string | undefined): Promise<DeleteRecord[]> {
    const records: DeleteRecord[] = [];
    const refs = await this.refsByImage();
    for (let parent = parentId ? await this.visible(parentId) : undefined; parent; parent = parent.parent ? await this.visible(parent.parent) : undefined) {
      if ((refs.get(parent.id) ?? []).length > 0) break;
      if ((await this.deps.imageUsers(parent.id)).length > 0) break;
      if ((await this.childCount(parent.id)) > 0) break;
      records.push(...(await this.deleteImage(parent, false)));
    }
    return records;
  }

  private async usersOf(imageId: string): Promise<Array<{ id: string; running: boolean }>> {
    const ids = await this.deps.imageUsers(imageId);
    return Promise.all(ids.map(async (id) => ({ id, running: (await this.deps.containerRunning?.(id)) ?? false })));
  }

  /** Visible images whose parent is `imageId`. */
  private async childCount(imageId: string): Promise<number> {
    return (await this.deps.store.list<ImageRecord>(PREFIX.image)).filter((e) => !e.value.removed && e.value.parent === imageId).length;
  }

  /** An image event (dockerd's LogImageEvent): the image's labels and the name it was acted on by. */
  private emit(imageId: string, name: string, action: string, labels: Record<string, string> | null | undefined): void {
    this.deps.events?.publish('image', action, { ID: imageId, Attributes: { ...(labels ?? {}), name } });
  }

  /** Absolute diff dirs of the image's layers, top-most first (overlayfs lowerdir order). */
  async layerDirs(imageId: string): Promise<string[]> {
    const record = await this.deps.store.get<ImageRecord>(KEY.image(imageId));
    if (!record) throw errNoSuchImage(imageId);
    return record.chainIds.map((c) => this.files.diffDir(c)).reverse();
  }

  /**
   * Drops images that were force-removed while containers used them, once no container does.
   * Runs before each removal; the container service should call it after removing a container
   * so the space is freed at once.
   */
  async releaseRemoved(): Promise<void> {
    await this.exclusive(() => this.dropUnusedRemoved());
  }

  private async dropUnusedRemoved(): Promise<void> {
    const removed = (await this.deps.store.list<ImageRecord>(PREFIX.image)).map((e) => e.value).filter((r) => r.removed);
    for (const record of removed) {
      if ((await this.deps.imageUsers(record.id)).length > 0) continue;
      const { ops, freed } = await this.releaseImageOps(record);
      await this.deps.store.batch(ops);
      await this.removeFiles(record.id, freed);
      this.deps.log.info({ image: record.id }, 'released removed image');
    }
  }

  /** Store ops deleting `record` and dropping its layer references; `freed`: top-most first. */
  private async releaseImageOps(record: ImageRecord): Promise<{ ops: BatchOp[]; freed: string[] }> {
    const ops: BatchOp[] = [{ type: 'del', key: KEY.image(record.id) }];
    if (record.buildKey) ops.push({ type: 'del', key: KEY.buildCache(record.parent, record.buildKey) });
    const freed: string[] = [];
    for (const chainId of [...record.chainIds].reverse()) {
      const layer = await this.deps.store.get<LayerRecord>(KEY.layer(chainId));
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
      if (imageId) await this.files.removeBlob(imageId);
      for (const chainId of layers) await this.files.removeLayer(chainId);
    } catch (err) {
      // The records are gone; init() removes layer dirs without a record.
      this.deps.log.warn({ err, image: imageId }, 'cannot remove image files');
    }
  }

  private async visible(id: string): Promise<ImageRecord | undefined> {
    const record = await this.deps.store.get<ImageRecord>(KEY.image(id));
    return record && !record.removed ? record : undefined;
  }

  /** A unique visible image whose ID starts with `prefix` (with or without `sha256:`). */
  private async findByPrefix(prefix: string): Promise<ImageRecord | undefined> {
    const hex = prefix.startsWith('sha256:') ? prefix.slice('sha256:'.length) : prefix;
    if (!/^[a-f0-9]+$/.test(hex)) return undefined;
    const matches = await this.deps.store.list<ImageRecord>(KEY.image(`sha256:${hex}`));
    const visible = matches.map((m) => m.value).filter((r) => !r.removed);
    return visible.length === 1 ? visible[0] : undefined;
  }

  /** Stored references (tags and digests) grouped by image ID. */
  private async refsByImage(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const { key, value } of await this.deps.store.list<string>(PREFIX.tag)) {
      const list = out.get(value) ?? [];
      list.push(key.slice(PREFIX.tag.length));
      out.set(value, list);
    }
    return out;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

export type { DeleteRecord };

async function isEmptyDir(dir: string): Promise<boolean> {
  return (await readdir(dir)).length === 0;
}

/** The familiar `repo:tag` names of an image among the stored references (digests left out). */
function tagNames(refs: Map<string, string[]>, imageId: string): string[] {
  return (refs.get(imageId) ?? []).filter((r) => !r.includes('@')).map(familiarOfStored);
}
