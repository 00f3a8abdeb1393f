/**
 * The image service's files under `<data-root>/image`:
 *
 *   blobs/sha256/<hex>        content-addressed blobs (image configs)
 *   layers/<chain-hex>/diff   unpacked layers, keyed by chain ID
 *   tmp/                      ingest and unpack work dirs; emptied at start
 *
 * Blobs are written under a temporary name in tmp/, fsynced, verified, renamed into place and
 * the directory fsynced, so a blob is either complete or absent.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hexOf, sha256Digest } from '../digest';
import type { LayerBlob } from './types';

export class ImageFiles {
  readonly blobsDir: string;
  readonly layersDir: string;
  readonly tmpDir: string;

  constructor(readonly root: string) {
    this.blobsDir = join(root, 'blobs', 'sha256');
    this.layersDir = join(root, 'layers');
    this.tmpDir = join(root, 'tmp');
  }

  /** Creates the directories and empties tmp/ (leftovers of an interrupted load). */
  async init(): Promise<void> {
    await mkdir(this.blobsDir, { recursive: true, mode: 0o700 });
    await mkdir(this.layersDir, { recursive: true, mode: 0o700 });
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
  }

  blobPath(digest: string): string {
    return join(this.blobsDir, hexOf(digest));
  }

  /** `layers/<chain-hex>`: the layer's own directory. */
  layerDir(chainId: string): string {
    return join(this.layersDir, hexOf(chainId));
  }

  /** `layers/<chain-hex>/blob` (or the blob's own file name): its kept bytes (see LayerRecord.blob). */
  layerBlobPath(chainId: string, blob?: LayerBlob): string {
    return join(this.layerDir(chainId), blob?.file ?? 'blob');
  }

  /** A path under tmp/ (same filesystem as the layers) for a file to be moved into place. */
  tempPath(prefix: string): string {
    return join(this.tmpDir, `${prefix}-${randomBytes(8).toString('hex')}`);
  }

  /** `layers/<chain-hex>/diff`: what overlayfs stacks. */
  diffDir(chainId: string): string {
    return join(this.layerDir(chainId), 'diff');
  }

  /** A fresh private work directory under tmp/. */
  async workDir(prefix: string): Promise<string> {
    return mkdtemp(join(this.tmpDir, `${prefix}-`));
  }

  async removeWorkDir(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }

  /** Chain IDs (`sha256:<hex>`) of the layer directories present on disk. */
  async layerDirsOnDisk(): Promise<string[]> {
    const names = await readdir(this.layersDir).catch(() => [] as string[]);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  /**
   * Stores `data` as the blob `digest`, durably. Returns false when it was already there.
   * Throws when `data` does not have that digest.
   */
  async writeBlob(digest: string, data: Buffer): Promise<boolean> {
    if (sha256Digest(data) !== digest) throw new Error(`blob content does not match ${digest}`);
    const target = this.blobPath(digest);
    if (await exists(target)) return false;
    const tmp = join(this.tmpDir, `blob-${randomBytes(8).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
    await fsyncDir(this.blobsDir);
    return true;
  }

  async removeBlob(digest: string): Promise<void> {
    await rm(this.blobPath(digest), { force: true });
  }

  /** Moves a finished file into the layer's dir as `blob`'s file, durably. */
  async moveIntoLayer(chainId: string, path: string, blob: LayerBlob): Promise<void> {
    const fh = await open(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(path, this.layerBlobPath(chainId, blob));
    await fsyncDir(this.layerDir(chainId));
  }

  /** Moves an unpacked layer dir (containing `diff/`) into place. */
  async commitLayer(chainId: string, unpackedDir: string): Promise<void> {
    const target = this.layerDir(chainId);
    await rm(target, { recursive: true, force: true }); // a leftover without a record
    await rename(unpackedDir, target);
  }

  async removeLayer(chainId: string): Promise<void> {
    await rm(this.layerDir(chainId), { recursive: true, force: true });
  }

  async syncLayersDir(): Promise<void> {
    await fsyncDir(this.layersDir);
  }
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
