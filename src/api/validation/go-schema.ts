/**
 * JSON Schema (for ajv) of a GoType: the shape Go's decoder accepts. `null` is allowed
 * everywhere (Go keeps the zero value), unknown object keys are allowed (Go ignores them),
 * integers carry their Go type's range narrowed by the document's own `minimum`/`maximum`.
 * Schemas of shared types are shared objects, built once per type.
 */
import type { GoType } from './go-types';

export type JsonSchema = Record<string, unknown>;

export class GoSchemaBuilder {
  private readonly built = new Map<GoType, JsonSchema>();

  /** `register` receives each named Go type's schema once, under the id its `$ref`s use. */
  constructor(private readonly register: (id: string, schema: JsonSchema) => void) {}

  schemaOf(t: GoType): JsonSchema {
    const known = this.built.get(t);
    if (known) return known;
    // Named types (container.HostConfig, ...) are compiled once and referenced everywhere.
    if ((t.kind === 'struct' || t.kind === 'map') && t.goName.includes('.')) {
      const ref = { $ref: `go.${t.goName.replace(/[^A-Za-z0-9._-]/g, '_')}.json` };
      this.built.set(t, ref);
      this.register(ref.$ref, this.make(t));
      return ref;
    }
    const s = this.make(t);
    this.built.set(t, s);
    return s;
  }

  private make(t: GoType): JsonSchema {
    switch (t.kind) {
      case 'struct': {
        const properties: Record<string, JsonSchema> = {};
        for (const [k, v] of t.fields) properties[k] = this.schemaOf(v);
        return { type: ['object', 'null'], properties };
      }
      case 'map':
        return { type: ['object', 'null'], additionalProperties: this.schemaOf(t.value) };
      case 'slice':
        return { type: t.acceptsString ? ['array', 'string', 'null'] : ['array', 'null'], items: this.schemaOf(t.item) };
      case 'string':
        return { type: ['string', 'null'], ...(t.doc?.pattern !== undefined && { pattern: t.doc.pattern }) };
      case 'bool':
        return { type: ['boolean', 'null'] };
      case 'int':
        return {
          type: ['integer', 'null'],
          minimum: Math.max(t.min, t.doc?.minimum ?? -Infinity),
          maximum: Math.min(t.max, t.doc?.maximum ?? Infinity),
        };
      case 'float':
        return {
          type: ['number', 'null'],
          ...(t.doc?.minimum !== undefined && { minimum: t.doc.minimum }),
          ...(t.doc?.maximum !== undefined && { maximum: t.doc.maximum }),
        };
      default:
        return {};
    }
  }
}
