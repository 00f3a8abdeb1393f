import type { FastifyReply, FastifyRequest } from 'fastify';
import { filtersValue, type Query } from '../form';
import { apiVersionOf, beginStream, jsonBody, sendJson } from '../route';
import { eventVisible, shapeInfo, shapeSystemDf } from '../version-shapes';
import { encodeEvent } from '../wire/event-json';
import { InvalidParameterError } from '../../errors';
import { MAX_API_VERSION, MIN_API_VERSION } from '../version';
import type { SystemBackend } from './backend';

export function systemHandlers(backend: SystemBackend) {
  const pingHeaders = (reply: FastifyReply) =>
    reply.headers({
      'Builder-Version': '1',
      Swarm: 'inactive',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
    });
  return {
    async getPing(_request: FastifyRequest, reply: FastifyReply) {
      return pingHeaders(reply).code(200).type('text/plain; charset=utf-8').send('OK');
    },
    async headPing(_request: FastifyRequest, reply: FastifyReply) {
      return pingHeaders(reply).code(200).type('text/plain; charset=utf-8').header('Content-Length', '0').send();
    },
    async getVersion(_request: FastifyRequest, reply: FastifyReply) {
      return sendJson(reply, 200, backend.version(MAX_API_VERSION, MIN_API_VERSION));
    },
    async getInfo(request: FastifyRequest, reply: FastifyReply) {
      return sendJson(reply, 200, shapeInfo(await backend.info(), apiVersionOf(request)));
    },
    async postAuth(request: FastifyRequest, reply: FastifyReply) {
      const body = await jsonBody(request);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidParameterError('invalid JSON: auth config must be an object');
      const v = body as Record<string, unknown>;
      const str = (k: string) => (typeof v[k] === 'string' && v[k] !== '' ? (v[k] as string) : undefined);
      const result = await backend.login({ username: str('username'), password: str('password'), serveraddress: str('serveraddress'), identitytoken: str('identitytoken'), registrytoken: str('registrytoken') });
      return sendJson(reply, 200, result);
    },
    async getSystemDf(request: FastifyRequest, reply: FastifyReply) {
      return sendJson(reply, 200, shapeSystemDf(await backend.df(), apiVersionOf(request)));
    },
    /** No build cache here: nothing to prune (the CLI's `system prune` asks anyway). */
    async postBuildPrune(_request: FastifyRequest, reply: FastifyReply) {
      return sendJson(reply, 200, { CachesDeleted: null, SpaceReclaimed: 0 });
    },
    async getEvents(request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply) {
      const q = request.query;
      const v = apiVersionOf(request);
      const abort = new AbortController();
      const events = backend.events(filtersValue(q), { since: eventTime(q, 'since'), until: eventTime(q, 'until'), signal: abort.signal });
      reply.raw.on('close', () => abort.abort());
      beginStream(reply, 'application/json');
      try {
        for await (const e of events) {
          if (!eventVisible(e, v)) continue;
          if (!reply.raw.write(encodeEvent(e))) await new Promise((res) => reply.raw.once('drain', res));
        }
      } finally {
        reply.raw.end();
      }
    },
  };
}

/** `since`/`until` as the CLI sends them (`<seconds>[.<nanos>]`), in ms; undefined when absent. */
function eventTime(q: Query, key: string): number | undefined {
  const v = q[key];
  const text = Array.isArray(v) ? v[0] : v;
  if (text === undefined || text === '') return undefined;
  const m = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (!m) throw new InvalidParameterError(`invalid value for ${key}: ${text}`);
  return Number(m[1]) * 1000 + Number((m[2] ?? '0').padEnd(9, '0')) / 1e6;
}
