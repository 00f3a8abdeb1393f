/**
 * SPDY/3.1 framing (draft 3.1, section 2.2): the eight frame kinds the Kubernetes streaming
 * protocols use, encoded to and decoded from bytes. Header blocks stay compressed here; their
 * zlib context belongs to the session (spdy-header-block.ts). Pure code, no I/O.
 *
 *   control frame: 1 | version (15) | type (16) | flags (8) | length (24) | payload
 *   data frame:    0 | stream id (31)           | flags (8) | length (24) | payload
 */

export const SPDY_VERSION = 3;
/** The largest payload a frame's 24-bit length can carry. */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
} as const;

/** GOAWAY status codes. */
export const GoAwayStatus = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const;

const TYPE = { SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9 } as const;

export interface SettingsEntry {
  flags: number;
  id: number;
  value: number;
}

export type SpdyFrame =
  | { type: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { type: 'syn_stream'; streamId: number; associatedId: number; priority: number; fin: boolean; unidirectional: boolean; headerBlock: Buffer }
  | { type: 'syn_reply'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; clear: boolean; entries: SettingsEntry[] }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'headers'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { type: 'window_update'; streamId: number; delta: number }
  /** A control frame of a type SPDY/3.1 does not define: the spec says to ignore it. */
  | { type: 'unknown'; frameType: number };

/** A peer broke the framing rules: the session ends with a GOAWAY PROTOCOL_ERROR. */
export class SpdyProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpdyProtocolError';
  }
}

const STREAM_ID_MASK = 0x7fffffff;

function control(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new RangeError(`SPDY frame payload of ${payload.length} bytes is too large`);
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24 | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

/** The bytes of one frame; header blocks must already be compressed. */
export function encodeFrame(frame: SpdyFrame): Buffer {
  switch (frame.type) {
    case 'data': {
      if (frame.data.length > MAX_FRAME_PAYLOAD) throw new RangeError(`SPDY data frame of ${frame.data.length} bytes is too large`);
      const head = u32(frame.streamId & STREAM_ID_MASK, ((frame.fin ? FLAG_FIN : 0) << 24 | frame.data.length) >>> 0);
      return Buffer.concat([head, frame.data]);
    }
    case 'syn_stream': {
      const fixed = Buffer.alloc(10);
      fixed.writeUInt32BE(frame.streamId & STREAM_ID_MASK, 0);
      fixed.writeUInt32BE(frame.associatedId & STREAM_ID_MASK, 4);
      fixed.writeUInt8((frame.priority & 0x7) << 5, 8);
      const flags = (frame.fin ? FLAG_FIN : 0) | (frame.unidirectional ? FLAG_UNIDIRECTIONAL : 0);
      return control(TYPE.SYN_STREAM, flags, Buffer.concat([fixed, frame.headerBlock]));
    }
    case 'syn_reply':
      return control(TYPE.SYN_REPLY, frame.fin ? FLAG_FIN : 0, Buffer.concat([u32(frame.streamId & STREAM_ID_MASK), frame.headerBlock]));
    case 'headers':
      return control(TYPE.HEADERS, frame.fin ? FLAG_FIN : 0, Buffer.concat([u32(frame.streamId & STREAM_ID_MASK), frame.headerBlock]));
    case 'rst_stream':
      return control(TYPE.RST_STREAM, 0, u32(frame.streamId & STREAM_ID_MASK, frame.status));
    case 'settings': {
      const body = Buffer.alloc(4 + 8 * frame.entries.length);
      body.writeUInt32BE(frame.entries.length, 0);
      frame.entries.forEach((e, i) => {
        body.writeUInt32BE(((e.flags & 0xff) << 24 | (e.id & 0xffffff)) >>> 0, 4 + 8 * i);
        body.writeUInt32BE(e.value >>> 0, 8 + 8 * i);
      });
      return control(TYPE.SETTINGS, frame.clear ? 0x01 : 0, body);
    }
    case 'ping':
      return control(TYPE.PING, 0, u32(frame.id));
    case 'goaway':
      return control(TYPE.GOAWAY, 0, u32(frame.lastGoodStreamId & STREAM_ID_MASK, frame.status));
    case 'window_update':
      return control(TYPE.WINDOW_UPDATE, 0, u32(frame.streamId & STREAM_ID_MASK, frame.delta & STREAM_ID_MASK));
    case 'unknown':
      throw new TypeError(`cannot encode a SPDY control frame of unknown type ${frame.frameType}`);
  }
}

/**
 * Cuts frames out of a byte stream: feed it what the socket reads, take the complete frames.
 * Frames larger than `maxPayload` are refused rather than buffered.
 */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPayload = MAX_FRAME_PAYLOAD) {}

  push(chunk: Buffer): SpdyFrame[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const frames: SpdyFrame[] = [];
    while (this.buffered.length >= 8) {
      const length = this.buffered.readUInt32BE(4) & 0xffffff;
      if (length > this.maxPayload) throw new SpdyProtocolError(`SPDY frame of ${length} bytes is larger than ${this.maxPayload}`);
      if (this.buffered.length < 8 + length) break;
      frames.push(decodeFrame(this.buffered.subarray(0, 8 + length)));
      this.buffered = this.buffered.subarray(8 + length);
    }
    return frames;
  }
}

