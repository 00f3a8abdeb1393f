/**
 * One container's log shipping: reads the monitor's k8s-file log, joins and splits lines as
 * dockerd's copier does, appends json-file entries with rotation, and records its progress so a
 * restarted daemon ships every line exactly once. The design and crash rules are in
 * log-shipper.ts's header and docs/logging.md.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../../host/atomic-file';
import { encodeJsonLogEntry, utcRfc3339Nano } from './json-log-entry';
import { JsonLogFile, type FilePosition, type RotationSettings } from './json-log-file';

/** dockerd's copier emits a line longer than this in partial entries. */
const MAX_ENTRY = 16 * 1024;
const READ_CHUNK = 256 * 1024;
const MIN_READ = 16 * 1024;

export interface ShipTarget {
  id: string;
  /** conmon's k8s-file log; its directory holds nothing else. */
  monitorLog: string;
  /** Where progress is recorded (outside the monitor log's directory). */
  statePath: string;
  /** The json-file log (LogPath for json-file). */
  logPath: string;
  rotation: RotationSettings;
  attrs: ReadonlyMap<string, string>;
  /** Asks the monitor to reopen its log file (it starts a new one at `monitorLog`). */
  reopen(): Promise<void>;
}

interface ShipState {
  /** Bytes of the monitor log (or of `.old` while trimming) shipped. */
  offset: number;
  trimming: boolean;
  json?: FilePosition;
}

type Stream = 'stdout' | 'stderr';

/** Ships the monitor log of one container (see the header). */
export class Tail {
  private state?: ShipState;
  private readonly out: JsonLogFile;
  private chain: Promise<void> = Promise.resolve();
  private queued = false;
  private stopped = false;
  private watcher?: FSWatcher;
  /** Parsed but not shipped: the records of a line still open, per stream. */
  private readonly pending: Record<Stream, { start: number; time: string; parts: Buffer[]; length: number } | undefined> = { stdout: undefined, stderr: undefined };
  /** Where reading goes on (beyond `state.offset` while a line is open). */
  private readOffset = 0;

  constructor(
    private readonly t: ShipTarget,
    private readonly log: Logger,
    private readonly trimAt: number,
  ) {
    this.out = new JsonLogFile(t.logPath, t.rotation);
  }

  follow(): void {
    this.kick();
    try {
      this.watcher = watch(dirname(this.t.monitorLog), () => this.kick());
      this.watcher.on('error', () => undefined);
    } catch {
      // No directory yet: the shipper's poll covers it.
    }
  }

  async finish(): Promise<void> {
    this.stopWatching();
    await this.enqueue(async () => {
      await this.pump();
      await this.flushPending();
      // The monitor is gone and all it wrote is shipped: its log need not take disk any more.
      // Removed before the offset is reset, so a stop in between cannot ship it twice.
      await rm(this.t.monitorLog, { force: true });
      await rm(`${this.t.monitorLog}.old`, { force: true });
      this.readOffset = 0;
      await this.save({ ...this.state!, offset: 0, trimming: false });
    });
    await this.out.close();
  }

  catchUp(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return this.enqueue(() => this.pump());
  }

  /** Stops following; resolves once the write in progress (if any) is over. */
  stop(): Promise<void> {
    this.stopped = true;
    this.stopWatching();
    return this.chain.then(() => this.out.close());
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Ships what is new, unless a pass is already queued. */
  kick(): void {
    if (this.queued || this.stopped) return;
    this.queued = true;
    void this.enqueue(async () => {
      this.queued = false;
      if (this.stopped) return;
      await this.pump();
      await this.maybeTrim();
    });
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn).catch((err: unknown) => this.log.warn({ err, container: this.t.id }, 'log shipping failed'));
    this.chain = run;
    return run;
  }

  /** Loads the recorded progress and repairs what a stop between a write and its record left. */
  private async load(): Promise<ShipState> {
    if (this.state) return this.state;
    let s: ShipState = { offset: 0, trimming: false };
    try {
      s = JSON.parse(await readFile(this.t.statePath, 'utf8')) as ShipState;
    } catch {
      await this.adoptLegacyLog();
    }
    const oldExists = await exists(`${this.t.monitorLog}.old`);
    if (s.trimming && !oldExists) s = { ...s, trimming: false }; // stopped before the rename
    if (!s.trimming && oldExists) await rm(`${this.t.monitorLog}.old`, { force: true }); // stopped before the removal
    await mkdir(dirname(this.t.logPath), { recursive: true });
    await this.out.open(s.json);
    this.readOffset = s.offset;
    this.state = s;
    return s;
  }

  /**
   * A container of an older Berth kept the monitor's own lines at LogPath: they become the
   * monitor log to ship (a running monitor keeps writing to the same file).
   */
  private async adoptLegacyLog(): Promise<void> {
    if (await exists(this.t.monitorLog)) return;
    const head = await readHead(this.t.logPath);
    if (head === undefined || head === '' || head.startsWith('{')) return;
    await mkdir(dirname(this.t.monitorLog), { recursive: true });
    await rename(this.t.logPath, this.t.monitorLog);
  }

  private async save(s: ShipState): Promise<void> {
    this.state = s;
    await writeFileAtomic(this.t.statePath, JSON.stringify(s));
  }

  private source(s: ShipState): string {
    return s.trimming ? `${this.t.monitorLog}.old` : this.t.monitorLog;
  }

