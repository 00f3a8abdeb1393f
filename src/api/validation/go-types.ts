/**
 * The Go types dockerd decodes request bodies into, derived from the Swagger 2.0 schemas of
 * openapi/openapi.json: `$ref`s resolved, `allOf` merged, integer formats turned into Go integer
 * kinds and ranges. Everything else (ajv schemas, Go-worded errors, key folding) is computed from
 * this one tree, so there is no second hand-written schema.
 *
 * Vendor extensions read here: `x-go-type` (the package-qualified Go type name dockerd prints,
 * e.g. `container.HostConfig`), `x-go-strslice` (a `[]string` that also takes one string, as
 * moby's StrSlice), `x-berth-message` (dockerd's words for a `minimum`/`maximum`/`pattern`
 * violation; `{value}` is replaced by the value).
 */

export interface DocRange {
  minimum?: number;
  maximum?: number;
  pattern?: string;
  /** dockerd's message when the range or pattern is violated. */
  message?: string;
}

export type GoType =
  | { kind: 'struct'; goName: string; structName: string; fields: Map<string, GoType>; folded: Map<string, string> }
  | { kind: 'map'; goName: string; value: GoType }
  | { kind: 'slice'; goName: string; item: GoType; acceptsString: boolean }
  | { kind: 'string'; goName: string; doc?: DocRange }
  | { kind: 'bool'; goName: string }
  | { kind: 'int'; goName: string; min: number; max: number; doc?: DocRange }
  | { kind: 'float'; goName: string; doc?: DocRange }
  | { kind: 'any'; goName: string };

type Swagger = Record<string, unknown>;

/**
 * Go integer kinds by Swagger format. Bounds are what a double can hold exactly on the safe side:
 * 2^63 and 2^64 are excluded (a stored 2^63 would be printed back as a number Go's int64 rejects).
 */
const INT_KINDS: Record<string, { goName: string; min: number; max: number }> = {
  int64: { goName: 'int64', min: -(2 ** 63), max: 2 ** 63 - 1024 },
  int: { goName: 'int', min: -(2 ** 63), max: 2 ** 63 - 1024 },
  int32: { goName: 'int32', min: -(2 ** 31), max: 2 ** 31 - 1 },
  uint64: { goName: 'uint64', min: 0, max: 2 ** 64 - 2048 },
  uint: { goName: 'uint', min: 0, max: 2 ** 64 - 2048 },
  uint32: { goName: 'uint32', min: 0, max: 2 ** 32 - 1 },
  uint16: { goName: 'uint16', min: 0, max: 2 ** 16 - 1 },
  uint8: { goName: 'uint8', min: 0, max: 255 },
};

const shortName = (goName: string) => goName.slice(goName.lastIndexOf('.') + 1);

/** Builds GoTypes from one Swagger document; definitions are converted once and shared. */
export class GoTypeBuilder {
  private readonly byDefinition = new Map<string, GoType>();

  constructor(private readonly definitions: Record<string, Swagger>) {}

  /** `nameHint` names an inline struct that has neither `x-go-type` nor `title`. */
  build(schema: Swagger, nameHint = 'struct {}'): GoType {
    const ref = schema.$ref;
    if (typeof ref === 'string') return this.definition(ref.replace('#/definitions/', ''));
    const allOf = schema.allOf as Swagger[] | undefined;
    if (allOf) return this.merge(allOf.map((s) => this.build(s, nameHint)), schema, nameHint);
    const goName = typeof schema['x-go-type'] === 'string' ? (schema['x-go-type'] as string) : undefined;
    const doc = docRange(schema);
    switch (schema.type) {
      case 'string':
        return { kind: 'string', goName: goName ?? 'string', ...(doc && { doc }) };
      case 'boolean':
        return { kind: 'bool', goName: goName ?? 'bool' };
      case 'number':
        return { kind: 'float', goName: goName ?? 'float64', ...(doc && { doc }) };
      case 'integer': {
        const format = typeof schema.format === 'string' && INT_KINDS[schema.format] ? schema.format : 'int';
        const k = INT_KINDS[format];
        return { kind: 'int', goName: goName ?? k.goName, min: k.min, max: k.max, ...(doc && { doc }) };
      }
      case 'array': {
        const item = this.build((schema.items as Swagger) ?? {}, nameHint);
        const acceptsString = schema['x-go-strslice'] === true;
        return { kind: 'slice', goName: goName ?? `[]${item.goName}`, item, acceptsString };
      }
      case 'object':
        return this.object(schema, goName, nameHint);
      default:
        return { kind: 'any', goName: 'interface {}' };
    }
  }

