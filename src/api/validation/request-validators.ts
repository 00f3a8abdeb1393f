/**
 * Validators for every operation of openapi/openapi.json, with ajv (fastify's own validator)
 * from schemas derived from the document: a JSON body is decoded as Go decodes it (go-decode.ts)
 * and checked against its GoType's schema (go-schema.ts); query parameters are checked against
 * their declared types. Errors carry dockerd's Go words.
 *
 * `npm run build` compiles every check into a standalone module (precompile-validators.ts); the
 * daemon loads it when it was built from the same document, and compiles lazily otherwise.
 * Compiling at run time cost the first `docker create` ~0.3 s of blocked event loop.
 */
import type AjvClass from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidParameterError } from '../../errors';
import { decodeLikeGo, goTypeAt, jsonKind, unmarshalError } from './go-decode';
import { GoSchemaBuilder, type JsonSchema } from './go-schema';
import { GoTypeBuilder, type GoType } from './go-types';
import { literalsOf } from './json-text';

/** Fastify's validator contract: pass (optionally replacing the value) or fail with an error. */
export type PartValidator = (data: unknown) => boolean | { value: unknown } | { error: Error };

export interface OperationValidators {
  /** Present when the operation takes a JSON body. */
  body?: { schema: JsonSchema; validate: PartValidator };
  query?: { schema: JsonSchema; validate: PartValidator };
}

type Swagger = Record<string, unknown>;
interface SwaggerParam {
  name: string;
  in: string;
  type?: string;
  format?: string;
  pattern?: string;
  schema?: Swagger;
  items?: Swagger;
  'x-berth-message'?: string;
}

/** Compiled to dist/src/api/validation/, so the repository root is four levels up. */
export const OPENAPI_PATH = resolve(__dirname, '..', '..', '..', '..', 'openapi', 'openapi.json');

/** Where the build writes the compiled checks (next to this file in dist/). */
export const PRECOMPILED_MODULE = resolve(__dirname, 'precompiled-validators.js');

/** The ajv options of both paths: precompiled and compiled at run time must behave alike. */
export const AJV_OPTIONS = { allErrors: true, strict: false, coerceTypes: false, useDefaults: false, validateFormats: false } as const;

/** A module written by standaloneModule(): ajv's checks by key, and the document they came from. */
export interface PrecompiledValidators {
  documentHash: string;
  checks: Record<string, ValidateFunction>;
}

type OpenApiDocument = { paths: Record<string, Record<string, Swagger>>; definitions: Record<string, Swagger> };

const INT_QUERY_RANGE: Record<string, [number, number]> = {
  int64: [-(2 ** 63), 2 ** 63 - 1024],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
};

/**
 * Schemas are derived when the daemon starts. Without precompiled checks, ajv compiles each
 * operation's once, on first use or when `warmUp()` reaches it (the daemon starts it once it
 * listens), so start-up does not wait for ~0.4 s of code generation.
 */
export class RequestValidators {
  private ajvInstance?: AjvClass;
  private readonly named: Array<[string, JsonSchema]> = [];
  private readonly types: GoTypeBuilder;
  private readonly schemas = new GoSchemaBuilder((id, schema) => this.named.push([id, schema]));
  private readonly byOperation = new Map<string, OperationValidators>();
  private readonly pending: Array<() => unknown> = [];
  /** Every check's schema by key (`POST /containers/create body`), for standaloneModule(). */
  private readonly checkSchemas = new Map<string, JsonSchema>();

