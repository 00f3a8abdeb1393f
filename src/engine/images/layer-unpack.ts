/**
 * Turns one layer file from an archive into an unpacked diff directory, measuring on the way the
 * two digests that identify it: the digest of the stored bytes (the blob, possibly compressed)
 * and the diff ID (sha256 of the uncompressed tar). Also measures a diff's size the way dockerd
 * does (see tree-size.ts).
 */
import { lstat, open } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { InvalidParameterError } from '../../errors';
import { archiveError } from './archive-ingest';
import { detectCompression, gunzipStream, MAGIC_LENGTH, readLarge, type Compression } from './compression';
import { HashingStream } from '../digest';
import type { FsTools } from '../../host/fs-tools';
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
  const compression = supported(detectCompression(await readHead(file, MAGIC_LENGTH)));
  const rawHash = new HashingStream();
  const { diffId, size } = await unpackLayerStream([readLarge(file), rawHash], compression, diffDir, opts);
  return { blobDigest: rawHash.digest(), diffId, size, compression, blobSize: (await lstat(file)).size };
}

/**
 * Unpacks the layer tar (plain or gzip) flowing out of `source` (a stream and the stages it goes
 * through first, e.g. a hash of the raw bytes) into `diffDir`; its diff ID and unpacked size.
 */
export async function unpackLayerStream(
  source: [NodeJS.ReadableStream, ...Duplex[]],
  compression: 'none' | 'gzip',
  diffDir: string,
  opts: UnpackLayerOptions,
): Promise<{ diffId: string; size: number }> {
  const diffHash = new HashingStream();
  const stages: Duplex[] = compression === 'gzip' ? [gunzipStream(), diffHash] : [diffHash];
  const feed = pipeline(...(source as [NodeJS.ReadableStream]), ...(stages as [Duplex]), opts.signal ? { signal: opts.signal } : {});
  const [fed, extracted] = await Promise.allSettled([feed, extractLayer(diffHash, diffDir, { ...opts, fresh: true })]);
  // The extractor's error says what was wrong with the tar; the feed's error is then just
  // the premature close it caused.
  if (extracted.status === 'rejected') throw archiveError(extracted.reason, 'invalid layer');
  if (fed.status === 'rejected') throw archiveError(fed.reason, 'invalid layer');
  return { diffId: diffHash.digest(), size: await treeSize(diffDir) };
}

/** Layers are plain or gzip tars (Node has no decoder for the other formats). */
export function supported(compression: Compression): 'none' | 'gzip' {
  if (compression !== 'none' && compression !== 'gzip') throw new InvalidParameterError(`unsupported layer compression: ${compression}`);
  return compression;
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
