import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { InvalidParameterError, NotFoundError } from '../errors';
import { errorBody, statusOf } from './errors';
import type { Query } from './form';
import { API_VERSION, type HijackRouteDef, type RouteDef, type WsRouteDef } from './route';
import { readJsonPayload } from './validation/json-payload';
import { parseJsonBody } from './validation/json-text';
import { RequestValidators, type OperationValidators, type PartValidator } from './validation/request-validators';
import { EventEmitter } from 'node:events';
import fastifyWebsocket from '@fastify/websocket';
import { checkVersion, MAX_API_VERSION, splitVersion, versionAtLeast } from './version';
import { HijackedConnection, readUpgradeBody } from './wire/hijack';

export interface ApiServerOptions {
  log: Logger;
  routes: RouteDef[];
  hijackRoutes: HijackRouteDef[];
  wsRoutes?: WsRouteDef[];
  /** `Server` header value, e.g. `Berth/0.1.0 (linux)`. */
  serverHeader: string;
  /** Request validators from openapi/openapi.json (compiled once; default: the shipped document). */
  validators?: RequestValidators;
}

/** JSON bodies larger than this are refused (413); archives, image loads and build contexts stream unlimited. */
export const JSON_BODY_LIMIT = 16 * 1024 * 1024;

const VALIDATOR_WARM_UP_DELAY_MS = 1000;

/** How much of an oversized request body is read (and dropped) so its client sees the 413. */
const DRAIN_LIMIT = 256 * 1024 * 1024;

/** Reads and drops the rest of a request body, up to `limit` bytes; larger ones are cut off. */
function drainBody(req: IncomingMessage, limit: number): Promise<void> {
  if (req.complete || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      req.off('data', onData).off('end', done).off('close', done).off('error', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > limit) done();
    };
    req.on('data', onData).once('end', done).once('close', done).once('error', done);
    req.resume();
  });
}

/** `/containers/:id/json` → `/containers/{id}/json`. */
const toOpenApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** The route's validators: its one OpenAPI operation's, none for a wildcard serving several. */
function validatorsFor(validators: RequestValidators, method: string, url: string, paths?: string[]): OperationValidators {
  const ops = paths ?? [toOpenApiPath(url)];
  return ops.length === 1 ? validators.forOperation(method, ops[0]) : {};
}

/** Fastify route options that make it validate with the operation's compiled validators. */
function schemaOptions(v: OperationValidators) {
  return {
    schema: { ...(v.body && { body: v.body.schema }), ...(v.query && { querystring: v.query.schema }) },
    config: { jsonBody: v.body !== undefined },
  };
}

type Raw = IncomingMessage & { [API_VERSION]?: string };

/** Matches `/containers/:id/attach` style patterns; returns params or undefined. */
function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split('/');
  const u = path.split('/');
  if (p.length !== u.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(u[i]);
    else if (p[i] !== u[i]) return undefined;
  }
  return params;
}

/**
 * Builds the HTTP server: version prefix and negotiation, Docker-style errors, body parsers, the
 * routes of every API plugin, and the `Upgrade: tcp` hijack path Fastify does not handle.
 */
