/**
 * The build context of POST /build: the tar the client sent (plain or gzip), unpacked into a
 * private directory where nothing in it can point outside, its Dockerfile and .dockerignore.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { Transform } from 'node:stream';
import type { Logger } from 'pino';
import { InvalidParameterError } from '../../errors';
import { decompressed } from '../images/compression';
import type { FsTools } from '../../host/fs-tools';
import { extractLayer } from '../images/layer-extract';
import { resolveInRoot } from '../images/safe-path';
import { ignoreMatcher, parseDockerignore, type IgnoreMatcher } from './dockerignore';

export interface BuildContext {
  /** Where the context is unpacked. */
  root: string;
  dockerfile: string;
  ignore: IgnoreMatcher;
}

export async function unpackContext(
  input: NodeJS.ReadableStream,
  root: string,
  dockerfileName: string,
  opts: { fsTools: FsTools; log: Logger; signal?: AbortSignal },
): Promise<BuildContext> {
  const { stream } = await decompressed(input, 'build context');
  await mkdir(root, { recursive: true, mode: 0o700 });
  // As files, never as whiteouts; owners as the client sent them (COPY owns everything by root anyway).
  await extractLayer(stream.pipe(paddedTar()), root, { fsTools: opts.fsTools, log: opts.log, signal: opts.signal, whiteouts: false, fresh: true });
  const name = posix.normalize(dockerfileName || 'Dockerfile').replace(/^\/+/, '');
  const dockerfile = await readInContext(root, name).catch(() => {
    throw new InvalidParameterError(`Cannot locate specified Dockerfile: ${dockerfileName || 'Dockerfile'}`);
  });
  const ignoreText = await readInContext(root, '.dockerignore').catch(() => '');
  return { root, dockerfile, ignore: ignoreMatcher(parseDockerignore(ignoreText)) };
}

/**
 * The docker CLI sends a context whose Dockerfile was added from outside (`-f /elsewhere`) as a
 * tar that stops right after that file's bytes, with neither padding nor end blocks; Go's reader
 * takes that as the end. Padding the stream to whole blocks plus two zero blocks makes it a
 * proper archive (a complete one only gets ignorable zero blocks more).
 */
function paddedTar(): Transform {
  let length = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      length += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      done(null, Buffer.alloc(((512 - (length % 512)) % 512) + 1024));
    },
  });
}

/** A file of the context, symlinks resolved inside it. */
async function readInContext(root: string, name: string): Promise<string> {
  return readFile(await resolveInRoot(root, name, { followLast: true, scoped: true }), 'utf8');
}
