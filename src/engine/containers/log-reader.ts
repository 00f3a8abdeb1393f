import { open, stat } from 'node:fs/promises';
import { watch } from 'node:fs';
import type { LogRecord, LogsOptions } from './types';

/**
 * Reads the monitor's k8s-file log: one line per record, `<RFC3339Nano> <stdout|stderr> <F|P> <text>`.
 * `P` marks a partial line whose text continues in the next record of the same stream.
 */
export interface ParsedLine {
  time: string;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  text: string;
}

export function parseLogLine(line: string): ParsedLine | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  return { time: line.slice(0, a), stream, partial: tag === 'P', text: c < 0 ? '' : line.slice(c + 1) };
}

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

/** Byte offset where the last `lines` complete records begin, reading backwards in chunks. */
async function tailOffset(path: string, lines: number): Promise<number> {
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
        if (seen === lines) return pos + i + 1;
      }
    }
    return 0;
  } finally {
    await fh.close();
  }
}

/**
 * Yields log records from `path`. With `follow`, keeps reading as the file grows until
 * `isDone()` is true and everything written has been read, or the signal aborts.
 */
export async function* readLogs(path: string, opts: LogsOptions, isDone: () => boolean): AsyncGenerator<LogRecord> {
  let offset = 0;
  if (opts.tail !== undefined) {
    if (opts.tail === 0 && !opts.follow) return;
    offset = opts.tail === 0 ? (await stat(path).catch(() => ({ size: 0 }))).size : await tailOffset(path, opts.tail).catch(() => 0);
  }
  const pending: Record<'stdout' | 'stderr', { time: string; parts: string[] } | undefined> = { stdout: undefined, stderr: undefined };
  let rest = '';
  const wanted = (p: ParsedLine) => (p.stream === 'stdout' ? opts.stdout : opts.stderr);
  const inRange = (time: string) => {
    const t = timeToSeconds(time);
    return (!opts.since || t >= opts.since) && (!opts.until || t <= opts.until);
  };

  const drain = async function* (): AsyncGenerator<LogRecord> {
    const fh = await open(path, 'r').catch(() => undefined);
    if (!fh) return;
    try {
      const buf = Buffer.alloc(CHUNK);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, CHUNK, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        const text = rest + buf.toString('utf8', 0, bytesRead);
        const lines = text.split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          const p = parseLogLine(line);
          if (!p || !wanted(p)) continue;
          const acc = pending[p.stream] ?? { time: p.time, parts: [] };
          acc.parts.push(p.text);
          if (p.partial) {
            pending[p.stream] = acc;
            continue;
          }
          pending[p.stream] = undefined;
          if (!inRange(acc.time)) continue;
          yield { stream: p.stream, time: acc.time, data: Buffer.from(acc.parts.join('') + '\n') };
        }
      }
    } finally {
      await fh.close();
    }
  };

  yield* drain();
  if (!opts.follow) return;
  while (!opts.signal?.aborted) {
    const done = isDone();
    await waitForChange(path, opts.signal, done ? 0 : 250);
    yield* drain();
    if (done) return;
    if (opts.until && Date.now() / 1000 > opts.until) return;
  }
}

/** Resolves when the file changes, after `ms` at most, or on abort. */
function waitForChange(path: string, signal: AbortSignal | undefined, ms: number): Promise<void> {
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
  });
}
