/**
 * The last step of every way an image arrives (load, pull, commit/import): config blobs written,
 * unpacked layer dirs moved into place, then the records in one store batch. If anything fails,
 * what this step put on disk is removed again, so a failed arrival leaves no blob or layer dir
 * without a record (and init() sweeps any a crash leaves).
 */
import type { BatchOp, Store } from '../store/store';
import type { ImageFiles } from './image-store-files';

export interface StagedImages {
  /** Image config blobs (`id` is the blob's digest); ones already stored are left alone. */
  configs: Array<{ id: string; bytes: Buffer }>;
  /** Unpacked layer work dirs (holding `diff/`) to become `layers/<chain>`. */
  layers: Array<{ chainId: string; dir: string }>;
  /** The layer, image and tag records. */
  ops: BatchOp[];
}

export async function commitStaged(files: ImageFiles, store: Store, staged: StagedImages): Promise<void> {
  const written: string[] = [];
  const moved: string[] = [];
  try {
    for (const c of staged.configs) if (await files.writeBlob(c.id, c.bytes)) written.push(c.id);
    for (const l of staged.layers) {
      await files.commitLayer(l.chainId, l.dir);
      moved.push(l.chainId);
    }
    if (moved.length > 0) await files.syncLayersDir();
    await store.batch(staged.ops);
  } catch (err) {
    await Promise.all([...moved.map((c) => files.removeLayer(c).catch(() => undefined)), ...written.map((d) => files.removeBlob(d).catch(() => undefined))]);
    throw err;
  }
}
