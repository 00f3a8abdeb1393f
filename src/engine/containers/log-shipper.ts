/**
 * Turns the monitor's k8s-file log (`<RFC3339Nano> stdout|stderr F|P <text>`, all conmon
 * writes) into the json-file log at LogPath that `docker logs` and log shippers read, as dockerd
 * writes it (json-log-entry.ts). One tail (log-tail.ts) per container with a file log; design
 * and crash rules in docs/logging.md:
 * - a line split by the monitor (`P` records) becomes one entry, as dockerd's copier joins
 *   what a process writes until its newline; lines over 16 KiB are split into partial entries;
 * - progress is recorded in `<container>/log-ship.json` after every write: the monitor log's
 *   offset shipped so far and the JSON file's inode and size at that moment. A daemon that
 *   stops (or dies) between a write and its record finds bytes beyond the recorded size on
 *   start, cuts them and ships them again, so every line is written exactly once, including
 *   what the container printed while no daemon ran;
 * - once the monitor has exited and its log is shipped, the monitor log is removed;
 * - the monitor log is trimmed once shipped past TRIM_AT: renamed to `.old`, conmon told to
 *   reopen (it starts a new file), the rest of `.old` shipped, `.old` removed.
 */
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { Tail, type ShipTarget } from './log-tail';

export type { ShipTarget };

/** Shipped monitor logs beyond this size are trimmed while the container runs. */
const TRIM_AT = 4 * 1024 * 1024;
/**
 * Fallback poll of every followed log, in case a watch event is lost (watch events are the fast
 * path). One timer for all containers, not one each.
 */
const POLL_MS = 1000;

export class LogShipper {
  private readonly tails = new Map<string, Tail>();
  private readonly finishing = new Map<string, Promise<void>>();
  private poll?: NodeJS.Timeout;

  /** `trimAt`: monitor log size that triggers a trim (tests make it small). */
  constructor(
    private readonly log: Logger,
    private readonly trimAt = TRIM_AT,
  ) {}

  /** Ships what is there, then keeps following the monitor log until finish/close. */
  follow(target: ShipTarget): void {
    if (this.tails.has(target.id)) return;
    const tail = new Tail(target, this.log, this.trimAt);
    this.tails.set(target.id, tail);
    tail.follow();
    this.poll ??= setInterval(() => {
      for (const t of this.tails.values()) t.kick();
      if (this.tails.size === 0) this.stopPolling();
    }, POLL_MS).unref();
  }

  private stopPolling(): void {
    clearInterval(this.poll);
    this.poll = undefined;
  }

  /** Ships everything the monitor wrote (it has exited) and stops following. */
  async finish(target: ShipTarget): Promise<void> {
    const tail = this.tails.get(target.id) ?? new Tail(target, this.log, this.trimAt);
    this.tails.delete(target.id);
    const done = tail.finish();
    this.finishing.set(target.id, done);
    try {
      await done;
    } finally {
      if (this.finishing.get(target.id) === done) this.finishing.delete(target.id);
    }
  }

  /**
   * Ships what the monitor has written so far, so a reader right after (`docker logs` just after
   * start, as dockerd's synchronous copier allows) sees every complete line.
   */
  async catchUp(id: string): Promise<void> {
    const finishing = this.finishing.get(id);
    if (finishing) return finishing.catch(() => undefined);
    await this.tails.get(id)?.catchUp();
  }

  /** Before a new run: the old monitor log was shipped by finish(); a new one starts empty. */
  async reset(target: ShipTarget): Promise<void> {
    const old = this.tails.get(target.id);
    this.tails.delete(target.id);
    await old?.stop(); // nothing of the old tail may write after this
    await rm(target.monitorLog, { force: true });
    await rm(`${target.monitorLog}.old`, { force: true });
    await rm(target.statePath, { force: true });
    await mkdir(dirname(target.monitorLog), { recursive: true });
  }

  /** Stops following without the final flush (what is left is shipped after the next start). */
  forget(id: string): void {
    void this.tails.get(id)?.stop();
    this.tails.delete(id);
  }

  close(): void {
    for (const t of this.tails.values()) void t.stop();
    this.tails.clear();
    this.stopPolling();
  }
}
