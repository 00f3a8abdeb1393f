/**
 * Turns one layer file from an archive into an unpacked diff directory, measuring on the way the
 * two digests that identify it: the digest of the stored bytes (the blob, possibly compressed)
 * and the diff ID (sha256 of the uncompressed tar). Also measures a diff's size the way dockerd
 * does (see tree-size.ts).
 */
import { createReadStream } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Logger } from 'pino';
import { InvalidParameterError } from '../errors';
import { archiveError } from './archive-ingest';
import { detectCompression, MAGIC_LENGTH } from './compression';
import { HashingStream } from './digest';
import type { FsTools } from './fs-tools';
import { extractLayer } from './layer-extract';
import { treeSize } from '../tree-size';

export interface UnpackedLayer {
  /** sha256 of the layer file as stored (compressed bytes, when compressed). */
  blobDigest: string;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Bytes of the unpacked diff, as dockerd counts them. */
  size: number;
  compression: 'none' | 'gzip';
  /** Bytes of the layer file. */
  blobSize: number;
}

export interface UnpackLayerOptions {
  fsTools: FsTools;
  log: Logger;
  signal?: AbortSignal;
}

/** Unpacks the layer tar (plain or gzip) at `file` into the existing directory `diffDir`. */
export async function unpackLayer(file: string, diffDir: string, opts: UnpackLayerOptions): Promise<UnpackedLayer> {
  const compression = detectCompression(await readHead(file, MAGIC_LENGTH));
  if (compression !== 'none' && compression !== 'gzip') {
    throw new InvalidParameterError(`unsupported layer compression: ${compression}`);
  }
  const rawHash = new HashingStream();
  const diffHash = new HashingStream();
  const stages: Duplex[] = compression === 'gzip' ? [rawHash, createGunzip(), diffHash] : [rawHash, diffHash];
  const feed = pipeline(createReadStream(file), ...(stages as [Duplex, ...Duplex[]]), opts.signal ? { signal: opts.signal } : {});
  const [fed, extracted] = await Promise.allSettled([feed, extractLayer(diffHash, diffDir, opts)]);
  // The extractor's error says what was wrong with the tar; the feed's error is then just
  // the premature close it caused.
  if (extracted.status === 'rejected') throw archiveError(extracted.reason, 'invalid layer');
  if (fed.status === 'rejected') throw archiveError(fed.reason, 'invalid layer');
  return { blobDigest: rawHash.digest(), diffId: diffHash.digest(), size: await treeSize(diffDir), compression, blobSize: (await lstat(file)).size };
}

async function readHead(file: string, n: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
