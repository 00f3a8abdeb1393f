import assert from 'node:assert/strict';
import { appendFileSync, closeSync, existsSync, openSync, writeSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { encodeJsonLogEntry, utcRfc3339Nano } from '../../../../src/engine/containers/json-log-entry';
import { LogShipper, type ShipTarget } from '../../../../src/engine/containers/log-shipper';
import { waitFor } from '../../../integration/wait';

const root = mkdtempSync(join(tmpdir(), 'berth-ship-'));
after(() => rmSync(root, { recursive: true, force: true }));
const log = pino({ level: 'silent' });
let n = 0;

function target(over: Partial<ShipTarget> = {}): ShipTarget {
  const dir = join(root, String(n++));
  mkdirSync(join(dir, 'monitor-log'), { recursive: true });
  return {
    id: `c${n}`,
    monitorLog: join(dir, 'monitor-log', 'k8s.log'),
    statePath: join(dir, 'log-ship.json'),
    logPath: join(dir, 'c-json.log'),
    rotation: { maxFile: 1 },
    attrs: new Map(),
    reopen: async () => undefined,
    ...over,
  };
}

const k8s = (i: number, stream: string, tag: string, text: string) => `2026-01-01T01:00:${String(i).padStart(2, '0')}.123400000+01:00 ${stream} ${tag} ${text}\n`;
const entries = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { log: string; stream: string; time: string });