  constructor(
    doc: OpenApiDocument,
    private readonly precompiled?: PrecompiledValidators,
  ) {
    this.types = new GoTypeBuilder(doc.definitions);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (method === 'parameters') continue;
        const key = `${method.toUpperCase()} ${path}`;
        this.byOperation.set(key, this.compile(key, (op.parameters as SwaggerParam[] | undefined) ?? []));
      }
    }
  }

  /** The document's validators: precompiled when the build made them from this very document. */
  static fromFile(path = OPENAPI_PATH, precompiledModule = PRECOMPILED_MODULE): RequestValidators {
    const text = readFileSync(path, 'utf8');
    const hash = documentHash(text);
    let precompiled: PrecompiledValidators | undefined;
    if (existsSync(precompiledModule)) {
      const { documentHash: builtFrom, ...checks } = require(precompiledModule) as Record<string, unknown>;
      if (builtFrom === hash) precompiled = { documentHash: hash, checks: checks as Record<string, ValidateFunction> };
    }
    return new RequestValidators(JSON.parse(text) as OpenApiDocument, precompiled);
  }

  /** True when the checks come from the build, not from ajv at run time. */
  get isPrecompiled(): boolean {
    return this.precompiled !== undefined;
  }

  /**
   * A CommonJS module holding every check compiled (ajv's standalone code), plus the hash of the
   * document text `documentText` it was made from.
   */
  standaloneModule(documentText: string): string {
    const Ajv = (require('ajv') as { default: typeof AjvClass }).default;
    const standaloneCode = (require('ajv/dist/standalone') as { default: (ajv: AjvClass, refs: Record<string, string>) => string }).default;
    const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
    for (const [id, schema] of this.named) ajv.addSchema(schema, id);
    const byKey: Record<string, string> = {};
    let n = 0;
    for (const [key, schema] of this.checkSchemas) {
      const id = `berth-check-${n++}`;
      ajv.addSchema(schema, id);
      byKey[key] = id;
    }
    return `${standaloneCode(ajv, byKey)}\nexports.documentHash = ${JSON.stringify(documentHash(documentText))};\n`;
  }

  /** Compiles every validator not compiled yet, one per macrotask so requests interleave. */
  async warmUp(): Promise<void> {
    for (const compile of this.pending.splice(0)) {
      await new Promise((r) => setImmediate(r));
      compile();
    }
  }

  private get ajv(): AjvClass {
    if (!this.ajvInstance) {
      // Loaded here, not at import: requiring ajv alone costs ~0.1 s of start-up.
      const Ajv = (require('ajv') as { default: typeof AjvClass }).default;
      this.ajvInstance = new Ajv(AJV_OPTIONS);
      for (const [id, schema] of this.named) this.ajvInstance.addSchema(schema, id);
    }
    return this.ajvInstance;
  }

  /** ajv's validator for `schema`: precompiled, or compiled once, when first needed. */
  private lazyCheck(key: string, schema: JsonSchema): () => ValidateFunction {
    this.checkSchemas.set(key, schema);
    const ready = this.precompiled?.checks[key];
    if (ready) return () => ready;
    let check: ValidateFunction | undefined;
    const get = () => (check ??= this.ajv.compile(schema));
    this.pending.push(get);
    return get;
  }

  /** `POST /containers/{id}/exec` → its validators (empty when the document has none). */
  forOperation(method: string, openApiPath: string): OperationValidators {
    return this.byOperation.get(`${method.toUpperCase()} ${openApiPath}`) ?? {};
  }

  private compile(key: string, params: SwaggerParam[]): OperationValidators {
    const out: OperationValidators = {};
    const body = params.find((p) => p.in === 'body');
    if (body?.schema && body.schema.type !== 'string') out.body = this.bodyValidator(`${key} body`, body.schema);
    // Booleans (dockerd's BoolValue takes anything) and free strings need no check.
    const query = params.filter((p) => p.in === 'query' && queryValueSchema(p) !== undefined);
    if (query.length) out.query = this.queryValidator(`${key} query`, query);
    return out;
  }

  private bodyValidator(key: string, swagger: Swagger): NonNullable<OperationValidators['body']> {
    const type = this.types.build(swagger, typeof swagger.title === 'string' ? swagger.title : 'struct {}');
    const schema = this.schemas.schemaOf(type);
    const checker = this.lazyCheck(key, schema);
    const validate: PartValidator = (data) => {
      if (data === null || data === undefined || isStream(data)) return true;
      try {
        const value = decodeLikeGo(data, type, literalsOf(data), type.goName);
        const check = checker();
        if (!check(value)) return { error: bodyError(check.errors ?? [], value, type) };
        return { value };
      } catch (err) {
        return { error: err as Error };
      }
    };
    return { schema, validate };
  }

  private queryValidator(key: string, params: SwaggerParam[]): NonNullable<OperationValidators['query']> {
    const properties: Record<string, JsonSchema> = {};
    const messages = new Map<string, string | undefined>();
    for (const p of params) {
      const one = queryValueSchema(p);
      if (!one) continue;
      properties[p.name] = { anyOf: [one, { type: 'array', items: one }] };
      messages.set(p.name, p['x-berth-message']);
    }
    const schema: JsonSchema = { type: 'object', properties };
    const checker = this.lazyCheck(key, schema);
    const ranges = params.filter((p) => p.type === 'integer').map((p) => [p.name, INT_QUERY_RANGE[p.format ?? ''] ?? INT_QUERY_RANGE.int64] as const);
    const validate: PartValidator = (data) => {
      const q = (data ?? {}) as Record<string, unknown>;
      const check = checker();
      if (!check(q)) return { error: queryError(check.errors ?? [], q, messages) };
      for (const [name, [min, max]] of ranges) {
        for (const v of ([] as unknown[]).concat(q[name] ?? [])) {
          const n = Number(v);
          if (v === '' || (n >= min && n <= max)) continue;
          const message = messages.get(name)?.replaceAll('{value}', String(v)) ?? `strconv.Atoi: parsing ${JSON.stringify(v)}: value out of range`;
          return { error: new InvalidParameterError(message) };
        }
      }
      return true;
    };
    return { schema, validate };
  }
}

