import type { LogRecord } from '../../engine/containers/types';
import { formatTimestamp } from '../../engine/containers/log-reader';

export interface LogEncoding {
  tty: boolean;
  timestamps: boolean;
  details?: string;
}

/** UTF-8 takes at most 3 bytes per UTF-16 code unit (a surrogate pair: 4 bytes for 2 units). */
const MAX_UTF8_PER_UNIT = 3;

/**
 * Log records as `docker logs` expects them, in one buffer: each line after its optional
 * prefix (dockerd's order: timestamp, then the details `k=v,...` and a space, even when empty),
 * framed (stdcopy) unless TTY. One write per batch instead of one per line, and each line is
 * encoded straight into it.
 */
export function encodeLogBatch(records: readonly LogRecord[], opts: LogEncoding): Buffer {
  const details = opts.details !== undefined ? `${opts.details} ` : '';
  const header = opts.tty ? 0 : 8;
  let bound = 0;
  // Docker's timestamp is 30 characters; one that is not parsed goes out as written.
  for (const r of records) bound += header + ((opts.timestamps ? r.time.length + 31 : 0) + details.length + r.text.length) * MAX_UTF8_PER_UNIT;
  const out = Buffer.allocUnsafe(bound);
  let at = 0;
  for (const r of records) {
    const start = at + header;
    let end = start;
    if (opts.timestamps) end += out.write(`${formatTimestamp(r.time)} `, end);
    if (details) end += out.write(details, end);
    end += out.write(r.text, end);
    if (header) {
      out.writeUInt32BE(r.stream === 'stdout' ? 0x01000000 : 0x02000000, at);
      out.writeUInt32BE(end - start, at + 4);
    }
    at = end;
  }
  return out.subarray(0, at);
}
