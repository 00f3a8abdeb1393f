import type { LogRecord } from '../../engine/containers/types';
import { formatTimestamp } from '../../engine/containers/log-reader';
import { frame } from './stdcopy';

/** One log record as `docker logs` expects it: optional timestamp prefix, framed unless TTY. */
export function encodeLogRecord(r: LogRecord, opts: { tty: boolean; timestamps: boolean; details?: string }): Buffer {
  // dockerd's order: timestamp, then the details (`k=v,...` and a space, even when empty), then the line.
  const prefix = `${opts.timestamps ? `${formatTimestamp(r.time)} ` : ''}${opts.details !== undefined ? `${opts.details} ` : ''}`;
  const data = prefix ? Buffer.concat([Buffer.from(prefix), r.data]) : r.data;
  return opts.tty ? data : frame(r.stream === 'stdout' ? 1 : 2, data);
}
