/**
 * A client of a SOCK_SEQPACKET unix socket (node's `net` opens only stream sockets), over the
 * addon in native/seqpacket.c, which `npm run build` compiles (scripts/build-native.js). Each
 * 'data' event is one message as the peer sent it; each write() is sent as one message.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';

interface SeqpacketAddon {
  connect(path: string, onEvent: (kind: string, a?: unknown, b?: unknown) => void): object;
  write(handle: object, data: Buffer, id: number): void;
  end(handle: object): void;
  close(handle: object): void;
}

// The addon sits in dist/, beside this module's compiled file (the build puts it there, so it is
// no source import); loaded on first use so that importing the runtime does not need it.
let addon: SeqpacketAddon | undefined;
function loadAddon(): SeqpacketAddon {
  addon ??= require(join(__dirname, 'native', 'seqpacket.node')) as SeqpacketAddon;
  return addon;
}

/**
 * Events: 'connect', 'data' (Buffer), 'end' (the peer shut down its side), 'error' (Error),
 * 'close' (after close(), once).
 */
export class SeqpacketSocket extends EventEmitter {
  private handle: object | undefined;
  private nextWriteId = 0;
  private readonly writeCallbacks = new Map<number, (err?: Error) => void>();

  /** Connects to `path`; 'connect' or 'error' follows. */
  connect(path: string): void {
    if (this.handle) throw new Error('socket already connected');
    this.handle = loadAddon().connect(path, (kind, a, b) => this.onEvent(kind, a, b));
  }

  /**
   * Queues `data` as one message; `cb` runs once it is sent (or failed). Sending and receiving
   * are separate threads, so this report may come after a 'data' or 'end' that followed it.
   */
  write(data: Buffer, cb?: (err?: Error) => void): void {
    if (!this.handle) {
      if (cb) queueMicrotask(() => cb(new Error('socket is closed')));
      return;
    }
    const id = this.nextWriteId++;
    if (cb) this.writeCallbacks.set(id, cb);
    loadAddon().write(this.handle, data, id);
  }

  /** Shuts our sending side down after the queued messages. */
  end(): void {
    if (this.handle) loadAddon().end(this.handle);
  }

  /** Closes the socket; writes not yet sent fail. */
  close(): void {
    if (!this.handle) return;
    loadAddon().close(this.handle);
    this.handle = undefined;
    const pending = [...this.writeCallbacks.values()];
    this.writeCallbacks.clear();
    for (const cb of pending) cb(new Error('socket closed'));
    queueMicrotask(() => this.emit('close'));
  }

  private onEvent(kind: string, a: unknown, b: unknown): void {
    if (kind === 'written') {
      const cb = this.writeCallbacks.get(a as number);
      this.writeCallbacks.delete(a as number);
      cb?.(b === undefined ? undefined : new Error(b as string));
      return;
    }
    if (!this.handle) return; // closed: the threads' last words are not news
    if (kind === 'data') this.emit('data', a as Buffer);
    else if (kind === 'connect') this.emit('connect');
    else if (kind === 'end') this.emit('end');
    else if (kind === 'error') this.emit('error', new Error(a as string));
  }
}