  /** Ships every complete record the monitor log holds beyond what was shipped. */
  private async pump(): Promise<void> {
    const s = await this.load();
    // Most calls (the poll, watch events of other files) find nothing new: one stat, no open and
    // no buffer. Twenty quiet containers polled this way used to allocate ~20 MB/s.
    const size = await stat(this.source(s)).then((st) => st.size, () => undefined);
    if (size === undefined || size <= this.readOffset) return;
    const fh = await open(this.source(s), 'r').catch(() => undefined);
    if (!fh) return;
    try {
      const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(MIN_READ, size - this.readOffset)));
      let rest = Buffer.alloc(0);
      for (;;) {
        const base = this.readOffset; // file offset of data[0]
        const { bytesRead } = await fh.read(buf, 0, buf.length, base + rest.length);
        if (bytesRead === 0) break;
        const data = rest.length ? Buffer.concat([rest, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
        const entries: Array<{ line: string; committed: number }> = [];
        let at = 0;
        for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, at)) {
          const emitted: string[] = [];
          this.record(data.subarray(at, nl), base + at, (line) => emitted.push(line));
          at = nl + 1;
          this.readOffset = base + at;
          const committed = this.committedOffset();
          for (const line of emitted) entries.push({ line, committed });
        }
        rest = Buffer.from(data.subarray(at));
        await this.write(entries);
      }
    } finally {
      await fh.close();
    }
  }

  /** The offset up to which everything is shipped: the start of the oldest open line, if any. */
  private committedOffset(): number {
    const starts = [this.pending.stdout?.start, this.pending.stderr?.start].filter((x): x is number => x !== undefined);
    return starts.length ? Math.min(...starts) : this.readOffset;
  }

  /** One monitor record: joins `P` parts, emits entries through `emit`. */
  private record(line: Buffer, start: number, emit: (json: string) => void): void {
    const a = line.indexOf(0x20);
    const b = a < 0 ? -1 : line.indexOf(0x20, a + 1);
    if (a < 0 || b < 0) return;
    const stream = line.toString('latin1', a + 1, b);
    if (stream !== 'stdout' && stream !== 'stderr') return;
    const c = line.indexOf(0x20, b + 1);
    const tag = line.toString('latin1', b + 1, c < 0 ? line.length : c);
    const text = c < 0 ? Buffer.alloc(0) : line.subarray(c + 1);
    const time = utcRfc3339Nano(line.toString('latin1', 0, a));
    const acc = this.pending[stream] ?? { start, time, parts: [], length: 0 };
    acc.parts.push(Buffer.from(text));
    acc.length += text.length;
    acc.time = time; // dockerd stamps a line when its end arrives
    this.pending[stream] = acc;
    if (tag === 'P' && acc.length < MAX_ENTRY) return;
    // A line over 16 KiB goes out in partial entries as dockerd's copier splits it.
    const all = Buffer.concat(acc.parts);
    let i = 0;
    for (; all.length - i >= MAX_ENTRY; i += MAX_ENTRY) emit(this.entry(all.subarray(i, i + MAX_ENTRY), stream, time));
    if (tag === 'P') {
      // The line stays open (from this record on) until its end arrives.
      this.pending[stream] = { start, time, parts: [Buffer.from(all.subarray(i))], length: all.length - i };
      return;
    }
    this.pending[stream] = undefined;
    emit(this.entry(Buffer.concat([all.subarray(i), Buffer.from('\n')]), stream, time));
  }

  private entry(log: Buffer, stream: Stream, time: string): string {
    return encodeJsonLogEntry({ log, stream, time, attrs: this.t.attrs });
  }

  /** Appends entries, rotating as needed, and records progress after each write. */
  private async write(entries: Array<{ line: string; committed: number }>): Promise<void> {
    let chunk: Buffer[] = [];
    let bytes = 0;
    let committed = this.state!.offset;
    const record = () => this.save({ ...this.state!, offset: committed, json: this.out.position });
    const flush = async () => {
      if (bytes) await this.out.append(Buffer.concat(chunk));
      chunk = [];
      bytes = 0;
      await record();
    };
    for (const e of entries) {
      if (this.out.fullWith(bytes)) {
        await flush();
        await this.out.rotate();
        await record();
      }
      const b = Buffer.from(e.line);
      chunk.push(b);
      bytes += b.length;
      committed = e.committed;
    }
    // Records that made no entry (the start of an open line, stray lines) move the offset too.
    committed = this.committedOffset();
    if (bytes || committed !== this.state!.offset) await flush();
  }

  /** The container has exited: a line it left without a newline is shipped as it is. */
  private async flushPending(): Promise<void> {
    await this.load();
    const lines: string[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const p = this.pending[stream];
      this.pending[stream] = undefined;
      if (p && p.length) lines.push(this.entry(Buffer.concat(p.parts), stream, p.time));
    }
    if (!lines.length) return;
    await this.write(lines.map((line) => ({ line, committed: this.readOffset })));
  }

  /** Keeps the monitor log small once it is shipped (see the header). */
  private async maybeTrim(): Promise<void> {
    const s = this.state;
    if (!s || s.trimming || this.stopped || this.readOffset < this.trimAt || this.committedOffset() !== this.readOffset) return;
    await this.save({ ...s, trimming: true });
    await rename(this.t.monitorLog, `${this.t.monitorLog}.old`);
    try {
      await this.t.reopen();
      await waitFor(() => exists(this.t.monitorLog), 2000);
    } catch (err) {
      this.log.debug({ err, container: this.t.id }, 'monitor log reopen failed');
    }
    await this.pump();
    await this.flushPending();
    this.readOffset = 0;
    await this.save({ ...this.state!, offset: 0, trimming: false });
    await rm(`${this.t.monitorLog}.old`, { force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

async function readHead(path: string): Promise<string | undefined> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    const b = Buffer.alloc(1);
    const { bytesRead } = await fh.read(b, 0, 1, 0);
    return b.toString('latin1', 0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
