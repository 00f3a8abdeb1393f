/**
 * JSON written byte for byte as Go's encoding/json writes it, where an image ID (the sha256 of a
 * config dockerd marshalled) depends on it: map keys sorted, raw members compacted, `<`, `>`,
 * `&`, U+2028 and U+2029 escaped, times in RFC 3339 with trailing zeros of the fraction cut.
 */
import { InvalidParameterError } from '../../errors';

const HTML_ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029', '\b': '\\u0008', '\f': '\\u000c' };

/** A string as Go marshals it. */
export function goString(s: string): string {
  return JSON.stringify(s)
    .replace(/[<>&\u2028\u2029]/g, (c) => HTML_ESCAPES[c])
    .replace(/\\[bf]/g, (e) => HTML_ESCAPES[e === '\\b' ? '\b' : '\f']);
}

/** Go's compact (json.Marshal of a json.RawMessage): whitespace out of `raw`, HTML characters in strings escaped. */
export function goCompact(raw: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (inString) {
      if (c === '\\') {
        out += c + raw[++i];
        continue;
      }
      if (c === '"') inString = false;
      out += '<>&\u2028\u2029'.includes(c) ? HTML_ESCAPES[c] : c;
      continue;
    }
    if (c === '"') inString = true;
    if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') out += c;
  }
  return out;
}

/** An object with these members (values are JSON texts), as Go marshals a map: keys sorted. */
export function goSortedObject(members: Map<string, string>): string {
  const keys = [...members.keys()].sort((a, b) => Buffer.from(a).compare(Buffer.from(b)));
  return `{${keys.map((k) => `${goString(k)}:${goCompact(members.get(k)!)}`).join(',')}}`;
}

/**
 * The members of a JSON object text, each value as its raw text (Go's
 * `map[string]*json.RawMessage`; a repeated key keeps its last value). Throws on anything but an object.
 */
export function rawMembers(text: string, what: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidParameterError(`${what}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidParameterError(`${what}: not a JSON object`);
  const members = new Map<string, string>();
  let i = skipSpace(text, 0) + 1; // past '{'
  for (;;) {
    i = skipSpace(text, i);
    if (text[i] === '}') break;
    const keyEnd = valueEnd(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(text, keyEnd) + 1; // past ':'
    i = skipSpace(text, i);
    const end = valueEnd(text, i);
    members.set(key, text.slice(i, end));
    i = skipSpace(text, end);
    if (text[i] === ',') i++;
  }
  return members;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  return i;
}

/** The index just past the (valid) JSON value starting at `i`. */
function valueEnd(text: string, i: number): number {
  if (text[i] === '"') {
    for (let j = i + 1; ; j++) {
      if (text[j] === '\\') j++;
      else if (text[j] === '"') return j + 1;
    }
  }
  if (text[i] === '{' || text[i] === '[') {
    let depth = 0;
    for (let j = i; ; j++) {
      const c = text[j];
      if (c === '"') j = valueEnd(text, j) - 1;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (--depth === 0) return j + 1;
      }
    }
  }
  let j = i;
  while (j < text.length && !',}] \t\n\r'.includes(text[j])) j++;
  return j;
}

/**
 * A time as Go's time.Time marshals after parsing `value` (RFC 3339): the fraction without
 * trailing zeros, `Z` for a zero offset (dockerd runs in UTC). Absent: Go's zero time.
 */
export function goTime(value: unknown, what: string): string {
  if (value === undefined || value === null) return '0001-01-01T00:00:00Z';
  const m = typeof value === 'string' ? /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i.exec(value) : null;
  if (!m) throw new InvalidParameterError(`${what}: parsing time ${JSON.stringify(value)} as RFC 3339 failed`);
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  const zone = m[3].toUpperCase() === 'Z' || m[3] === '+00:00' || m[3] === '-00:00' ? 'Z' : m[3];
  return `${m[1]}${fraction ? `.${fraction}` : ''}${zone}`;
}
