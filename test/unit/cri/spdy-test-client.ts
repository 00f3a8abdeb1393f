/**
 * A minimal SPDY/3.1 client for the unit tests, built on Berth's own framing: it opens streams
 * as client-go does (odd ids, SYN_STREAM with headers), collects every frame the server sends
 * with its header blocks decompressed, and can wait for a frame that matches.
 */
import { connect, type Socket } from 'node:net';
import { encodeFrame, FrameReader, type SpdyFrame } from '../../../src/cri/streaming/spdy-frames';
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from '../../../src/cri/streaming/spdy-header-block';

export type ReceivedFrame = SpdyFrame & { headers?: SpdyHeaders };

export class SpdyTestClient {
  readonly frames: ReceivedFrame[] = [];
  private readonly reader = new FrameReader();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private nextId = 1;
  private chain: Promise<void> = Promise.resolve();
  private waiters: Array<() => void> = [];
  ended = false;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.reader.push(chunk)) {
        this.chain = this.chain.then(async () => {
          const received: ReceivedFrame = { ...frame };
          if ('headerBlock' in frame) received.headers = await this.decompressor.decompress(frame.headerBlock);
          this.frames.push(received);
          this.wake();
        });
      }
    });
    socket.on('end', () => {
      this.ended = true;
      void this.chain.then(() => this.wake());
    });
  }

  /** Connects to `port` and sends `preamble` (an HTTP upgrade) first; resolves after the 101 head. */
  static async upgrade(port: number, path: string, protocols: string[]): Promise<{ client: SpdyTestClient; head: string }> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocols.join(', ')}\r\nContent-Length: 0\r\n\r\n`);
    let buffered = Buffer.alloc(0);
    const head = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        const rest = buffered.subarray(end + 4);
        if (rest.length) socket.unshift(rest);
        resolve(buffered.subarray(0, end).toString('latin1'));
      };
      socket.on('data', onData);
      socket.once('error', reject);
    });
    return { client: new SpdyTestClient(socket), head };
  }

  async open(headers: Record<string, string>, opts: { fin?: boolean } = {}): Promise<number> {
    const id = this.nextId;
    this.nextId += 2;
    const block = await this.compressor.compress(Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])));
    this.socket.write(encodeFrame({ type: 'syn_stream', streamId: id, associatedId: 0, priority: 0, fin: !!opts.fin, unidirectional: false, headerBlock: block }));
    return id;
  }

  send(frame: SpdyFrame): void {
    this.socket.write(encodeFrame(frame));
  }

  data(streamId: number, data: string | Buffer, fin = false): void {
    this.send({ type: 'data', streamId, fin, data: Buffer.from(data) });
  }

  /** Everything received on a stream's DATA frames so far, and whether the server sent FIN. */
  received(streamId: number): { text: string; fin: boolean } {
    const frames = this.frames.filter((f): f is Extract<ReceivedFrame, { type: 'data' }> => f.type === 'data' && f.streamId === streamId);
    return { text: Buffer.concat(frames.map((f) => f.data)).toString('utf8'), fin: frames.some((f) => f.fin) };
  }

  /** Resolves once `check` holds over the frames received (or rejects after `ms`). */
  until<T>(check: () => T | undefined | false, what: string, ms = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames.map((f) => f.type))}`)), ms);
      const probe = () => {
        const v = check();
        if (v) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== probe);
          resolve(v);
        }
      };
      this.waiters.push(probe);
      probe();
    });
  }

  close(): void {
    this.compressor.close();
    this.decompressor.close();
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
