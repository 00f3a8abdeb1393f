/**
 * One client of conmon's attach socket (SOCK_SEQPACKET). Measured with conmon 2.1.6:
 * - every message conmon sends is one chunk of output whose first byte names the stream
 *   (2 = stdout, 3 = stderr; a TTY container's output always comes as 2);
 * - bytes we send go to the container's stdin (conmon reads at most 32 KiB per message and drops
 *   the rest of a longer one, so writes are cut into smaller messages);
 * - shutdown(SHUT_WR) on our side makes conmon close the container's stdin (unless it runs with
 *   --leave-stdin-open) while it keeps sending output until the container exits;
 * - when the container exits conmon shuts the socket down ('end' here).
 * Only live output flows here; what the container wrote before the attach is in the log file.
 */
import { createHash } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import { SeqpacketSocket } from './seqpacket-socket';
import type { AttachSession } from './types';

/** Largest stdin message we send; conmon's attach buffer is 32 KiB (older builds read one byte less). */
const MAX_MESSAGE = 8192;

const STREAM_BY_TAG: Readonly<Record<number, 1 | 2>> = { 2: 1, 3: 2 };

type DataListener = (stream: 1 | 2, data: Buffer) => void;

export function connectAttachSocket(path: string): Promise<AttachSession> {
  return new Promise((resolve, reject) => {
    const sock = new SeqpacketSocket();
    const fail = (err: unknown) => {
      sock.close();
      reject(new Error(`cannot attach to container monitor at ${path}: ${(err as Error)?.message ?? err}`, { cause: err }));
    };
    sock.once('error', fail);
    sock.once('connect', () => {
      sock.off('error', fail);
      resolve(new SeqpacketAttachSession(sock));
    });
    try {
      sock.connect(path);
    } catch (err) {
      fail(err);
    }
  });
}

class SeqpacketAttachSession implements AttachSession {
  private readonly dataListeners: DataListener[] = [];
  private readonly closeListeners: Array<() => void> = [];
  /** Output that arrived before anyone listened. */
  private pending: Array<[1 | 2, Buffer]> = [];
  private closed = false;
  /** Stdin messages handed to the socket and not yet written to the OS. */
  private unflushed = 0;
  /** close() was called while stdin was still being written. */
  private closing = false;

  constructor(private readonly sock: SeqpacketSocket) {
    sock.on('data', (msg: Buffer) => this.receive(msg));
    sock.on('end', () => this.finish());
    sock.on('close', () => this.finish());
    sock.on('error', () => this.finish());
  }

  write(data: Buffer): void {
    if (this.closed || this.closing) return;
    for (let off = 0; off < data.length; off += MAX_MESSAGE) {
      this.unflushed++;
      this.sock.write(data.subarray(off, off + MAX_MESSAGE), () => {
        if (--this.unflushed === 0 && this.closing) this.finish();
      });
    }
  }

  closeStdin(): void {
    if (!this.closed) this.sock.end();
  }

  onData(cb: DataListener): void {
    this.dataListeners.push(cb);
    const queued = this.pending;
    this.pending = [];
    for (const [stream, data] of queued) cb(stream, data);
  }

  onClose(cb: () => void): void {
    if (this.closed) queueMicrotask(cb);
    else this.closeListeners.push(cb);
  }

  /** Ends the session once the stdin written so far has reached the monitor (a client's last bytes count). */
  close(): void {
    if (this.unflushed === 0) this.finish();
    else this.closing = true;
  }

  private receive(msg: Buffer): void {
    const stream = STREAM_BY_TAG[msg[0]];
    if (stream === undefined || msg.length < 2) return;
    const data = msg.subarray(1);
    if (this.dataListeners.length === 0) this.pending.push([stream, data]);
    for (const cb of this.dataListeners) cb(stream, data);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
    for (const cb of this.closeListeners.splice(0)) cb();
  }
}

/** conmon's `--cuuid`: names the socket-dir symlink; short and derived from the bundle path. */
export function socketName(bundle: string): string {
  return createHash('sha256').update(resolvePath(bundle)).digest('hex').slice(0, 16);
}
