import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { InvalidParameterError } from '../../errors';
import { boolValue, stringsValue, stringValue, type Query } from '../form';
import type { ApiRequest } from '../route';
import { progressStream } from '../wire/progress-stream';
import { registryConfig } from '../registry-auth';
import { parseJsonText } from '../validation/json-text';
import type { BuildBackend } from './backend';

type Req = ApiRequest;

/** A query parameter holding a JSON object of strings (`buildargs` values may also be null). */
function jsonObject<T>(q: Query, name: string): Record<string, T> {
  const text = stringValue(q, name);
  if (!text) return {};
  try {
    const v = parseJsonText(text).value;
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string' || x === null)) return v as Record<string, T>;
  } catch {
    // reported below
  }
  throw new InvalidParameterError(`error reading ${name}: invalid JSON object`);
}

/** A query parameter holding a JSON list of strings (`cachefrom`); undefined when absent. */
function jsonStrings(q: Query, name: string): string[] | undefined {
  const text = stringValue(q, name);
  if (!text) return undefined;
  try {
    const v = parseJsonText(text).value;
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v;
  } catch {
    // reported below
  }
  throw new InvalidParameterError(`error reading ${name}: invalid JSON list of strings`);
}

export function buildHandlers(backend: BuildBackend) {
  return {
    /** POST /build: the body is the context tar; the answer dockerd's JSON message stream. */
    async postBuild(request: Req, reply: FastifyReply) {
      const q = request.query;
      const body = request.body;
      const context = body && typeof (body as Readable).pipe === 'function' ? (body as Readable) : Readable.from(Buffer.alloc(0));
      // dockerd cancels a build whose client went away.
      const aborter = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) aborter.abort();
      });
      request.raw.on('close', () => {
        if (!request.raw.complete) aborter.abort();
      });
      const req = {
        signal: aborter.signal,
        dockerfile: stringValue(q, 'dockerfile') || 'Dockerfile',
        tags: stringsValue(q, 't'),
        buildArgs: jsonObject<string | null>(q, 'buildargs'),
        labels: jsonObject<string>(q, 'labels'),
        noCache: boolValue(q, 'nocache'),
        // rm defaults to true (dockerd's form parsing treats an absent rm as true).
        rm: stringValue(q, 'rm') === undefined ? true : boolValue(q, 'rm'),
        forceRm: boolValue(q, 'forcerm'),
        quiet: boolValue(q, 'q'),
        target: stringValue(q, 'target') || undefined,
        networkMode: stringValue(q, 'networkmode') || undefined,
        pull: boolValue(q, 'pull'),
        registryAuth: registryConfig(request),
        extraHosts: stringsValue(q, 'extrahosts'),
        cacheFrom: jsonStrings(q, 'cachefrom'),
      };
      return progressStream(reply, (write) => backend.build(context, req, write));
    },
  };
}
