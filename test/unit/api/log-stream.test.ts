import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeLogBatch } from '../../../src/api/wire/log-stream';
import { FrameReader } from '../../../src/api/wire/stdcopy';
import type { LogRecord } from '../../../src/engine/containers/types';

const records: LogRecord[] = [
  { stream: 'stdout', time: '2026-12-04T07:00:00.5Z', text: 'one\n' },
  { stream: 'stderr', time: '2026-12-04T07:00:01Z', text: 'twö\n' },
];

describe('docker logs encoding', () => {
  it('frames each record of a batch (stdcopy) with its stream and length', () => {
    const out = encodeLogBatch(records, { tty: false, timestamps: false });
    assert.deepEqual(out, Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 4]), Buffer.from('one\n'), Buffer.from([2, 0, 0, 0, 0, 0, 0, 5]), Buffer.from('twö\n')]));
  });

  it('puts the timestamp, then the details, before each line; TTY output is not framed', () => {
    const framed = encodeLogBatch(records, { tty: false, timestamps: true, details: 'a=b' });
    const frames = new FrameReader().push(framed).map((f) => [f.stream, f.payload.toString()]);
    assert.deepEqual(frames, [
      [1, '2026-12-04T07:00:00.500000000Z a=b one\n'],
      [2, '2026-12-04T07:00:01.000000000Z a=b twö\n'],
    ]);
    assert.equal(encodeLogBatch(records, { tty: true, timestamps: false }).toString(), 'one\ntwö\n');
    assert.equal(encodeLogBatch([], { tty: false, timestamps: true }).length, 0);
  });
});
