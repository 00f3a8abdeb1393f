/**
 * The daemon's event log (`docker events`): what happened to containers, images, networks and
 * volumes, as dockerd's `events.Message`. The latest events are kept in memory for `since`
 * replays (dockerd keeps 256 too); subscribers get new events as they are published.
 */

export type EventType = 'container' | 'image' | 'network' | 'volume' | 'daemon';

export interface EventActor {
  ID: string;
  Attributes: Record<string, string>;
}

export interface EventMessage {
  Type: EventType;
  Action: string;
  Actor: EventActor;
  scope: 'local';
  /** Seconds since the epoch. */
  time: number;
  /** Nanoseconds since the epoch (beyond a double's precision, hence bigint). */
  timeNano: bigint;
  /** Deprecated fields clients up to API 1.51 still read (compose v1): Action, Actor.ID, image. */
  status?: string;
  id?: string;
  from?: string;
}

/** What engine services publish into. */
export interface EventSink {
  publish(type: EventType, action: string, actor: EventActor): void;
}

export interface SubscribeOptions {
  /** Replay buffered events at or after this time (ms since the epoch). */
  since?: number;
  /** End the stream at this time (ms since the epoch); past events only when it is past. */
  until?: number;
  filter?: (e: EventMessage) => boolean;
  signal?: AbortSignal;
}

const BUFFERED_EVENTS = 256;

export class EventLog implements EventSink {
  private readonly buffer: EventMessage[] = [];
  private readonly listeners = new Set<(e: EventMessage) => void>();
  private lastNano = 0n;

  publish(type: EventType, action: string, actor: EventActor): void {
    const timeNano = this.nowNano();
    const msg: EventMessage = {
      Type: type,
      Action: action,
      Actor: { ID: actor.ID, Attributes: { ...actor.Attributes } },
      scope: 'local',
      time: Number(timeNano / 1_000_000_000n),
      timeNano,
    };
    // dockerd fills the legacy fields for container and image events only.
    if (type === 'container' || type === 'image') {
      msg.status = action;
      msg.id = actor.ID;
      if (type === 'container' && actor.Attributes.image !== undefined) msg.from = actor.Attributes.image;
    }
    this.buffer.push(msg);
    if (this.buffer.length > BUFFERED_EVENTS) this.buffer.shift();
    for (const l of this.listeners) l(msg);
  }

  /** Buffered events from `since`, then live ones until `until` or the signal. */
  async *subscribe(opts: SubscribeOptions = {}): AsyncGenerator<EventMessage> {
    const filter = opts.filter ?? (() => true);
    const untilNano = opts.until !== undefined ? BigInt(Math.floor(opts.until * 1e6)) : undefined;
    const sinceNano = opts.since !== undefined ? BigInt(Math.floor(opts.since * 1e6)) : undefined;
    const inWindow = (e: EventMessage) => (sinceNano === undefined || e.timeNano >= sinceNano) && (untilNano === undefined || e.timeNano <= untilNano);

    const queue: EventMessage[] = [];
    let wake: (() => void) | undefined;
    const listener = (e: EventMessage) => {
      queue.push(e);
      wake?.();
    };
    this.listeners.add(listener);
    const onAbort = () => wake?.();
    opts.signal?.addEventListener('abort', onAbort);
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    if (untilNano !== undefined) {
      const ms = Number(untilNano / 1_000_000n) - Date.now();
      timer = setTimeout(() => {
        timedOut = true;
        wake?.();
      }, Math.max(0, ms));
    }
    // Taken in the same tick as the listener was added: the queue holds exactly what comes after.
    const past = sinceNano !== undefined || untilNano !== undefined ? this.buffer.filter((e) => inWindow(e) && filter(e)) : [];
    try {
      for (const e of past) yield e;
      // An `until` in the past: the replay is all there is.
      if (untilNano !== undefined && untilNano <= this.nowNanoPeek()) return;
      for (;;) {
        while (queue.length) {
          const e = queue.shift()!;
          if (untilNano !== undefined && e.timeNano > untilNano) return;
          if (filter(e)) yield e;
        }
        if (opts.signal?.aborted || timedOut) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      clearTimeout(timer);
      this.listeners.delete(listener);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Strictly increasing, so `since` replays are exact even for events in the same microsecond. */
  private nowNano(): bigint {
    let n = this.nowNanoPeek();
    if (n <= this.lastNano) n = this.lastNano + 1n;
    this.lastNano = n;
    return n;
  }

  private nowNanoPeek(): bigint {
    const ms = performance.timeOrigin + performance.now();
    return BigInt(Math.floor(ms * 1000)) * 1000n;
  }
}
