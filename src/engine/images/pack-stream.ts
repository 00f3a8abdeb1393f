import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import * as tar from 'tar-stream';

/**
 * A tar pack and the Node stream it feeds, for HTTP responses. When the reader goes away the
 * pack is destroyed; its errors are then expected and handled here, never left unhandled.
 */
export function packStream(): { pack: tar.Pack; out: PassThrough } {
  const pack = tar.pack();
  const out = new PassThrough();
  pack.on('error', () => out.destroy());
  pack.pipe(out);
  out.on('close', () => pack.destroy());
  return { pack, out };
}

/** Adds the file at `path` as the entry `header` (its size included); resolves once written. */
export function packFile(pack: tar.Pack, header: Partial<tar.Header> & { name: string }, path: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const out = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    const input = createReadStream(path);
    // The pack is destroyed when the client goes away: its entry then errors, which must not
    // go unhandled (it would take the daemon down).
    (out as unknown as NodeJS.EventEmitter).on('error', reject);
    input.on('error', (err) => {
      out.destroy(err);
      reject(err);
    });
    input.pipe(out as unknown as NodeJS.WritableStream);
  });
}
