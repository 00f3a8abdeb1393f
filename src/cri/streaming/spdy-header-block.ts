/**
 * SPDY/3 header blocks (draft 3.1, section 2.6.10): name/value pairs, each a 32-bit length and
 * bytes (names lower-case; several values of one name joined by NUL), compressed with zlib and
 * the SPDY/3 dictionary. Each direction of a session keeps ONE zlib context for all its blocks,
 * every block ending in a sync flush, so a block only decompresses after the ones before it:
 * the compressor and decompressor here queue their work in order.
 */
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { SPDY3_DICTIONARY } from './spdy-dictionary';
import { SpdyProtocolError } from './spdy-frames';

/** Header names (lower-case) to their values. */
export type SpdyHeaders = Record<string, string[]>;

/** The uncompressed block. */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [name, values] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(values.join('\0'), 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/** Parses an uncompressed block; names must be lower-case and unique, as Go's framer demands. */
export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  let at = 0;
  const take = (): Buffer => {
    if (at + 4 > block.length) throw new SpdyProtocolError('SPDY header block is truncated');
    const len = block.readUInt32BE(at);
    at += 4;
    if (at + len > block.length) throw new SpdyProtocolError('SPDY header block is truncated');
    const bytes = block.subarray(at, at + len);
    at += len;
    return bytes;
  };
  if (block.length < 4) throw new SpdyProtocolError('SPDY header block is truncated');
  const count = block.readUInt32BE(0);
  at = 4;
  const headers: SpdyHeaders = {};
  for (let i = 0; i < count; i++) {
    const name = take().toString('utf8');
    const value = take().toString('utf8');
    if (name !== name.toLowerCase()) throw new SpdyProtocolError(`SPDY header name ${JSON.stringify(name)} is not lower-case`);
    if (name in headers) throw new SpdyProtocolError(`SPDY header ${JSON.stringify(name)} appears twice`);
    headers[name] = value.split('\0');
  }
  return headers;
}

/** The first value of a header, or undefined. */
export function headerValue(headers: SpdyHeaders, name: string): string | undefined {
  return headers[name.toLowerCase()]?.[0];
}

/** One direction's zlib context: each call's output is complete up to a sync flush. */
class ZlibContext {
  private out: Buffer[] = [];
  private failure: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly z: Deflate | Inflate) {
    z.on('data', (chunk: Buffer) => this.out.push(chunk));
    z.on('error', (err: Error) => {
      this.failure = err;
    });
  }

  process(input: Buffer): Promise<Buffer> {
    const run = () =>
      new Promise<Buffer>((resolve, reject) => {
        if (this.failure) return reject(this.failure);
        // A stream that fails never calls the flush back: the error settles the call.
        const onError = (err: Error) => reject(err);
        this.z.once('error', onError);
        this.z.write(input);
        this.z.flush(constants.Z_SYNC_FLUSH, () => {
          this.z.off('error', onError);
          const result = Buffer.concat(this.out);
          this.out = [];
          if (this.failure) reject(this.failure);
          else resolve(result);
        });
      });
    const result = this.queue.then(run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.z.close();
  }
}

/** The sending side's context: header maps to compressed blocks. */
export class HeaderCompressor {
  private readonly ctx = new ZlibContext(createDeflate({ level: constants.Z_BEST_COMPRESSION, dictionary: SPDY3_DICTIONARY }));

  compress(headers: SpdyHeaders): Promise<Buffer> {
    return this.ctx.process(encodeHeaderBlock(headers));
  }

  close(): void {
    this.ctx.close();
  }
}

/** The receiving side's context: compressed blocks to header maps. */
export class HeaderDecompressor {
  private readonly ctx = new ZlibContext(createInflate({ dictionary: SPDY3_DICTIONARY }));

  async decompress(block: Buffer): Promise<SpdyHeaders> {
    let raw: Buffer;
    try {
      raw = await this.ctx.process(block);
    } catch (err) {
      throw new SpdyProtocolError(`SPDY header block does not decompress: ${(err as Error).message}`);
    }
    return decodeHeaderBlock(raw);
  }

  close(): void {
    this.ctx.close();
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