  private object(schema: Swagger, goName: string | undefined, nameHint: string): GoType {
    const props = schema.properties as Record<string, Swagger> | undefined;
    const extra = schema.additionalProperties;
    if (!props && extra && typeof extra === 'object' && Object.keys(extra).length > 0) {
      const value = this.build(extra as Swagger, nameHint);
      return { kind: 'map', goName: goName ?? `map[string]${value.goName}`, value };
    }
    if (!props && extra !== undefined) return { kind: 'map', goName: goName ?? 'map[string]interface {}', value: { kind: 'any', goName: 'interface {}' } };
    // An object with neither properties nor additionalProperties is Go's `struct {}`.
    const name = goName ?? (typeof schema.title === 'string' ? schema.title : props ? nameHint : 'struct {}');
    const fields = new Map<string, GoType>();
    for (const [field, s] of Object.entries(props ?? {})) fields.set(field, this.build(s, field));
    return struct(name, fields);
  }

  private definition(name: string): GoType {
    const known = this.byDefinition.get(name);
    if (known) return known;
    const schema = this.definitions[name];
    if (!schema) throw new Error(`openapi: unknown definition ${name}`);
    // A placeholder first, so a definition that refers to itself ends instead of recursing.
    const placeholder: GoType = { kind: 'any', goName: 'interface {}' };
    this.byDefinition.set(name, placeholder);
    const built = this.build(schema, name);
    const named = built.kind === 'struct' && !schema['x-go-type'] && !schema.title && !schema.allOf ? { ...built, goName: name, structName: name } : built;
    this.byDefinition.set(name, named);
    return named;
  }

  /** allOf: struct fields merged in order (HostConfig = Resources + its own fields). */
  private merge(parts: GoType[], schema: Swagger, nameHint: string): GoType {
    if (parts.length === 1 && !schema['x-go-type'] && !schema.title) return parts[0];
    const fields = new Map<string, GoType>();
    for (const p of parts) if (p.kind === 'struct') for (const [k, v] of p.fields) fields.set(k, v);
    const goName = (schema['x-go-type'] as string | undefined) ?? (schema.title as string | undefined) ?? nameHint;
    return struct(goName, fields);
  }
}

function struct(goName: string, fields: Map<string, GoType>): GoType {
  const folded = new Map<string, string>();
  for (const f of fields.keys()) if (!folded.has(f.toLowerCase())) folded.set(f.toLowerCase(), f);
  return { kind: 'struct', goName, structName: shortName(goName), fields, folded };
}

function docRange(schema: Swagger): DocRange | undefined {
  const r: DocRange = {};
  if (typeof schema.minimum === 'number') r.minimum = schema.minimum;
  if (typeof schema.maximum === 'number') r.maximum = schema.maximum;
  if (typeof schema.pattern === 'string') r.pattern = schema.pattern;
  if (typeof schema['x-berth-message'] === 'string') r.message = schema['x-berth-message'];
  return Object.keys(r).length ? r : undefined;
}

/** The struct field a (case-insensitive) JSON key names, as Go's encoding/json picks it. */
export function fieldFor(t: Extract<GoType, { kind: 'struct' }>, key: string): string | undefined {
  return t.fields.has(key) ? key : t.folded.get(key.toLowerCase());
}
