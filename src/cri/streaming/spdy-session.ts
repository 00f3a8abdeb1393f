/**
 * The server side of one SPDY/3.1 session over an upgraded HTTP connection, as Go's
 * spdystream (what kubelet, crictl and kubectl use) expects it: the client opens every stream
 * (odd ids) with SYN_STREAM and waits for our SYN_REPLY before sending data; each stream is a
 * Node Duplex here (what the client sends comes out of it, what is written goes to the client,
 * `end()` sends FIN). PINGs the client sends are echoed. spdystream does no flow control, so
 * SETTINGS and WINDOW_UPDATE are read and ignored and none are sent; a slow socket holds
 * writers back through the Duplex's own backpressure.
 */
import { EventEmitter, once } from 'node:events';
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { encodeFrame, FrameReader, GoAwayStatus, RstStatus, SpdyProtocolError, type SpdyFrame } from './spdy-frames';
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from './spdy-header-block';

/** Payload per DATA frame we send (any size up to 16 MiB is legal; smaller keeps streams fair). */
const DATA_CHUNK = 32 * 1024;
/** After our GOAWAY, how long the client gets to close the connection itself. */
const CLOSE_GRACE_MS = 5000;
const EMPTY = Buffer.alloc(0);

export interface SpdySessionOptions {
  /** Decides from its headers whether a new stream is accepted (SYN_REPLY) or refused (RST). */
  acceptStream?(headers: SpdyHeaders): boolean;
  /** The connection goes idle for this long: it is closed. */
  idleTimeoutMs?: number;
}

/** One stream of a session: the client's data to read, ours to write. */
export class SpdyStream extends Duplex {
  constructor(
    readonly id: number,
    readonly headers: SpdyHeaders,
    private readonly session: SpdySession,
  ) {
    super({ allowHalfOpen: true });
  }

  /** The first value of a header. */
  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  /** Ends the stream abruptly (RST_STREAM CANCEL), as spdystream's Reset does. */
  reset(): void {
    this.session.resetStream(this.id, RstStatus.CANCEL);
    this.destroy();
  }

  override _read(): void {
    // Data is pushed as frames arrive.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.session.sendData(this.id, chunk, false).then(() => callback(), callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.session.sendData(this.id, EMPTY, true).then(() => callback(), callback);
  }
}

export interface SpdySession {
  on(event: 'stream', listener: (stream: SpdyStream) => void): this;
  on(event: 'close', listener: () => void): this;
}

