/**
 * Lets Go gRPC clients (kubelet, crictl, critest) talk to the grpc-js server over a unix socket.
 * They send the socket's path as the HTTP/2 `:authority`, and Node's HTTP/2 (nghttp2) resets
 * every such stream with PROTOCOL_ERROR, because `/` is not allowed in an authority. Each
 * connection is therefore relayed through this filter before grpc-js sees it:
 *
 * - server → client: every SETTINGS frame announces HEADER_TABLE_SIZE 0, so the client's HPACK
 *   encoder keeps no dynamic table and each header block can be edited on its own;
 * - client → server: in each header block, an `:authority` literal (static index 1) gets the
 *   value `localhost` (written as a plain string), which is what newer Go clients send anyway.
 *
 * Go clients wait for the server's SETTINGS before their first request, so the table is off
 * from the first block on; if a block came earlier, the edited entry only differs in size,
 * which matters to eviction alone, and the size-0 update then empties both tables alike.
 * Nothing else is changed; the authority is used for nothing by the CRI.
 */
import { Duplex, Transform, type TransformCallback } from 'node:stream';
import type { Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const FRAME_HEADER = 9;
const TYPE_HEADERS = 0x1;
const TYPE_SETTINGS = 0x4;
const TYPE_CONTINUATION = 0x9;
const FLAG_ACK = 0x1;
const FLAG_END_STREAM = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
const SETTINGS_HEADER_TABLE_SIZE = 0x1;
/** The smallest frame size a peer must accept (RFC 9113 §4.2). */
const MAX_FRAME = 16384;
const AUTHORITY_STATIC_INDEX = 1;
const REPLACEMENT = Buffer.from('localhost', 'latin1');

interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Splits a byte stream into HTTP/2 frames (after an optional connection preface). */
class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private prefaceLeft: number;

  constructor(expectPreface: boolean) {
    this.prefaceLeft = expectPreface ? PREFACE.length : 0;
  }

  /** The preface bytes (passed through as they are) and the whole frames now available. */
  push(chunk: Buffer): { preface: Buffer | undefined; frames: Frame[] } {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let preface: Buffer | undefined;
    if (this.prefaceLeft > 0) {
      const n = Math.min(this.prefaceLeft, this.pending.length);
      preface = this.pending.subarray(0, n);
      this.pending = this.pending.subarray(n);
      this.prefaceLeft -= n;
    }
    const frames: Frame[] = [];
    while (this.pending.length >= FRAME_HEADER) {
      const length = this.pending.readUIntBE(0, 3);
      if (this.pending.length < FRAME_HEADER + length) break;
      frames.push({
        type: this.pending[3],
        flags: this.pending[4],
        streamId: this.pending.readUInt32BE(5) & 0x7fffffff,
        payload: this.pending.subarray(FRAME_HEADER, FRAME_HEADER + length),
      });
      this.pending = this.pending.subarray(FRAME_HEADER + length);
    }
    if (this.pending.length) this.pending = Buffer.from(this.pending);
    return { preface, frames };
  }
}

export function encodeFrame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(FRAME_HEADER);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

/** An HPACK integer with an N-bit prefix at `pos` (RFC 7541 §5.1): its value and where it ends. */
function readInt(buf: Buffer, pos: number, prefixBits: number): [number, number] {
  const mask = (1 << prefixBits) - 1;
  let value = buf[pos] & mask;
  pos++;
  if (value < mask) return [value, pos];
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated HPACK integer');
    const b = buf[pos++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(b & 0x80)) return [value, pos];
  }
}

/** Where an HPACK string literal at `pos` ends. */
function skipString(buf: Buffer, pos: number): number {
  const [length, start] = readInt(buf, pos, 7);
  const end = start + length;
  if (end > buf.length) throw new Error('truncated HPACK string');
  return end;
}

function plainString(value: Buffer): Buffer {
  if (value.length >= 127) throw new Error('replacement too long');
  return Buffer.concat([Buffer.from([value.length]), value]);
}