const documentHash = (text: string) => createHash('sha256').update(text).digest('hex');

const isStream = (v: unknown) => typeof (v as { pipe?: unknown }).pipe === 'function';

/** One query value: integers must be written as integers; patterns apply to non-empty values. */
function queryValueSchema(p: SwaggerParam): JsonSchema | undefined {
  if (p.type === 'integer') return { type: 'string', pattern: '^(-?[0-9]+)?$' };
  if (p.type === 'string' && p.pattern) return { type: 'string', pattern: `^$|${p.pattern}` };
  return undefined;
}

function queryError(errors: ErrorObject[], q: Record<string, unknown>, messages: Map<string, string | undefined>): InvalidParameterError {
  const name = (errors.find((e) => e.instancePath !== '')?.instancePath ?? '').split('/')[1] ?? '';
  const raw = ([] as unknown[]).concat(q[name] ?? [''])[0];
  const message = messages.get(name);
  if (message) return new InvalidParameterError(message.replaceAll('{value}', String(raw)));
  return new InvalidParameterError(`strconv.Atoi: parsing ${JSON.stringify(String(raw))}: invalid syntax`);
}

/** The first error in document order, in Go's words. */
function bodyError(errors: ErrorObject[], value: unknown, type: GoType): InvalidParameterError {
  const order = documentOrder(value);
  const first = [...errors].sort((a, b) => (order.get(a.instancePath) ?? 0) - (order.get(b.instancePath) ?? 0))[0];
  const pointer = first.instancePath;
  // A StrSlice (Cmd, Entrypoint, Shell) that is neither a string nor strings: Go's last attempt
  // was a string, so it names the whole value and `string`.
  const strslice = enclosingStrSlice(type, pointer);
  if (strslice !== undefined) {
    const at = goTypeAt(type, strslice);
    return unmarshalError(jsonKind(valueAt(value, strslice)), at.ctx, 'string', type.goName);
  }
  const { type: t, ctx } = goTypeAt(type, pointer);
  const v = valueAt(value, pointer);
  if (first.keyword === 'type') return unmarshalError(jsonKind(v), ctx, t.goName, type.goName);
  const doc = 'doc' in t ? t.doc : undefined;
  if (doc?.message) return new InvalidParameterError(doc.message.replaceAll('{value}', String(v)));
  if (t.kind === 'int' && typeof v === 'number' && (v < t.min || v > t.max)) return unmarshalError(`number ${v}`, ctx, t.goName, type.goName);
  return new InvalidParameterError(`invalid value for ${ctx.fields.join('.') || 'body'}: ${JSON.stringify(v)}`);
}

function enclosingStrSlice(type: GoType, pointer: string): string | undefined {
  const segments = pointer === '' ? [] : pointer.split('/').slice(1);
  for (let i = 0; i <= segments.length; i++) {
    const prefix = segments.slice(0, i).map((s) => `/${s}`).join('');
    const { type: t } = goTypeAt(type, prefix);
    if (t.kind === 'slice' && t.acceptsString) return prefix;
  }
  return undefined;
}

function valueAt(root: unknown, pointer: string): unknown {
  let v = root;
  for (const seg of pointer === '' ? [] : pointer.slice(1).split('/')) {
    const key = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}

/** JSON pointer → position in a pre-order walk (the order Go meets values while decoding). */
function documentOrder(root: unknown): Map<string, number> {
  const order = new Map<string, number>();
  const stack: Array<[unknown, string]> = [[root, '']];
  while (stack.length) {
    const [v, ptr] = stack.pop()!;
    order.set(ptr, order.size);
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) stack.push([entries[i][1], `${ptr}/${entries[i][0].replace(/~/g, '~0').replace(/\//g, '~1')}`]);
    }
  }
  return order;
}

export type { ValidateFunction };