export class SpdySession extends EventEmitter {
  private readonly streams = new Map<number, SpdyStream>();
  private readonly reader = new FrameReader();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private inbound: Promise<void> = Promise.resolve();
  private outbound: Promise<void> = Promise.resolve();
  private lastRemoteId = 0;
  private goingAway = false;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly opts: SpdySessionOptions = {},
  ) {
    super();
    socket.setNoDelay(true);
    if (opts.idleTimeoutMs) {
      socket.setTimeout(opts.idleTimeoutMs, () => socket.destroy());
    }
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    // The client closed its side: nothing more will come, so we finish too.
    socket.on('end', () => this.finish());
    socket.on('error', () => undefined);
    socket.on('close', () => this.teardown());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Ends the session as spdystream's Close does: GOAWAY, then our half of the connection; the
   * client closes its half once it has read everything. Streams still open are reset.
   */
  async close(): Promise<void> {
    if (this.closed || this.goingAway) return;
    this.goingAway = true;
    await this.enqueue(() => encodeFrame({ type: 'goaway', lastGoodStreamId: this.lastRemoteId, status: GoAwayStatus.OK })).catch(() => undefined);
    this.finish();
  }

  /** Sends `data` on stream `id` in DATA frames; `fin` ends our side of the stream. */
  sendData(id: number, data: Buffer, fin: boolean): Promise<void> {
    if (data.length <= DATA_CHUNK) return this.enqueue(() => encodeFrame({ type: 'data', streamId: id, fin, data }));
    const sends: Promise<void>[] = [];
    for (let at = 0; at < data.length; at += DATA_CHUNK) {
      const last = at + DATA_CHUNK >= data.length;
      sends.push(this.enqueue(() => encodeFrame({ type: 'data', streamId: id, fin: fin && last, data: data.subarray(at, at + DATA_CHUNK) })));
    }
    return Promise.all(sends).then(() => undefined);
  }

  resetStream(id: number, status: number): void {
    this.streams.delete(id);
    void this.enqueue(() => encodeFrame({ type: 'rst_stream', streamId: id, status })).catch(() => undefined);
  }

  /** Frames go out strictly in the order they were asked for; a full socket holds the queue. */
  private enqueue(build: () => Buffer | Promise<Buffer>): Promise<void> {
    const send = this.outbound.then(async () => {
      if (this.closed || this.socket.writableEnded) throw new Error('the SPDY connection is closed');
      const bytes = await build();
      if (!this.socket.write(bytes)) await Promise.race([once(this.socket, 'drain'), once(this.socket, 'close')]);
    });
    this.outbound = send.catch(() => undefined);
    return send;
  }

  private receive(chunk: Buffer): void {
    let frames: SpdyFrame[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.protocolError(err);
      return;
    }
    for (const frame of frames) {
      // Header blocks decompress asynchronously and in order: frames are handled one by one.
      this.inbound = this.inbound.then(() => (this.closed ? undefined : this.handle(frame))).catch((err) => this.protocolError(err));
    }
  }

  private async handle(frame: SpdyFrame): Promise<void> {
    switch (frame.type) {
      case 'syn_stream':
        return this.openStream(frame.streamId, frame.fin, await this.decompressor.decompress(frame.headerBlock));
      case 'data': {
        const stream = this.streams.get(frame.streamId);
        if (!stream) return;
        if (frame.data.length) stream.push(frame.data);
        if (frame.fin) stream.push(null);
        return;
      }
      case 'rst_stream': {
        const stream = this.streams.get(frame.streamId);
        this.streams.delete(frame.streamId);
        stream?.destroy();
        return;
      }
      case 'headers':
        // Kept only so the shared zlib context stays in step; nothing here uses late headers.
        await this.decompressor.decompress(frame.headerBlock);
        return;
      case 'ping':
        // Odd ids are the client's pings: answered with the same frame.
        if (frame.id % 2 === 1) await this.enqueue(() => encodeFrame(frame)).catch(() => undefined);
        return;
      case 'goaway':
        this.goingAway = true;
        return;
      case 'syn_reply':
      case 'settings':
      case 'window_update':
      case 'unknown':
        return;
    }
  }

  private async openStream(id: number, fin: boolean, headers: SpdyHeaders): Promise<void> {
    if (id % 2 === 0 || id <= this.lastRemoteId) {
      this.resetStream(id, RstStatus.PROTOCOL_ERROR);
      return;
    }
    this.lastRemoteId = id;
    if (this.goingAway || (this.opts.acceptStream && !this.opts.acceptStream(headers))) {
      this.resetStream(id, this.goingAway ? RstStatus.REFUSED_STREAM : RstStatus.CANCEL);
      return;
    }
    const stream = new SpdyStream(id, headers, this);
    this.streams.set(id, stream);
    stream.on('close', () => {
      if (this.streams.get(id) === stream) this.streams.delete(id);
    });
    stream.on('error', () => undefined);
    if (fin) stream.push(null);
    // The reply is queued before anyone can write on the stream.
    void this.enqueue(async () => encodeFrame({ type: 'syn_reply', streamId: id, fin: false, headerBlock: await this.compressor.compress({}) })).catch(() => undefined);
    this.emit('stream', stream);
  }

  private protocolError(err: unknown): void {
    if (this.closed) return;
    if (err instanceof SpdyProtocolError) {
      void this.enqueue(() => encodeFrame({ type: 'goaway', lastGoodStreamId: this.lastRemoteId, status: GoAwayStatus.PROTOCOL_ERROR })).catch(() => undefined);
      this.goingAway = true;
      this.finish();
    } else {
      this.socket.destroy();
    }
  }

  /** Our half of the connection ends once the frames queued so far are out. */
  private finish(): void {
    if (this.closed) return;
    void this.outbound.then(() => {
      if (!this.socket.writableEnded) this.socket.end();
      setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
    });
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams.values()) stream.destroy();
    this.streams.clear();
    this.compressor.close();
    this.decompressor.close();
    this.emit('close');
  }
}
