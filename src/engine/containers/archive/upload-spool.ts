/**
 * docker cp into a container receives a tar that may be corrupt or cut short. dockerd extracts
 * it as it arrives and leaves whatever came before the damage; Berth first writes the
 * (decompressed) upload to a file beside the container's state and reads it to the end as a
 * tar, so a bad archive is refused before anything in the container changes. The file lives on
 * disk, not in memory, so archives of any size still stream.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { InvalidParameterError } from '../../../errors';
import { decompressed, readLarge } from '../../images/compression';

export interface SpooledArchive {
  /** A fresh stream of the validated, uncompressed tar. */
  open(): Readable;
  /** Removes the spool file. */
  dispose(): Promise<void>;
}

/** Writes `body` (a tar, possibly gzipped) to a file in `dir` and checks it is a whole tar. */
export async function spoolArchive(body: Readable, dir: string, signal?: AbortSignal): Promise<SpooledArchive> {
  const path = join(dir, `archive-upload-${randomBytes(8).toString('hex')}.tar`);
  const dispose = () => rm(path, { force: true });
  try {
    let stream: Readable;
    try {
      ({ stream } = await decompressed(body, 'archive'));
    } catch (err) {
      body.resume();
      throw err;
    }
    await pipeline(stream, createWriteStream(path, { mode: 0o600 }), signal ? { signal } : {}).catch((err: NodeJS.ErrnoException) => {
      // Inflate errors are the client's archive; anything else (a dropped connection) is not.
      if (typeof err.code === 'string' && err.code.startsWith('Z_')) throw badTar(err);
      throw err;
    });
    await readWholeTar(readLarge(path)).catch((err: Error) => {
      throw badTar(err);
    });
  } catch (err) {
    await dispose();
    throw err;
  }
  return { open: () => readLarge(path), dispose };
}

/** Reads every header and body of the tar in `input`; rejects on the first damage. */
async function readWholeTar(input: Readable): Promise<void> {
  const extract = tar.extract();
  const feed = pipeline(input, extract);
  feed.catch(() => undefined); // observed below
  try {
    for await (const entry of extract) {
      for await (const _chunk of entry as unknown as AsyncIterable<Buffer>);
    }
    await feed;
  } catch (err) {
    extract.destroy();
    input.destroy();
    throw err;
  }
}

/** dockerd's words for a damaged upload (`Error processing tar file(...): unexpected EOF`), as a 400. */
function badTar(err: Error): InvalidParameterError {
  return new InvalidParameterError(`Error processing tar file: ${goWords(err.message)}`, { cause: err });
}

/** tar-stream's and zlib's messages in the words of Go's archive/tar and compress/flate. */
function goWords(message: string): string {
  if (/unexpected end of data/i.test(message)) return 'unexpected EOF';
  if (/invalid tar header/i.test(message)) return 'archive/tar: invalid tar header';
  if (/unexpected end of file/i.test(message)) return 'unexpected EOF';
  return message;
}
