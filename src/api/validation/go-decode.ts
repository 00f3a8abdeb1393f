/**
 * What Go's encoding/json does to a body before any field is read, and the words it uses when a
 * value does not fit: object keys match struct fields case-insensitively (a later key wins),
 * unknown keys are ignored, `null` leaves the zero value, integers must be written as integers
 * and fit their Go type.
 */
import { InvalidParameterError } from '../../errors';
import { fieldFor, type GoType } from './go-types';
import type { NumberLiterals } from './json-text';

/** Where a value sits, as Go names it: innermost struct type and the dotted field path. */
export interface GoContext {
  structName: string | undefined;
  fields: string[];
}

const ROOT: GoContext = { structName: undefined, fields: [] };

export function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v; // string, number
}

/** `json: cannot unmarshal <what> into Go struct field <S>.<path> of type <T>` (or `Go value`). */
export function unmarshalError(what: string, ctx: GoContext, goName: string, topGoName: string): InvalidParameterError {
  const into = ctx.structName !== undefined && ctx.fields.length ? `Go struct field ${ctx.structName}.${ctx.fields.join('.')}` : 'Go value';
  return new InvalidParameterError(`invalid JSON: json: cannot unmarshal ${what} into ${into} of type ${ctx.fields.length ? goName : topGoName}`);
}

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** Exact bounds of Go's integer types (time.Duration is an int64). */
const GO_INT_BOUNDS: Record<string, [bigint, bigint]> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  uint8: [0n, 255n],
};

/** Whether Go's strconv would take the literal as this integer type (no fraction, no exponent, in range). */
function fitsGoInt(lit: string, goName: string): boolean {
  if (!/^-?[0-9]+$/.test(lit)) return false;
  const bounds = GO_INT_BOUNDS[goName] ?? (goName.startsWith('uint') ? GO_INT_BOUNDS.uint64 : GO_INT_BOUNDS.int64);
  const n = BigInt(lit);
  return n >= bounds[0] && n <= bounds[1];
}

/** Go's zero value for `null` inside an array or map (readers never meet a null element). */
function zeroOf(t: GoType): unknown {
  switch (t.kind) {
    case 'string':
      return '';
    case 'int':
    case 'float':
      return 0;
    case 'bool':
      return false;
    case 'struct':
      return {};
    default:
      return null;
  }
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Returns the body with struct keys in their canonical case (Go's match: exact name first, then
 * any case; a later key wins) and nulls in arrays and maps replaced by zero values. Integers
 * written as `1e3`/`1.5` or beyond their Go type's range are refused with Go's message.
 * Unknown keys are kept as sent (readers ignore them, as Go does).
 */
export function decodeLikeGo(value: unknown, type: GoType, literals: NumberLiterals | undefined, topGoName: string): unknown {
  const visit = (v: unknown, t: GoType, ptr: string, ctx: GoContext): unknown => {
    if (v === null || v === undefined) return v;
    switch (t.kind) {
      case 'int': {
        if (typeof v !== 'number') return v;
        const lit = literals?.get(ptr);
        if ((lit !== undefined && !fitsGoInt(lit, t.goName)) || !Number.isInteger(v) || v < t.min || v > t.max) {
          throw unmarshalError(`number ${lit ?? String(v)}`, ctx, t.goName, topGoName);
        }
        return v;
      }
      case 'struct': {
        if (typeof v !== 'object' || Array.isArray(v)) return v;
        const out: Record<string, unknown> = {};
        for (const [key, child] of Object.entries(v as Record<string, unknown>)) {
          const field = fieldFor(t, key);
          const childPtr = `${ptr}/${escapePointer(key)}`;
          if (field === undefined) {
            // Unknown: Go ignores it. `__proto__` is dropped so no later Object.assign turns it into a prototype.
            if (key !== '__proto__') setOwn(out, key, child);
            continue;
          }
          const childCtx = { structName: t.structName, fields: [...ctx.fields, field] };
          setOwn(out, field, visit(child, t.fields.get(field)!, childPtr, childCtx));
        }
        return out;
      }
      case 'map': {
        if (typeof v !== 'object' || Array.isArray(v)) return v;
        const out: Record<string, unknown> = {};
        for (const [key, child] of Object.entries(v as Record<string, unknown>)) {
          setOwn(out, key, child === null ? zeroOf(t.value) : visit(child, t.value, `${ptr}/${escapePointer(key)}`, ctx));
        }
        return out;
      }
      case 'slice': {
        if (!Array.isArray(v)) return v;
        return v.map((child, i) => (child === null ? zeroOf(t.item) : visit(child, t.item, `${ptr}/${i}`, ctx)));
      }
      default:
        return v;
    }
  };
  return visit(value, type, '', ROOT);
}

/** The Go type and context at a JSON pointer of an already-decoded body (for ajv's errors). */
export function goTypeAt(type: GoType, pointer: string): { type: GoType; ctx: GoContext } {
  let t = type;
  let ctx = ROOT;
  const segments = pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (const seg of segments) {
    if (t.kind === 'struct') {
      const field = fieldFor(t, seg);
      if (field === undefined) return { type: { kind: 'any', goName: 'interface {}' }, ctx };
      ctx = { structName: t.structName, fields: [...ctx.fields, field] };
      t = t.fields.get(field)!;
    } else if (t.kind === 'map') t = t.value;
    else if (t.kind === 'slice') t = t.item;
    else break;
  }
  return { type: t, ctx };
}
