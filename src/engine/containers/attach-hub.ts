import type { Logger } from 'pino';
import type { AttachSession } from '../../runtime/types';
import type { AttachOptions, AttachStreams } from './types';
import { DEFAULT_DETACH_KEYS, DetachScanner, parseDetachKeys } from './detach-keys';

/** One client attached to a container (or waiting for it to start). */
interface Client {
  opts: AttachOptions;
  streams: AttachStreams;
  tty: boolean;
  stdinOnce: boolean;
  openStdin: boolean;
  session?: AttachSession;
  closed: boolean;
}

/**
 * Connects attach clients to a container's monitor. Clients that attach before the container
 * runs (`docker run`, `docker start -a`) wait here and are connected right after the runtime
 * created the container and before it starts, so no output is lost.
 */
export class AttachHub {
  private readonly waiting = new Map<string, Set<Client>>();

  /** Told when a client detached with its detach keys (the `detach` event). */
  onDetach?: (id: string) => void;

  constructor(private readonly log: Logger) {}

  /** Registers a client; returns a function that connects it to a live session. */
  add(id: string, opts: AttachOptions, streams: AttachStreams, cfg: { tty: boolean; stdinOnce: boolean; openStdin: boolean }): Client {
    const client: Client = { opts, streams, ...cfg, closed: false };
    let set = this.waiting.get(id);
    if (!set) this.waiting.set(id, (set = new Set()));
    set.add(client);
    streams.onClose(() => this.close(id, client));
    return client;
  }

  /** Connects every waiting client of `id` through `open()`, which opens a monitor session. */
  async connectAll(id: string, open: () => Promise<AttachSession>): Promise<void> {
    const set = this.waiting.get(id);
    if (!set) return;
    await Promise.all([...set].filter((c) => !c.session && !c.closed).map((c) => this.connect(id, c, open)));
  }

  async connect(id: string, client: Client, open: () => Promise<AttachSession>): Promise<void> {
    let session: AttachSession;
    try {
      session = await open();
    } catch (err) {
      this.log.warn({ err, container: id }, 'attach to monitor failed');
      this.close(id, client);
      return;
    }
    if (client.closed) {
      session.close();
      return;
    }
    client.session = session;
    const { opts, streams } = client;
    session.onData((stream, data) => {
      if ((stream === 1 && opts.stdout) || (stream === 2 && opts.stderr)) streams.write(client.tty ? 1 : stream, data);
    });
    session.onClose(() => this.close(id, client));
    const stdin = streams.stdin;
    if (opts.stdin && stdin && client.openStdin) {
      // dockerd looks for the detach keys only with a TTY: without one stdin is binary-safe.
      const scanner = client.tty && opts.detachKeys !== null ? new DetachScanner(parseDetachKeys(opts.detachKeys || DEFAULT_DETACH_KEYS)) : undefined;
      stdin.on('data', (chunk: Buffer) => {
        const { forward, detached } = scanner ? scanner.feed(chunk) : { forward: chunk, detached: false };
        if (forward.length) session.write(forward);
        if (detached) {
          this.onDetach?.(id);
          this.close(id, client);
        }
      });
      stdin.on('end', () => {
        // dockerd: with StdinOnce (and no TTY) the container's stdin is closed and output goes on
        // until it exits; otherwise the client's EOF ends this attach session.
        if (client.stdinOnce && !client.tty) session.closeStdin();
        else this.close(id, client);
      });
      stdin.resume();
    }
  }

  /** Ends every client of a container (it exited or was removed). */
  endAll(id: string): void {
    for (const c of this.waiting.get(id) ?? []) this.close(id, c);
  }

  /** Ends clients that never got a session (e.g. start failed). */
  endUnconnected(id: string): void {
    for (const c of this.waiting.get(id) ?? []) if (!c.session) this.close(id, c);
  }

  private close(id: string, client: Client): void {
    if (client.closed) return;
    client.closed = true;
    client.session?.close();
    client.streams.end();
    const set = this.waiting.get(id);
    set?.delete(client);
    if (set && set.size === 0) this.waiting.delete(id);
  }
}