/** The header block with every `:authority` literal's value replaced (RFC 7541 §6). */
export function rewriteAuthority(block: Buffer): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos < block.length) {
    const start = pos;
    const b = block[pos];
    if (b & 0x80) {
      // Indexed field: a static entry or one already in the (edited) table.
      pos = readInt(block, pos, 7)[1];
      parts.push(block.subarray(start, pos));
      continue;
    }
    if ((b & 0xe0) === 0x20) {
      pos = readInt(block, pos, 5)[1]; // dynamic table size update
      parts.push(block.subarray(start, pos));
      continue;
    }
    // Literal: with incremental indexing (01, 6-bit index), or without / never indexed (0000, 0001).
    const prefixBits = (b & 0xc0) === 0x40 ? 6 : 4;
    const [index, afterIndex] = readInt(block, pos, prefixBits);
    pos = index === 0 ? skipString(block, afterIndex) : afterIndex;
    const valueStart = pos;
    pos = skipString(block, pos);
    if (index === AUTHORITY_STATIC_INDEX) parts.push(block.subarray(start, valueStart), plainString(REPLACEMENT));
    else parts.push(block.subarray(start, pos));
  }
  return Buffer.concat(parts);
}

/** A SETTINGS payload that says HEADER_TABLE_SIZE 0, whatever it said before. */
export function withoutHeaderTable(payload: Buffer): Buffer {
  const entries: Buffer[] = [];
  for (let i = 0; i + 6 <= payload.length; i += 6) {
    if (payload.readUInt16BE(i) !== SETTINGS_HEADER_TABLE_SIZE) entries.push(payload.subarray(i, i + 6));
  }
  const table = Buffer.alloc(6);
  table.writeUInt16BE(SETTINGS_HEADER_TABLE_SIZE, 0);
  return Buffer.concat([table, ...entries]);
}

/** The client's frames, header blocks (HEADERS + CONTINUATION) edited and re-framed. */
class ClientToServer extends Transform {
  private readonly splitter = new FrameSplitter(true);
  private open: { streamId: number; flags: number; priority: Buffer; fragments: Buffer[] } | undefined;

  _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      const { preface, frames } = this.splitter.push(chunk);
      if (preface?.length) this.push(preface);
      for (const frame of frames) this.frame(frame);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private frame(f: Frame): void {
    if (f.type === TYPE_HEADERS) {
      let p = f.payload;
      const padding = f.flags & FLAG_PADDED ? p[0] : 0;
      if (f.flags & FLAG_PADDED) p = p.subarray(1, p.length - padding);
      const priority = f.flags & FLAG_PRIORITY ? p.subarray(0, 5) : Buffer.alloc(0);
      this.open = { streamId: f.streamId, flags: f.flags, priority, fragments: [p.subarray(priority.length)] };
    } else if (f.type === TYPE_CONTINUATION && this.open) {
      this.open.fragments.push(f.payload);
    } else {
      this.push(encodeFrame(f.type, f.flags, f.streamId, f.payload));
      return;
    }
    if (!(f.flags & FLAG_END_HEADERS)) return;
    const { streamId, flags, priority, fragments } = this.open;
    this.open = undefined;
    const block = Buffer.concat([priority, rewriteAuthority(Buffer.concat(fragments))]);
    const first = block.subarray(0, MAX_FRAME);
    const keep = flags & (FLAG_END_STREAM | FLAG_PRIORITY);
    const rest: Buffer[] = [];
    for (let i = MAX_FRAME; i < block.length; i += MAX_FRAME) rest.push(block.subarray(i, i + MAX_FRAME));
    this.push(encodeFrame(TYPE_HEADERS, keep | (rest.length ? 0 : FLAG_END_HEADERS), streamId, first));
    rest.forEach((piece, i) => this.push(encodeFrame(TYPE_CONTINUATION, i === rest.length - 1 ? FLAG_END_HEADERS : 0, streamId, piece)));
  }
}

/** The server's frames, its SETTINGS announcing no header table. */
class ServerToClient extends Transform {
  private readonly splitter = new FrameSplitter(false);

  _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      for (const f of this.splitter.push(chunk).frames) {
        const payload = f.type === TYPE_SETTINGS && !(f.flags & FLAG_ACK) && f.streamId === 0 ? withoutHeaderTable(f.payload) : f.payload;
        this.push(encodeFrame(f.type, f.flags, f.streamId, payload));
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

/** The connection as the HTTP/2 server should see it: the client's authority made acceptable. */
export function acceptGoAuthority(socket: Socket): Duplex {
  const inbound = new ClientToServer();
  const outbound = new ServerToClient();
  socket.pipe(inbound);
  outbound.pipe(socket);
  const relay = Duplex.from({ readable: inbound, writable: outbound });
  const teardown = () => {
    socket.destroy();
    relay.destroy();
  };
  socket.on('error', teardown).on('close', teardown);
  relay.on('error', teardown).on('close', () => socket.destroy());
  inbound.on('error', teardown);
  outbound.on('error', teardown);
  return relay;
}