export function buildApiServer(opts: ApiServerOptions): FastifyInstance {
  const commonHeaders = { 'Api-Version': MAX_API_VERSION, Ostype: 'linux', Server: opts.serverHeader, 'Docker-Experimental': 'false' };

  // Per-request child loggers (with a request id) and the request/response lines are for
  // debugging: at info they would cost every request a pino child for nothing.
  const debug = opts.log.isLevelEnabled('debug');
  // Fastify is typed with its own logger interface, which pino's Logger implements.
  const loggerInstance: FastifyBaseLogger = opts.log;
  const app = Fastify({
    loggerInstance,
    disableRequestLogging: true,
    ...(debug ? {} : { childLoggerFactory: (logger: FastifyBaseLogger) => logger }),
    exposeHeadRoutes: false,
    bodyLimit: JSON_BODY_LIMIT,
    // Go's http.DefaultMaxHeaderBytes (dockerd's limit), not Node's 16 KB: X-Registry-Config of a
    // build carries every login the CLI knows.
    http: { maxHeaderSize: 1024 * 1024 },
    routerOptions: { ignoreTrailingSlash: true },
    rewriteUrl: (req) => {
      const { version, url } = splitVersion(req.url ?? '/');
      (req as Raw)[API_VERSION] = version ?? MAX_API_VERSION;
      if (version !== undefined) (req as Raw & { versionGiven?: string }).versionGiven = version;
      return url;
    },
  });

  const validators = opts.validators ?? RequestValidators.fromFile();
  // Each route's schemas are the objects the validators were compiled for: look them up, never recompile.
  const compiled = new Map<unknown, PartValidator>();
  const register = (v: OperationValidators) => {
    if (v.body) compiled.set(v.body.schema, v.body.validate);
    if (v.query) compiled.set(v.query.schema, v.query.validate);
    return v;
  };
  app.setValidatorCompiler(({ schema }) => {
    const fn = compiled.get(schema);
    if (!fn) throw new Error('berth: route schema without a compiled validator');
    return fn;
  });

  // ajv compiles the validators in the background a second after the routes are ready (or on
  // first use), so the first requests a starting daemon gets are not queued behind it.
  app.addHook('onReady', async () => {
    const warm = () => void validators.warmUp().catch((err: Error) => opts.log.error({ err }, 'request validators failed to compile'));
    setTimeout(warm, VALIDATOR_WARM_UP_DELAY_MS).unref();
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  // Archives, image tarballs and build contexts stream through untouched (no size limit); a JSON
  // body sent with another type (docker-py, curl) is still read as JSON, within the same limit.
  app.addContentTypeParser('*', (req, payload, done) => {
    if (!(req.routeOptions.config as { jsonBody?: boolean } | undefined)?.jsonBody) return done(null, payload);
    const length = Number(req.headers['content-length']);
    readJsonPayload(payload, JSON_BODY_LIMIT, Number.isFinite(length) ? length : undefined).then((v) => done(null, v), (err: Error) => done(err, undefined));
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(commonHeaders);
    const given = (request.raw as Raw & { versionGiven?: string }).versionGiven;
    if (given !== undefined) checkVersion(given);
  });
  if (debug) {
    app.addHook('onRequest', async (request) => request.log.debug({ method: request.method, url: request.url }, 'incoming request'));
    app.addHook('onResponse', async (request, reply) => {
      request.log.debug({ statusCode: reply.statusCode, responseTime: reply.elapsedTime }, 'request completed');
    });
  }

  app.setErrorHandler(async (err, request, reply) => {
    // A client that left mid-request (a pull it dropped) is no server error; dockerd logs it as 499.
    if (request.raw.socket?.destroyed) {
      request.log.info({ err: err instanceof Error ? err.message : String(err) }, 'client went away');
      return reply.code(499).send();
    }
    const status = statusOf(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    else request.log.debug({ err }, 'request rejected');
    if (status === 304) return reply.code(304).send();
    const tooLarge = (err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE';
    // Read the rest of an oversized body before answering: a client still writing it would
    // otherwise get a broken pipe when the connection closes, and never see this answer.
    if (tooLarge) await drainBody(request.raw, DRAIN_LIMIT);
    const message = tooLarge ? 'request body too large' : undefined;
    reply.code(status).header('Content-Type', 'application/json').send(Buffer.from(message ? JSON.stringify({ message }) + '\n' : errorBody(err)));
  });
  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).header('Content-Type', 'application/json').send(Buffer.from(JSON.stringify({ message: 'page not found' }) + '\n'));
  });

  for (const route of opts.routes) {
    app.route<{ Params: Record<string, string>; Querystring: Query }>({
      method: route.method,
      url: route.url,
      ...schemaOptions(register(validatorsFor(validators, route.method, route.url, route.paths))),
      handler: async (request, reply) => {
        const version = (request.raw as Raw)[API_VERSION] ?? MAX_API_VERSION;
        if (route.minVersion && !versionAtLeast(version, route.minVersion)) throw new NotFoundError('page not found');
        return route.handler(request, reply);
      },
    });
  }
  // dockerd answers any OPTIONS with 200.
  app.options('*', async (_request, reply) => reply.code(200).send());

  // Plain-HTTP (no Upgrade header) requests to hijack routes get a raw 200 stream.
  for (const route of opts.hijackRoutes) {
    app.route({
      method: route.method,
      url: route.url,
      ...schemaOptions(register(validatorsFor(validators, route.method, route.url))),
      handler: async (request, reply) => {
        reply.hijack();
        const socket = request.raw.socket;
        const conn = new HijackedConnection(socket, false, (request.raw as Raw)[API_VERSION] ?? MAX_API_VERSION, commonHeaders);
        const req = { params: request.params as Record<string, string>, query: request.query as Record<string, string>, body: request.body, apiVersion: (request.raw as Raw)[API_VERSION] ?? MAX_API_VERSION };
        await route.handler(req, conn).catch((err) => conn.fail(err));
      },
    });
  }

  // Websocket upgrades go to @fastify/websocket through an emitter of their own: the server's
  // 'upgrade' event is ours (Upgrade: tcp hijacks), and the plugin would route those too.
  const wsUpgrades = new EventEmitter();
  void app.register(fastifyWebsocket, { options: { server: wsUpgrades as never } });
  void app.register(async (instance) => {
    for (const route of opts.wsRoutes ?? []) {
      instance.get(route.url, { websocket: true }, (socket, request) => {
        const req = { params: request.params as Record<string, string>, query: request.query as Record<string, string>, body: undefined, apiVersion: (request.raw as Raw)[API_VERSION] ?? MAX_API_VERSION };
        void route.handler(socket, req).catch((err: Error) => {
          request.log.debug({ err }, 'websocket session failed');
          socket.close(1011, err.message.slice(0, 120));
        });
      });
    }
  });

  // Node sends requests carrying `Upgrade` here instead of to Fastify (once a listener exists).
  app.server.on('upgrade', (raw: IncomingMessage, socket: Socket, head: Buffer) => {
    if (String(raw.headers.upgrade ?? '').toLowerCase() === 'websocket') {
      wsUpgrades.emit('upgrade', raw, socket, head);
      return;
    }
    void handleUpgrade(raw, socket, head).catch((err) => {
      opts.log.error({ err }, 'hijack failed');
      socket.destroy();
    });
  });

  async function handleUpgrade(raw: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const { version, url } = splitVersion(raw.url ?? '/');
    const apiVersion = version ?? MAX_API_VERSION;
    const conn = new HijackedConnection(socket, true, apiVersion, commonHeaders);
    try {
      if (version !== undefined) checkVersion(version);
      const [path, qs = ''] = url.split('?', 2);
      const match = opts.hijackRoutes
        .map((r) => ({ r, params: r.method === raw.method ? matchPath(r.url, path.replace(/\/+$/, '') || '/') : undefined }))
        .find((m) => m.params);
      if (!match) throw new NotFoundError('page not found');
      const length = Number(raw.headers['content-length'] ?? 0);
      if (!Number.isFinite(length) || length < 0) throw new InvalidParameterError('invalid Content-Length');
      if (length > JSON_BODY_LIMIT) throw new InvalidParameterError('request body too large');
      const bodyBytes = await readUpgradeBody(socket, head, length);
      const text = bodyBytes.toString('utf8');
      let body = parseJsonBody(text);
      const query = Object.fromEntries(new URLSearchParams(qs));
      // Fastify does not see these requests: validate as its routes do.
      const v = validatorsFor(validators, match.r.method, match.r.url);
      for (const [part, validator, data] of [['query', v.query, query], ['body', v.body, body]] as const) {
        const result = validator?.validate(data);
        if (result && typeof result === 'object' && 'error' in result) throw result.error;
        if (part === 'body' && result && typeof result === 'object' && 'value' in result) body = result.value;
      }
      await match.r.handler({ params: match.params!, query, body, apiVersion }, conn);
    } catch (err) {
      conn.fail(err);
    }
  }

  return app;
}
