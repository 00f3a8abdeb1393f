import { open, stat, type FileHandle } from 'node:fs/promises';
import { watch } from 'node:fs';
import { decodeJsonLogEntry, type DecodedEntry } from './json-log-entry';
import type { LogRecord, LogsOptions } from './types';

/*
 * Reads a container's json-file log (json-log-entry.ts), one entry per line, as dockerd's
 * json-file reader does: each entry is one record (a partial line's entry lacks its newline).
 */

/** Unix time in (fractional) seconds of an RFC3339Nano timestamp, keeping nanosecond order. */
export function timeToSeconds(time: string): number {
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return Date.parse(time) / 1000;
  const whole = Date.parse(`${m[1]}${m[3]}`) / 1000;
  return whole + (m[2] ? Number(`0.${m[2]}`) : 0);
}

/** Docker's fixed-width RFC3339Nano in UTC: `2006-01-02T15:04:05.000000000Z`. */
export function formatTimestamp(time: string): string {
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return time;
  const iso = new Date(Date.parse(`${m[1]}${m[3]}`)).toISOString().slice(0, 19);
  return `${iso}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}Z`;
}

const CHUNK = 64 * 1024;

/**
 * Where the last `lines` complete records of a file begin, reading backwards in chunks, and how
 * many records it found (fewer than asked: the file holds no more).
 */
async function tailOffset(path: string, lines: number): Promise<{ offset: number; seen: number }> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    let pos = size;
    let seen = 0;
    const buf = Buffer.alloc(CHUNK);
    // Skip a trailing newline: it ends the last record, it does not start a new one.
    let skipLast = true;
    while (pos > 0) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      await fh.read(buf, 0, len, pos);
      for (let i = len - 1; i >= 0; i--) {
        if (buf[i] !== 0x0a) continue;
        if (skipLast && pos + i === size - 1) continue;
        skipLast = false;
        seen++;
        if (seen === lines) return { offset: pos + i + 1, seen };
      }
    }
    // The first record has no newline before it.
    return { offset: 0, seen: size > 0 ? seen + 1 : 0 };
  } finally {
    await fh.close();
  }
}

/**
 * Yields log records from `files` (json-file entries, or what `decode` reads) (oldest first; the last one is the live log, earlier ones
 * rotated out of it), in batches: the records of one read of the file each (a step per record
 * was most of the cost of a large `docker logs`). With `follow`, keeps reading the live file as
 * it grows, across rotations, until `isDone()` is true and everything written has been read,
 * or the signal aborts.
 */
export async function* readLogs(files: string | string[], opts: LogsOptions, isDone: () => boolean, stopped?: Promise<unknown>, decode: (line: string) => DecodedEntry | undefined = decodeJsonLogEntry): AsyncGenerator<LogRecord[]> {
  const list = typeof files === 'string' ? [files] : files;
  const live = list[list.length - 1];
  let first = 0;
  let offset = 0;
  if (opts.tail !== undefined) {
    if (opts.tail === 0 && !opts.follow) return;
    first = list.length - 1;
    if (opts.tail === 0) offset = (await stat(live).catch(() => ({ size: 0 }))).size;
    else {
      // Newest file first, back into rotated ones until `tail` records are found.
      let remaining = opts.tail;
      for (let i = list.length - 1; i >= 0; i--) {
        const t = await tailOffset(list[i], remaining).catch(() => ({ offset: 0, seen: 0 }));
        first = i;
        offset = t.offset;
        if (t.seen >= remaining) break;
        remaining -= t.seen;
      }
    }
  }
  let rest = Buffer.alloc(0);
  const wanted = (p: DecodedEntry) => (p.stream === 'stdout' ? opts.stdout : opts.stderr);
  const inRange = (time: string) => {
    const t = timeToSeconds(time);
    return (!opts.since || t >= opts.since) && (!opts.until || t <= opts.until);
  };

  /** Reads `fh` from `offset` to its end. */
  const drain = async function* (fh: FileHandle): AsyncGenerator<LogRecord[]> {
    const buf = Buffer.alloc(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      // Split on bytes: a chunk may end inside a multi-byte character.
      const data = Buffer.concat([rest, buf.subarray(0, bytesRead)]);
      const end = data.lastIndexOf(0x0a);
      rest = Buffer.from(data.subarray(end + 1));
      if (end < 0) continue;
      const batch: LogRecord[] = [];
      for (const line of data.toString('utf8', 0, end).split('\n')) {
        const p = decode(line);
        if (!p || !wanted(p) || !inRange(p.time)) continue;
        batch.push({ stream: p.stream, time: p.time, text: p.text });
      }
      if (batch.length) yield batch;
    }
  };

  for (let i = first; i < list.length - 1; i++) {
    const fh = await open(list[i], 'r').catch(() => undefined);
    if (fh) {
      try {
        yield* drain(fh);
      } finally {
        await fh.close();
      }
    }
    offset = 0;
    rest = Buffer.alloc(0);
  }
  let fh = await open(live, 'r').catch(() => undefined);
  try {
    if (fh) yield* drain(fh);
    if (!opts.follow) return;
    while (!opts.signal?.aborted) {
      const done = isDone();
      await waitForChange(live, opts.signal, done ? 0 : 250, stopped);
      if (fh) yield* drain(fh);
      // Rotated (or created) meanwhile: what the old file got is read above; go on with the new one.
      const now = await stat(live).catch(() => undefined);
      const current = fh ? await fh.stat().catch(() => undefined) : undefined;
      if (now && (!current || now.ino !== current.ino)) {
        await fh?.close();
        fh = await open(live, 'r').catch(() => undefined);
        offset = 0;
        rest = Buffer.alloc(0);
        if (fh) yield* drain(fh);
      }
      if (done) return;
      if (opts.until && Date.now() / 1000 > opts.until) return;
    }
  } finally {
    await fh?.close();
  }
}

/** Resolves when the file changes, after `ms` at most, on abort, or when the container stops. */
function waitForChange(path: string, signal: AbortSignal | undefined, ms: number, stopped?: Promise<unknown>): Promise<void> {
  if (ms === 0) return Promise.resolve();
  return new Promise((resolve) => {
    let watcher: ReturnType<typeof watch> | undefined;
    const finish = () => {
      clearTimeout(timer);
      watcher?.close();
      signal?.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    try {
      watcher = watch(path, finish);
      watcher.on('error', finish);
    } catch {
      // The file may not exist yet; the timer covers it.
    }
    signal?.addEventListener('abort', finish);
    void stopped?.then(finish, finish);
  });
}
