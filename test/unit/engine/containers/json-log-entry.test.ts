import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJsonLogEntry, decodeK8sLogLine, encodeJsonLogEntry } from '../../../../src/engine/containers/json-log-entry';

/** What a full JSON parse of the line says (the decoder's fast path must agree with it). */
function parsed(line: string) {
  const v = JSON.parse(line) as { log: string; stream: string; time: string };
  return { text: v.log, stream: v.stream, time: v.time };
}

describe('json-file log entries', () => {
  it('decodes every line as a full JSON parse would, plain or escaped, with or without attrs', () => {
    const texts = ['plain line\n', 'partial', '', '\n', 'tab\there\n', 'quote " and \\ backslash\n', '<html> & more\n', 'crlf\r\n', 'ends with backslash \\', 'literal \\n not a newline', 'a","stream":"stderr","time":"x"}\n', 'ünïcödé \u2028 sep\n'];
    for (const text of texts) {
      for (const stream of ['stdout', 'stderr'] as const) {
        for (const attrs of [undefined, new Map([['tag', 'x"y']])]) {
          const line = encodeJsonLogEntry({ log: Buffer.from(text), stream, time: '2026-12-04T07:00:00.123456789Z', attrs }).trimEnd();
          assert.deepEqual(decodeJsonLogEntry(line), parsed(line), line);
          assert.equal(decodeJsonLogEntry(line)?.text, text);
        }
      }
    }
  });

  it('refuses lines that are not entries', () => {
    for (const line of ['', 'not json', '{"log":"x","stream":"stdout"}', '{"log":"x"', '[1,2]', '{"log":1,"time":"t"}']) {
      assert.equal(decodeJsonLogEntry(line), undefined, line);
    }
  });
});

describe('k8s-file (CRI) log lines', () => {
  it('reads time, stream and text; a full line gets its newline back, a partial one does not', () => {
    assert.deepEqual(decodeK8sLogLine('2026-12-04T19:34:29.866123456+00:00 stdout F hello world'), { time: '2026-12-04T19:34:29.866123456Z', stream: 'stdout', text: 'hello world\n' });
    assert.deepEqual(decodeK8sLogLine('2026-12-04T19:34:29.8Z stderr P part of '), { time: '2026-12-04T19:34:29.8Z', stream: 'stderr', text: 'part of ' });
    assert.deepEqual(decodeK8sLogLine('2026-12-04T19:34:29.8Z stdout F'), { time: '2026-12-04T19:34:29.8Z', stream: 'stdout', text: '\n' });
    for (const line of ['', 'garbage', '2026-12-04T19:34:29.8Z stdin F x', '2026-12-04T19:34:29.8Z stdout X x']) assert.equal(decodeK8sLogLine(line), undefined, line);
  });
});
