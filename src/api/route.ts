import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { parseJsonBody } from './validation/json-text';
import type { Query } from './form';
import type { HijackedConnection } from './wire/hijack';
import { MAX_API_VERSION } from './version';

/**
 * The request a handler gets: `P` names its path parameters (`'id'`, `'*'` for a wildcard), and
 * the route helper below checks them against the route's URL.
 */
export type ApiRequest<P extends string = never> = FastifyRequest<{ Params: Record<P, string>; Querystring: Query }>;

/** A plain route's handler: parse, one engine call, reply. Errors are thrown, never written here. */
export type RouteHandler<P extends string = never> = (request: ApiRequest<P>, reply: FastifyReply) => Promise<unknown>;

/** The parameter names of a route URL: `/containers/:id/json` → `'id'`, `/images/*` → `'*'`. */
export type UrlParams<U extends string> = U extends `${string}:${infer P}/${infer Rest}`
  ? P | UrlParams<`/${Rest}`>
  : U extends `${string}:${infer P}`
    ? P
    : U extends `${string}*`
      ? '*'
      : never;

/** A plain route as the server registers it. Build one with `route()`, which checks the handler. */
export interface RouteDef {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  handler: RouteHandler<string>;
  /** Oldest API version that has this route (moby's WithMinimumAPIVersion). */
  minVersion?: string;
  /** OpenAPI paths this route serves, when `url` is a wildcard (image names hold slashes). */
  paths?: string[];
}

/**
 * A route table entry whose handler is checked against its URL: a handler that reads a parameter
 * the URL does not have, or a misspelt handler name, fails to compile.
 */
export function route<U extends string>(def: Omit<RouteDef, 'url' | 'handler'> & { url: U; handler: RouteHandler<UrlParams<U>> }): RouteDef {
  // Fastify fills exactly the URL's parameters, which is what the handler was checked against.
  return def as RouteDef;
}

/** What a hijacking handler gets, whichever way the connection arrived. */
export interface HijackRequest {
  params: Record<string, string>;
  query: Query;
  body: unknown;
  apiVersion: string;
}

/** A route whose response takes over the connection (attach, exec start). */
export interface HijackRouteDef {
  method: 'POST';
  url: string;
  handler: (req: HijackRequest, conn: HijackedConnection) => Promise<void>;
}

/** A websocket route (`/containers/{id}/attach/ws`), served through @fastify/websocket. */
export interface WsRouteDef {
  method: 'GET';
  url: string;
  handler: (socket: WsSocket, req: HijackRequest) => Promise<void>;
}

/** The slice of a `ws` WebSocket the handlers use. */
export interface WsSocket {
  send(data: Buffer, opts: { binary: boolean }): void;
  close(code?: number, reason?: string): void;
  on(event: 'message', cb: (data: Buffer) => void): void;
  on(event: 'close', cb: () => void): void;
}

export const API_VERSION = Symbol('berth.apiVersion');

/** A request as the server's URL rewrite leaves it: the negotiated API version attached. */
export type VersionedMessage = IncomingMessage & { [API_VERSION]?: string };

/** The API version negotiated for this request (set by the server's URL rewrite). */
export function apiVersionOf(request: FastifyRequest): string {
  return (request.raw as VersionedMessage)[API_VERSION] ?? MAX_API_VERSION;
}

/**
 * Writes `{...}\n` with exactly `Content-Type: application/json`: the Go client compares the
 * header verbatim to decide whether a stream is JSON messages. A Buffer keeps Fastify from
 * appending a charset.
 */
export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return sendJsonBuffer(reply, status, jsonBuffer(body));
}

/** A body encoded as sendJson encodes it, for answers shared by several requests. */
export const jsonBuffer = (body: unknown): Buffer => Buffer.from(JSON.stringify(body) + '\n');

export function sendJsonBuffer(reply: FastifyReply, status: number, body: Buffer): FastifyReply {
  return reply.code(status).header('Content-Type', 'application/json').send(body);
}

/** Writes already-encoded JSON lines (a progress stream that is complete). */
export function sendJsonLines(reply: FastifyReply, lines: string): FastifyReply {
  return reply.code(200).header('Content-Type', 'application/json').send(Buffer.from(lines));
}

/** The JSON body of a request, or undefined when empty. Accepts bodies sent without a JSON type. */
export async function jsonBody(request: FastifyRequest): Promise<unknown> {
  const body = request.body;
  if (body === undefined || body === null) return undefined;
  if (typeof (body as Readable).pipe === 'function') {
    const chunks: Buffer[] = [];
    for await (const c of body as Readable) chunks.push(c as Buffer);
    return parseJson(Buffer.concat(chunks).toString('utf8'));
  }
  return body;
}

/** Parses with the depth guard and Go number-literal tracking of every request body. */
export function parseJson(text: string): unknown {
  return parseJsonBody(text);
}

/**
 * Aborts when the client goes away before the response is complete: long engine calls (pull,
 * push, build) take it and stop their work.
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const abort = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  return abort.signal;
}

/** Starts a streaming response now, so clients see headers before the first byte of data. */
export function beginStream(reply: FastifyReply, contentType: string): void {
  reply.hijack();
  const headers = { ...(reply.getHeaders() as Record<string, string>), 'Content-Type': contentType };
  reply.raw.writeHead(200, headers);
  reply.raw.flushHeaders();
}
