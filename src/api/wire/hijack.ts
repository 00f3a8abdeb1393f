import type { Socket } from 'node:net';
import type { AttachStreams } from '../../engine/containers/types';
import { STATUS_CODES } from 'node:http';
import { errorBody, statusOf } from '../errors';
import { frame, MEDIA_MULTIPLEXED, MEDIA_RAW } from './stdcopy';
import { versionAtLeast } from '../version';

/**
 * A connection taken over from HTTP for attach/exec: either an `Upgrade: tcp` request answered
 * with `101 UPGRADED`, or a plain request answered with a raw 200 stream (pre-1.24 clients).
 * Headers are written by `begin()`, only once the engine has validated the request; until then
 * an error becomes an ordinary HTTP error response.
 */
export class HijackedConnection {
  private started = false;
  private ended = false;

  constructor(
    readonly socket: Socket,
    private readonly upgrade: boolean,
    private readonly apiVersion: string,
    private readonly extraHeaders: Record<string, string>,
  ) {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
  }

  /** Writes the status line and headers; `multiplexed` selects the content type (API ≥ 1.42). */
  begin(multiplexed: boolean): void {
    if (this.started) return;
    this.started = true;
    const type = multiplexed && versionAtLeast(this.apiVersion, '1.42') ? MEDIA_MULTIPLEXED : MEDIA_RAW;
    const head = this.upgrade
      ? ['HTTP/1.1 101 UPGRADED', `Content-Type: ${type}`, 'Connection: Upgrade', 'Upgrade: tcp']
      : ['HTTP/1.1 200 OK', `Content-Type: ${type}`];
    for (const [k, v] of Object.entries(this.extraHeaders)) head.push(`${k}: ${v}`);
    this.socket.write(head.join('\r\n') + '\r\n\r\n');
  }

  /** Writes container output: framed unless the stream is a TTY. */
  write(stream: 1 | 2, data: Buffer, tty: boolean): void {
    if (this.ended || this.socket.destroyed) return;
    this.socket.write(tty ? data : frame(stream, data));
  }

  /** Ends the session after everything written has been flushed. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.started) this.begin(false);
    this.socket.end();
  }

  /** Answers a plain empty 200 when nothing is streamed (a detached exec start, as dockerd). */
  endEmpty(): void {
    if (this.started) return this.end();
    if (this.ended) return;
    this.ended = true;
    this.started = true;
    this.socket.end(
      'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n' + Object.entries(this.extraHeaders).map(([k, v]) => `${k}: ${v}\r\n`).join('') + 'Connection: close\r\n\r\n',
    );
  }

  /** Answers an error: an HTTP response if nothing was sent yet, else just closes. */
  fail(err: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (this.started) {
      this.socket.destroy();
      return;
    }
    const status = statusOf(err);
    const body = errorBody(err);
    this.socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        Object.entries(this.extraHeaders).map(([k, v]) => `${k}: ${v}\r\n`).join('') +
        `Connection: close\r\n\r\n${body}`,
    );
  }
}

/**
 * Reads a request body of `length` bytes that follows the headers on an upgraded socket
 * (`head` holds bytes already read); what comes after it is pushed back as stdin.
 */
export function readUpgradeBody(socket: Socket, head: Buffer, length: number): Promise<Buffer> {
  if (length <= 0) {
    if (head.length) socket.unshift(head);
    return Promise.resolve(Buffer.alloc(0));
  }
  return new Promise((resolve, reject) => {
    let buf = head;
    const done = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      const rest = buf.subarray(length);
      if (rest.length) socket.unshift(rest);
      resolve(buf.subarray(0, length));
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= length) done();
    };
    const onEnd = () => reject(new Error('connection closed before the request body was complete'));
    if (buf.length >= length) return done();
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.resume();
  });
}

/**
 * The engine's view of a hijacked connection (attach, exec start): headers go out when the
 * engine asks for the streams, output is framed unless the session has a TTY.
 */
export function hijackedStreams(conn: HijackedConnection, tty: boolean): AttachStreams {
  conn.begin(!tty);
  return {
    stdin: conn.socket,
    write: (stream, data) => conn.write(stream, data, tty),
    end: () => conn.end(),
    onClose: (cb) => conn.socket.once('close', cb),
  };
}
