import type { LogRecord } from '../../engine/containers/types';
import { formatTimestamp } from '../../engine/containers/log-reader';
import { frame } from './stdcopy';

/** One log record as `docker logs` expects it: optional timestamp prefix, framed unless TTY. */
export function encodeLogRecord(r: LogRecord, opts: { tty: boolean; timestamps: boolean }): Buffer {
  const data = opts.timestamps ? Buffer.concat([Buffer.from(formatTimestamp(r.time) + ' '), r.data]) : r.data;
  return opts.tty ? data : frame(r.stream === 'stdout' ? 1 : 2, data);
}
