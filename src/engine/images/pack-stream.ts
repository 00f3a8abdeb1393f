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
