/**
 * Docker's stdcopy framing for non-TTY streams: an 8-byte header
 * `[stream, 0, 0, 0, size (uint32 big-endian)]` then the payload.
 * Streams: 0 stdin, 1 stdout, 2 stderr, 3 daemon error.
 */
export type StdStream = 0 | 1 | 2 | 3;

export function frame(stream: StdStream, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Splits a byte stream into frames; keeps partial frames across calls. */
export class FrameReader {
  private pending = Buffer.alloc(0);

  push(chunk: Buffer): Array<{ stream: StdStream; payload: Buffer }> {
    this.pending = Buffer.concat([this.pending, chunk]);
    const out: Array<{ stream: StdStream; payload: Buffer }> = [];
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      out.push({ stream: this.pending[0] as StdStream, payload: this.pending.subarray(8, 8 + size) });
      this.pending = this.pending.subarray(8 + size);
    }
    return out;
  }
}

export const MEDIA_RAW = 'application/vnd.docker.raw-stream';
export const MEDIA_MULTIPLEXED = 'application/vnd.docker.multiplexed-stream';
