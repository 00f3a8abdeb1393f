/**
 * Parsing a JSON request body as dockerd's Go decoder sees it. `JSON.parse` builds the value;
 * one iterative pass over the text first (a) refuses nesting deeper than MAX_JSON_DEPTH, so no
 * recursive code later (validation, cloning, serialisation) can overflow the stack, and (b)
 * remembers number literals that Go would not take as integers (`1e3`, `1.5`, or more than 15
 * digits), by JSON pointer, because `JSON.parse` forgets how a number was written.
 */
import { InvalidParameterError } from '../../errors';

/**
 * Go's decoder stops at 10,000 levels; no Docker request needs more than a few dozen, and a
 * lower limit keeps every recursive walk in the daemon far from the stack limit.
 */
export const MAX_JSON_DEPTH = 512;

/** Number literals worth remembering, by JSON pointer (`/HostConfig/Memory`). */
export type NumberLiterals = Map<string, string>;

/** Attached (non-enumerable) to a parsed body object so validators can read it. */
export const NUMBER_LITERALS = Symbol('berth.numberLiterals');

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

interface Frame {
  array: boolean;
  index: number;
  key: string | undefined;
  pointer: string;
}

/** Throws dockerd's 400 for syntax errors and for nesting deeper than MAX_JSON_DEPTH. */
export function parseJsonText(text: string): { value: unknown; literals: NumberLiterals } {
  const literals = scan(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidParameterError(`invalid JSON: ${(err as Error).message}`);
  }
  if (value !== null && typeof value === 'object' && literals.size) {
    Object.defineProperty(value, NUMBER_LITERALS, { value: literals, enumerable: false });
  }
  return { value, literals };
}

/** A request body's JSON: undefined when blank (dockerd treats an empty body as none). */
export function parseJsonBody(text: string): unknown {
  return text.trim() === '' ? undefined : parseJsonText(text).value;
}

export function literalsOf(value: unknown): NumberLiterals | undefined {
  return value !== null && typeof value === 'object' ? (value as Record<symbol, NumberLiterals>)[NUMBER_LITERALS] : undefined;
}

function scan(text: string): NumberLiterals {
  const literals: NumberLiterals = new Map();
  const stack: Frame[] = [];
  let lastString = '';
  const childPointer = () => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    return `${top.pointer}/${top.array ? String(top.index) : escapePointer(top.key ?? '')}`;
  };
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i++;
      let escaped = false;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) {
          escaped = true;
          i += 2;
          continue;
        }
        if (d === 0x22) break;
        i++;
      }
      const raw = text.slice(start, i + 1);
      i++;
      // Only keys matter; decode escapes the way JSON.parse will.
      lastString = escaped ? safeDecode(raw) : raw.slice(1, -1);
      continue;
    }
    if (c === 0x3a /* : */) {
      const top = stack[stack.length - 1];
      if (top && !top.array) top.key = lastString;
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top && top.array) top.index++;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_JSON_DEPTH) throw new InvalidParameterError('invalid JSON: exceeded max depth');
      stack.push({ array: c === 0x5b, index: 0, key: undefined, pointer: childPointer() });
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      while (i < n && /[0-9eE.+-]/.test(text[i])) i++;
      const lit = text.slice(start, i);
      if (/[.eE]/.test(lit) || lit.replace('-', '').length > 15) literals.set(childPointer(), lit);
      continue;
    }
    i++;
  }
  return literals;
}

function safeDecode(raw: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw.slice(1, -1);
  }
}
