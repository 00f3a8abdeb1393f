/**
 * The image records every part of the image engine works over (see engine/store/schema.ts for
 * the keys and image-store-files.ts for the files): lookup as dockerd resolves names, the
 * references by image, tagging, the one lock that serializes mutations (reads see the store as
 * committed) and image events.
 */
import type { Logger } from 'pino';
import { errNoSuchImage, NotFoundError } from '../../errors';
import type { FsTools } from '../../host/fs-tools';
import type { EventSink } from '../events/event-log';
import { KEY, PREFIX } from '../store/schema';
import type { Store } from '../store/store';
import type { ImageFiles } from './image-store-files';
import { familiarOfStored, familiarString, parseAnyReference, repoDigestReference, repoTagReference, storeKeyOf, tagNameOnly } from './reference';
import type { ImageRecord, LayerRecord } from './types';

/** Node's process.arch as Go's GOARCH, which image configs carry. */
const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
export const HOST_ARCH = GOARCH[process.arch] ?? process.arch;

export interface ImageRecordsDeps {
  store: Store;
  files: ImageFiles;
  fsTools: FsTools;
  log: Logger;
  events?: EventSink;
}

export class ImageRecords {
  readonly store: Store;
  readonly files: ImageFiles;
  readonly fsTools: FsTools;
  readonly log: Logger;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ImageRecordsDeps) {
    this.store = deps.store;
    this.files = deps.files;
    this.fsTools = deps.fsTools;
    this.log = deps.log;
  }

  /**
   * Creates the directories, clears interrupted work and removes layer dirs that have no
   * record (a crash between unpacking and committing). Force-removed images are not released
   * here: the container service may not have loaded its containers yet.
   */
  async init(): Promise<void> {
    await this.files.init();
    await this.exclusive(async () => {
      const known = new Set((await this.store.list<LayerRecord>(PREFIX.layer)).map((l) => l.value.chainId));
      for (const chainId of await this.files.layerDirsOnDisk()) {
        if (known.has(chainId)) continue;
        this.log.warn({ layer: chainId }, 'removing layer directory without a record');
        await this.files.removeLayer(chainId);
      }
    });
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
    const id = await this.store.get<string>(KEY.tag(storeKeyOf(parsed.ref)));
    const tagged = id ? await this.visible(id) : undefined;
    if (tagged) return tagged;
    if (parsed.ref.digest) {
      // `repo@sha256:…`: the image pulled or pushed with that manifest digest (its RepoDigests).
      const wanted = repoDigestReference(parsed.ref, parsed.ref.digest);
      const byDigest = (await this.store.list<ImageRecord>(PREFIX.image)).find((e) => !e.value.removed && e.value.repoDigests.includes(wanted));
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
    return (await this.store.list<ImageRecord>(PREFIX.image)).filter((e) => !e.value.removed).length;
  }

  /** POST /images/{name}/tag: points `repo:tag` (tag defaults to latest) at the image. */
  async tag(source: string, repo: string, tag?: string): Promise<void> {
    const target = repoTagReference(repo, tag);
    await this.exclusive(async () => {
      const record = await this.resolve(source).catch((err: unknown) => {
        throw err instanceof NotFoundError ? err : new NotFoundError((err as Error).message, { cause: err });
      });
      const now = new Date().toISOString();
      await this.store.batch([
        { type: 'put', key: KEY.tag(storeKeyOf(target)), value: record.id },
        { type: 'put', key: KEY.image(record.id), value: { ...record, lastTagTime: now } },
      ]);
      this.log.info({ image: record.id }, 'image tagged');
      this.emit(record.id, familiarString(target), 'tag', record.config.config?.Labels);
    });
  }

  /** Absolute diff dirs of the image's layers, top-most first (overlayfs lowerdir order). */
  async layerDirs(imageId: string): Promise<string[]> {
    const record = await this.store.get<ImageRecord>(KEY.image(imageId));
    if (!record) throw errNoSuchImage(imageId);
    return record.chainIds.map((c) => this.files.diffDir(c)).reverse();
  }

  /** An image record unless it is missing or force-removed (hidden while containers use it). */
  async visible(id: string): Promise<ImageRecord | undefined> {
    const record = await this.store.get<ImageRecord>(KEY.image(id));
    return record && !record.removed ? record : undefined;
  }

  /** Visible images whose parent is `imageId`. */
  async childCount(imageId: string): Promise<number> {
    return (await this.store.list<ImageRecord>(PREFIX.image)).filter((e) => !e.value.removed && e.value.parent === imageId).length;
  }

  layer(chainId: string): Promise<LayerRecord | undefined> {
    return this.store.get<LayerRecord>(KEY.layer(chainId));
  }

  /** Stored references (tags and digests) grouped by image ID. */
  async refsByImage(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const { key, value } of await this.store.list<string>(PREFIX.tag)) {
      const list = out.get(value) ?? [];
      list.push(key.slice(PREFIX.tag.length));
      out.set(value, list);
    }
    return out;
  }

  /** An image event (dockerd's LogImageEvent): the image's labels and the name it was acted on by. */
  emit(imageId: string, name: string, action: string, labels: Record<string, string> | null | undefined): void {
    this.deps.events?.publish('image', action, { ID: imageId, Attributes: { ...(labels ?? {}), name } });
  }

  /** Runs `fn` after every mutation queued before it (one at a time per image store). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** A unique visible image whose ID starts with `prefix` (with or without `sha256:`). */
  private async findByPrefix(prefix: string): Promise<ImageRecord | undefined> {
    const hex = prefix.startsWith('sha256:') ? prefix.slice('sha256:'.length) : prefix;
    if (!/^[a-f0-9]+$/.test(hex)) return undefined;
    const matches = await this.store.list<ImageRecord>(KEY.image(`sha256:${hex}`));
    const visible = matches.map((m) => m.value).filter((r) => !r.removed);
    return visible.length === 1 ? visible[0] : undefined;
  }
}

/** The familiar `repo:tag` names of an image among the stored references (digests left out). */
export function tagNames(refs: Map<string, string[]>, imageId: string): string[] {
  return (refs.get(imageId) ?? []).filter((r) => !r.includes('@')).map(familiarOfStored);
}