/** One whole frame (header and payload) to its fields. */
export function decodeFrame(bytes: Buffer): SpdyFrame {
  const first = bytes.readUInt32BE(0);
  const flags = bytes.readUInt8(4);
  const payload = bytes.subarray(8);
  if (!(first & 0x80000000)) {
    return { type: 'data', streamId: first & STREAM_ID_MASK, fin: !!(flags & FLAG_FIN), data: Buffer.from(payload) };
  }
  const version = (first >>> 16) & 0x7fff;
  const type = first & 0xffff;
  if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
  const need = (n: number) => {
    if (payload.length < n) throw new SpdyProtocolError(`SPDY control frame of type ${type} is too short (${payload.length} bytes)`);
  };
  const fin = !!(flags & FLAG_FIN);
  switch (type) {
    case TYPE.SYN_STREAM:
      need(10);
      return {
        type: 'syn_stream',
        streamId: payload.readUInt32BE(0) & STREAM_ID_MASK,
        associatedId: payload.readUInt32BE(4) & STREAM_ID_MASK,
        priority: payload.readUInt8(8) >>> 5,
        fin,
        unidirectional: !!(flags & FLAG_UNIDIRECTIONAL),
        headerBlock: Buffer.from(payload.subarray(10)),
      };
    case TYPE.SYN_REPLY:
      need(4);
      return { type: 'syn_reply', streamId: payload.readUInt32BE(0) & STREAM_ID_MASK, fin, headerBlock: Buffer.from(payload.subarray(4)) };
    case TYPE.HEADERS:
      need(4);
      return { type: 'headers', streamId: payload.readUInt32BE(0) & STREAM_ID_MASK, fin, headerBlock: Buffer.from(payload.subarray(4)) };
    case TYPE.RST_STREAM:
      need(8);
      return { type: 'rst_stream', streamId: payload.readUInt32BE(0) & STREAM_ID_MASK, status: payload.readUInt32BE(4) };
    case TYPE.SETTINGS: {
      need(4);
      const count = payload.readUInt32BE(0);
      need(4 + 8 * count);
      const entries: SettingsEntry[] = [];
      for (let i = 0; i < count; i++) {
        const idFlags = payload.readUInt32BE(4 + 8 * i);
        entries.push({ flags: idFlags >>> 24, id: idFlags & 0xffffff, value: payload.readUInt32BE(8 + 8 * i) });
      }
      return { type: 'settings', clear: !!(flags & 0x01), entries };
    }
    case TYPE.PING:
      need(4);
      return { type: 'ping', id: payload.readUInt32BE(0) };
    case TYPE.GOAWAY:
      need(8);
      return { type: 'goaway', lastGoodStreamId: payload.readUInt32BE(0) & STREAM_ID_MASK, status: payload.readUInt32BE(4) };
    case TYPE.WINDOW_UPDATE:
      need(8);
      return { type: 'window_update', streamId: payload.readUInt32BE(0) & STREAM_ID_MASK, delta: payload.readUInt32BE(4) & STREAM_ID_MASK };
    default:
      return { type: 'unknown', frameType: type };
  }
}
