/**
 * Images in and out as archives: `docker load` and `docker save` (the tarball formats are in
 * image-load.ts, image-save.ts and their helpers) and `docker import` of a filesystem tar, from
 * the request body or a URL, which becomes a new image through the commit entry point.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { InvalidParameterError } from '../../errors';
import { httpGetOk } from '../registry/http';
import { KEY } from '../store/schema';
import { decompressed } from './compression';
import { applyConfigChanges } from './config-changes';
import { commitLoad, ingestLoad, type LoadContext } from './image-load';
import { HOST_ARCH, type ImageRecords } from './image-records';
import { layerBlobs, writeSaveArchive, type SaveItem } from './image-save';
import { packStream } from './pack-stream';
import { familiarString, parseAnyReference, repoTagReference, storeKeyOf, tagNameOnly } from './reference';
import type { ContainerImageConfig } from './types';

export interface LoadImagesOptions {
  /** Aborts the load (client went away); nothing is stored then. */
  signal?: AbortSignal;
  /** The request's logger, so log lines carry its reqId. */
  log?: Logger;
}

export interface ImportImageOptions {
  repo?: string;
  tag?: string;
  message?: string;
  changes?: string[];
}

/** What an import asks of the commit entry point (ImageService.commit). */
export type CommitBaseImage = (opts: { layer: Readable; config: ContainerImageConfig; comment: string; createdBy: string; repo?: string; tag?: string }) => Promise<string>;

export class ImageArchives {
  constructor(
    private readonly records: ImageRecords,
    private readonly commit: CommitBaseImage,
  ) {}

  /** Loads a `docker save` tarball; returns the lines dockerd prints (`Loaded image: …`). */
  async load(input: NodeJS.ReadableStream, opts: LoadImagesOptions = {}): Promise<string[]> {
    const { files } = this.records;
    const ctx: LoadContext = {
      store: this.records.store,
      files,
      fsTools: this.records.fsTools,
      log: opts.log ?? this.records.log,
      hostArch: HOST_ARCH,
      signal: opts.signal,
      onLoaded: (id, tags, labels) => {
        this.records.emit(id, id, 'load', labels);
        for (const t of tags) this.records.emit(id, t, 'tag', labels);
      },
    };
    const workDir = await files.workDir('load');
    try {
      const ingested = await ingestLoad(ctx, input, workDir);
      return await this.records.exclusive(() => commitLoad(ctx, ingested));
    } finally {
      await files.removeWorkDir(workDir);
    }
  }

  /**
   * GET /images/get: one archive of the named images (tags as named; an ID saves the image
   * untagged). Everything is checked before the stream starts.
   */
  async save(names: string[]): Promise<Readable> {
    if (names.length === 0) throw new InvalidParameterError('no images given');
    const items = new Map<string, SaveItem>();
    for (const name of names) {
      const rec = await this.records.resolve(name);
      const item = items.get(rec.id) ?? { rec, refs: [] };
      items.set(rec.id, item);
      const parsed = parseAnyReference(name);
      if (parsed.kind === 'id') continue;
      const ref = tagNameOnly(parsed.ref);
      if (!ref.tag || item.refs.some((r) => r.full === storeKeyOf(ref))) continue;
      // Only a tag that names this very image (not an ID prefix that looked like a name).
      if ((await this.records.store.get<string>(KEY.tag(storeKeyOf(ref)))) !== rec.id) continue;
      item.refs.push({ full: storeKeyOf(ref), familiar: familiarString(ref), tag: ref.tag });
    }
    const layer = (chainId: string) => this.records.layer(chainId);
    // Checked now: once the stream started, an error can only cut it short.
    for (const { rec } of items.values()) await layerBlobs(rec, layer, 'save');
    const { pack, out } = packStream();
    writeSaveArchive(pack, [...items.values()], { files: this.records.files, layer }).catch((err: Error) => {
      this.records.log.warn({ err }, 'save failed');
      out.destroy(err);
    });
    return out;
  }

  /**
   * `docker import`: a base image from a filesystem tar (plain or gzip), its config from the
   * `--change` instructions. Returns the new image's ID.
   */
  async importImage(input: NodeJS.ReadableStream, opts: ImportImageOptions & { source?: string }): Promise<string> {
    if (opts.repo) repoTagReference(opts.repo, opts.tag || undefined); // a bad name fails before any work
    const config = applyConfigChanges({}, opts.changes ?? []);
    const { stream } = await decompressed(input, 'import');
    return this.commit({ layer: stream, config, comment: opts.message || `Imported from ${opts.source ?? '-'}`, createdBy: '', repo: opts.repo, tag: opts.tag });
  }

  /** docker import <URL>: the archive the URL serves (a bare host is taken as http://, as dockerd does). */
  async importUrl(src: string, opts: ImportImageOptions): Promise<string> {
    if (opts.repo) repoTagReference(opts.repo, opts.tag || undefined);
    const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(src) ? src : `http://${src}`;
    if (!/^https?:\/\//i.test(url)) throw new InvalidParameterError(`unsupported URL scheme in ${src}: only http and https can be imported`);
    const res = await httpGetOk(url);
    return this.importImage(res.body, { ...opts, source: src });
  }
}
