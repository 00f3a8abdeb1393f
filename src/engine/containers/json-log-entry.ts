/**
 * One line of a json-file log, byte for byte as dockerd writes it (`[moby]
 * daemon/logger/jsonfilelog/jsonlog`): `{"log":"<text>","stream":"stdout","attrs":{..},"time":"<RFC3339Nano>"}`
 * and a newline. The text keeps its trailing `\n` unless the entry is a partial line. Strings
 * are escaped like Go's encoder: `<`, `>`, `&` and control characters as `\u00XX` (except `\n`,
 * `\r`), U+2028/U+2029 escaped, invalid UTF-8 as U+FFFD.
 */

export interface JsonLogEntry {
  log: Buffer;
  stream: 'stdout' | 'stderr';
  /** RFC3339Nano in UTC, Go style (trailing zeros of the fraction dropped). */
  time: string;
  attrs?: ReadonlyMap<string, string>;
}

const HEX = '0123456789abcdef';

/**
 * A JSON string literal of `text` escaped as dockerd's json-file encoder escapes it. Not
 * encoding/json's rules (images/go-json.ts `goString`): this one writes a tab as `\u0009`.
 */
export function goJsonString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&') out += `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    else if (c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16)}`;
    else out += ch;
  }
  return `${out}"`;
}

export function encodeJsonLogEntry(e: JsonLogEntry): string {
  let out = `{"log":${goJsonString(e.log.toString('utf8'))},"stream":"${e.stream}"`;
  if (e.attrs && e.attrs.size) {
    // Sorted by key, as Go marshals a map.
    const keys = [...e.attrs.keys()].sort();
    out += `,"attrs":{${keys.map((k) => `${goJsonString(k)}:${goJsonString(e.attrs!.get(k)!)}`).join(',')}}`;
  }
  return `${out},"time":"${e.time}"}\n`;
}

export interface DecodedEntry {
  text: string;
  stream: 'stdout' | 'stderr';
  time: string;
}

const LOG_START = '{"log":"';
const STREAM_STDOUT = ',"stream":"stdout"';
const STREAM_STDERR = ',"stream":"stderr"';
const TIME_KEY = ',"time":"';

/**
 * The common line without JSON.parse: a text with no escape but its final `\n`, as
 * encodeJsonLogEntry writes it. Undefined for anything else (the caller parses it in full).
 * A `docker logs` of many lines spent most of its time in JSON.parse.
 */
function decodePlainEntry(line: string): DecodedEntry | undefined {
  if (!line.startsWith(LOG_START)) return undefined;
  const quote = line.indexOf('"', LOG_START.length);
  if (quote < 0) return undefined;
  const escape = line.indexOf('\\', LOG_START.length);
  let text: string;
  if (escape < 0 || escape > quote) text = line.slice(LOG_START.length, quote);
  else if (escape === quote - 2 && line.charCodeAt(quote - 1) === 0x6e /* n */) text = `${line.slice(LOG_START.length, escape)}\n`;
  else return undefined;
  const stream = line.startsWith(STREAM_STDOUT, quote + 1) ? 'stdout' : line.startsWith(STREAM_STDERR, quote + 1) ? 'stderr' : undefined;
  const time = line.lastIndexOf(TIME_KEY);
  if (!stream || time < quote || !line.endsWith('"}') || line.indexOf('"', time + TIME_KEY.length) !== line.length - 2) return undefined;
  return { text, stream, time: line.slice(time + TIME_KEY.length, line.length - 2) };
}

/** Reads one line of a json-file log; undefined for a line that is not one. */
export function decodeJsonLogEntry(line: string): DecodedEntry | undefined {
  const plain = decodePlainEntry(line);
  if (plain) return plain;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  const { log, stream, time } = v as { log?: unknown; stream?: unknown; time?: unknown };
  if (typeof log !== 'string' || typeof time !== 'string') return undefined;
  return { text: log, stream: stream === 'stderr' ? 'stderr' : 'stdout', time };
}

/**
 * One line of the monitor's k8s-file log (the CRI log format): `<RFC3339Nano> <stream> <F|P>
 * <text>`; a `P` line is part of a longer one, so its text gets no newline.
 */
export function decodeK8sLogLine(line: string): DecodedEntry | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP])(?: (.*))?$/s.exec(line);
  if (!m) return undefined;
  return { time: utcRfc3339Nano(m[1]), stream: m[2] as 'stdout' | 'stderr', text: m[3] === 'F' ? `${m[4] ?? ''}\n` : (m[4] ?? '') };
}

/**
 * Go's RFC3339Nano in UTC of an RFC3339 timestamp with any offset and up to nine fractional
 * digits (conmon writes local time with an offset): `2026-01-02T03:04:05.1Z`.
 */
export function utcRfc3339Nano(time: string): string {
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return time;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return time;
  const frac = (m[2] ?? '').slice(0, 9).replace(/0+$/, '');
  return `${new Date(ms).toISOString().slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}