describe('log shipper (monitor k8s-file → json-file)', () => {
  it('writes dockerd\'s json-file lines: partial records joined, Go escaping, UTC times', async () => {
    const t = target({ attrs: new Map([['team', 'a&b']]) });
    writeFileSync(t.monitorLog, k8s(1, 'stdout', 'P', 'a<&>') + k8s(2, 'stderr', 'F', 'x\ty"\\') + 'garbage\n' + k8s(3, 'stdout', 'F', 'b é') + k8s(4, 'stdout', 'P', 'tail'));
    await new LogShipper(log).finish(t);
    assert.equal(
      readFileSync(t.logPath, 'utf8'),
      '{"log":"x\\u0009y\\"\\\\\\n","stream":"stderr","attrs":{"team":"a\\u0026b"},"time":"2026-01-01T00:00:02.1234Z"}\n' +
        '{"log":"a\\u003c\\u0026\\u003eb é\\n","stream":"stdout","attrs":{"team":"a\\u0026b"},"time":"2026-01-01T00:00:03.1234Z"}\n' +
        // The container exited in the middle of a line: it is kept without a newline.
        '{"log":"tail","stream":"stdout","attrs":{"team":"a\\u0026b"},"time":"2026-01-01T00:00:04.1234Z"}\n',
    );
  });

  it('catchUp ships every complete line written so far, for a reader right after (no poll wait)', async () => {
    const t = target();
    const shipper = new LogShipper(log);
    writeFileSync(t.monitorLog, '');
    shipper.follow(t);
    await shipper.catchUp(t.id);
    appendFileSync(t.monitorLog, k8s(1, 'stdout', 'F', 'first') + k8s(2, 'stdout', 'P', 'open'));
    await shipper.catchUp(t.id);
    assert.deepEqual(entries(t.logPath).map((e) => e.log), ['first\n'], 'the open line waits for its end');
    appendFileSync(t.monitorLog, k8s(3, 'stdout', 'F', '-line'));
    await shipper.catchUp(t.id);
    assert.deepEqual(entries(t.logPath).map((e) => e.log), ['first\n', 'open-line\n']);
    shipper.close();
  });

  it('converts times as Go prints RFC3339Nano in UTC', () => {
    assert.equal(utcRfc3339Nano('2026-01-01T01:00:00.500000000+01:00'), '2026-01-01T00:00:00.5Z');
    assert.equal(utcRfc3339Nano('2026-01-01T00:00:00.000000000Z'), '2026-01-01T00:00:00Z');
    assert.equal(encodeJsonLogEntry({ log: Buffer.from('\u2028\r\n'), stream: 'stdout', time: 'T' }), '{"log":"\\u2028\\r\\n","stream":"stdout","time":"T"}\n');
  });

  it('goes on where it stopped, and writes a line once when it was written but not recorded', async () => {
    const t = target();
    writeFileSync(t.monitorLog, k8s(1, 'stdout', 'F', 'one') + k8s(2, 'stdout', 'F', 'two'));
    await new LogShipper(log).finish(t);
    // A daemon that died after writing `three` and before recording it:
    appendFileSync(t.logPath, '{"log":"three\\n","stream":"stdout","time":"2026-01-01T00:00:03.1234Z"}\n');
    appendFileSync(t.monitorLog, k8s(3, 'stdout', 'F', 'three') + k8s(4, 'stdout', 'F', 'four'));
    await new LogShipper(log).finish(t);
    assert.deepEqual(entries(t.logPath).map((e) => e.log), ['one\n', 'two\n', 'three\n', 'four\n']);
  });

  it('splits a line over 16 KiB into partial entries as dockerd does', async () => {
    const t = target();
    writeFileSync(t.monitorLog, k8s(1, 'stdout', 'P', 'x'.repeat(10000)) + k8s(2, 'stdout', 'F', 'y'.repeat(30000)));
    await new LogShipper(log).finish(t);
    const e = entries(t.logPath);
    assert.deepEqual(e.map((x) => x.log.length), [16384, 16384, 7233]);
    assert.equal(e.map((x) => x.log).join(''), `${'x'.repeat(10000)}${'y'.repeat(30000)}\n`);
  });

  it('rotates at max-size into at most max-file files, keeping the newest lines in order', async () => {
    const t = target({ rotation: { maxSize: 1000, maxFile: 3 } });
    writeFileSync(t.monitorLog, Array.from({ length: 100 }, (_, i) => k8s(i % 60, 'stdout', 'F', `line ${i}`)).join(''));
    await new LogShipper(log).finish(t);
    assert.ok(existsSync(`${t.logPath}.2`) && !existsSync(`${t.logPath}.3`));
    for (const f of [t.logPath, `${t.logPath}.1`, `${t.logPath}.2`]) assert.ok(statSync(f).size < 1000 + 100, `${f} near max-size`);
    const kept = [`${t.logPath}.2`, `${t.logPath}.1`, t.logPath].flatMap(entries).map((e) => Number(e.log.slice(5)));
    assert.equal(kept.at(-1), 99);
    assert.ok(kept.every((v, i) => i === 0 || v === kept[i - 1] + 1), 'consecutive');
  });

  it('follows a running monitor and trims its log once shipped', async () => {
    // A fake monitor: writes through its open file until told to reopen, as conmon does.
    let fd = -1;
    const t = target({
      reopen: async () => {
        closeSync(fd);
        fd = openSync(t.monitorLog, 'w');
      },
    });
    fd = openSync(t.monitorLog, 'a');
    const shipper = new LogShipper(log, 2000);
    shipper.follow(t);
    for (let i = 0; i < 300; i++) {
      writeSync(fd, k8s(i % 60, 'stdout', 'F', `line ${i}`));
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 30));
    }
    await waitFor(() => existsSync(t.logPath) && entries(t.logPath).length >= 300, { what: '300 shipped lines' });
    // ~15 kB written, trimmed each time 2 kB were shipped.
    const size = () => (existsSync(t.monitorLog) ? statSync(t.monitorLog).size : Infinity);
    await waitFor(() => size() < 6000, { what: `the monitor log trimmed below 6000 bytes` });
    await shipper.finish(t);
    closeSync(fd);
    assert.deepEqual(entries(t.logPath).map((e) => e.log), Array.from({ length: 300 }, (_, i) => `line ${i}\n`));
    // The monitor has exited and everything is shipped: its log is gone.
    assert.equal(existsSync(t.monitorLog), false);
    assert.equal(existsSync(`${t.monitorLog}.old`), false);
  });

  it('adopts the k8s-file lines an older Berth kept at LogPath', async () => {
    const t = target();
    writeFileSync(t.logPath, k8s(1, 'stdout', 'F', 'old'));
    rmSync(t.monitorLog, { force: true });
    await new LogShipper(log).finish(t);
    assert.deepEqual(entries(t.logPath).map((e) => e.log), ['old\n']);
  });
});
