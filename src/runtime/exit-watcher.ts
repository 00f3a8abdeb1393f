/**
 * Tells the engine promptly when a container exits, by watching the monitor's exit directory:
 * conmon writes `<exit-dir>/<id>.tmp` and renames it to `<exit-dir>/<id>` holding the exit code
 * (128+N for a signal). Works for containers launched by an earlier daemon process, since the
 * files outlive it: watching an id whose file already exists reports at once. fs.watch gives the
 * prompt path; a slow poll covers filesystems and races where an event gets lost.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export type ExitCallback = (exitCode: number) => void;

export interface ExitWatcherOptions {
  /** Interval of the safety poll (default 2000 ms). */
  pollIntervalMs?: number;
}

/** Read `<exitDir>/<id>`: the exit code, or undefined while the container has not exited. */
export async function readExitFile(exitDir: string, id: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(join(exitDir, id), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed)) return undefined; // not fully written yet
  return Number(trimmed);
}

export class ExitWatcher {
  private readonly waiting = new Map<string, Set<ExitCallback>>();
  private watcher: FSWatcher | undefined;
  private watcherStarting = false;
  private poller: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly pollIntervalMs: number;

  constructor(
    private readonly exitDir: string,
    opts: ExitWatcherOptions = {},
  ) {
    this.pollIntervalMs = opts.pollIntervalMs ?? 2000;
  }

  /**
   * Call `cb` once with the exit code of container `id` (immediately if it already exited).
   * Returns a function that cancels the watch.
   */
  watch(id: string, cb: ExitCallback): () => void {
    if (this.closed) throw new Error('exit watcher is closed');
    let set = this.waiting.get(id);
    if (!set) this.waiting.set(id, (set = new Set()));
    set.add(cb);
    this.ensureRunning();
    void this.check(id);
    return () => this.forget(id, cb);
  }

  /** Stop watching everything. Pending callbacks are never called. */
  close(): void {
    this.closed = true;
    this.waiting.clear();
    this.stop();
  }

  private forget(id: string, cb: ExitCallback): void {
    const set = this.waiting.get(id);
    if (!set) return;
    set.delete(cb);
    if (set.size === 0) this.waiting.delete(id);
    if (this.waiting.size === 0) this.stop();
  }

  private ensureRunning(): void {
    if (!this.poller) {
      this.poller = setInterval(() => this.checkAll(), this.pollIntervalMs);
      this.poller.unref();
    }
    if (!this.watcher && !this.watcherStarting) void this.startWatcher();
  }

  private async startWatcher(): Promise<void> {
    this.watcherStarting = true;
    try {
      await mkdir(this.exitDir, { recursive: true });
      if (this.closed || this.waiting.size === 0) return;
      const w = watch(this.exitDir, { persistent: false }, (_event, name) => {
        if (name === null) this.checkAll();
        else if (this.waiting.has(String(name))) void this.check(String(name));
      });
      w.on('error', () => {
        w.close();
        if (this.watcher === w) this.watcher = undefined; // the poll keeps working
      });
      this.watcher = w;
      this.checkAll(); // an exit between the first check and the watch must not be missed
    } catch {
      // no watcher: the poll covers it
    } finally {
      this.watcherStarting = false;
    }
  }

  private stop(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
  }

  private checkAll(): void {
    for (const id of this.waiting.keys()) void this.check(id);
  }

  private async check(id: string): Promise<void> {
    let code: number | undefined;
    try {
      code = await readExitFile(this.exitDir, id);
    } catch {
      return; // unreadable for now; the next event or poll retries
    }
    if (code === undefined) return;
    const set = this.waiting.get(id);
    if (!set) return;
    this.waiting.delete(id);
    for (const cb of set) cb(code);
    if (this.waiting.size === 0) this.stop();
  }
}

/**
 * Watch one container's exit file: `onExit(code)` runs once the monitor has written
 * `<exitDir>/<id>` (at once if it already exists). `close()` cancels.
 */
export function watchExit(exitDir: string, id: string, onExit: ExitCallback): { close(): void } {
  const watcher = new ExitWatcher(exitDir);
  watcher.watch(id, (code) => {
    watcher.close();
    onExit(code);
  });
  return { close: () => watcher.close() };
}
