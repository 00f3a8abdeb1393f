import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { formatTimestamp, readLogs, timeToSeconds } from '../../../../src/engine/containers/log-reader';
import type { LogRecord, LogsOptions } from '../../../../src/engine/containers/types';

const dir = mkdtempSync(join(tmpdir(), 'berth-logs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const base: LogsOptions = { stdout: true, stderr: true, follow: false, timestamps: false, since: 0, until: 0 };

async function collect(path: string, opts: Partial<LogsOptions> = {}): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const batch of readLogs(path, { ...base, ...opts }, () => true)) out.push(...batch);
  return out;
}

describe('json-file log reader', () => {
  it('formats Docker timestamps in UTC with nine digits', () => {
    assert.equal(formatTimestamp('2026-11-26T23:00:00.5+01:00'), '2026-11-26T22:00:00.500000000Z');
    assert.equal(formatTimestamp('2026-11-26T23:00:00Z'), '2026-11-26T23:00:00.000000000Z');
    assert.ok(Math.abs(timeToSeconds('1970-01-01T00:00:01.25Z') - 1.25) < 1e-9);
  });

  it('reads entries, splits streams, tails and bounds by time', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(
      path,
      [
        '{"log":"one\\n","stream":"stdout","time":"2026-01-01T00:00:01Z"}',
        '{"log":"two\\n","stream":"stderr","time":"2026-01-01T00:00:02Z"}',
        'not json',
        '{"log":"three\\n","stream":"stdout","time":"2026-01-01T00:00:03.1Z"}',
        '{"log":"four \\u003c\\u0026\\u003e é\\n","stream":"stdout","time":"2026-01-01T00:00:04Z"}',
        '',
      ].join('\n'),
    );
    const all = await collect(path);
    assert.deepEqual(all.map((r) => `${r.stream}:${r.text}`), ['stdout:one\n', 'stderr:two\n', 'stdout:three\n', 'stdout:four <&> é\n']);
    assert.deepEqual((await collect(path, { stderr: false })).map((r) => String(r.text)), ['one\n', 'three\n', 'four <&> é\n']);
    assert.deepEqual((await collect(path, { tail: 1 })).map((r) => String(r.text)), ['four <&> é\n']);
    assert.deepEqual((await collect(path, { tail: 0 })).length, 0);
    assert.deepEqual((await collect(path, { tail: 100 })).length, 4);
    const since = timeToSeconds('2026-01-01T00:00:02Z');
    const until = timeToSeconds('2026-01-01T00:00:03.5Z');
    assert.deepEqual((await collect(path, { since, until })).map((r) => String(r.text)), ['two\n', 'three\n']);
  });

  it('returns nothing for a missing file', async () => {
    assert.deepEqual(await collect(join(dir, 'missing.log')), []);
  });
});
