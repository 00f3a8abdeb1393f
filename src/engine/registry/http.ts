/**
 * HTTP(S) requests for the registry client on node:http/https: unlike fetch, no port is off
 * limits (fetch refuses e.g. 6000 and 10080, where registries may well listen), bodies stream
 * both ways, and redirects (blob storage) are followed by hand without leaking Authorization
 * to another host.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { checkServerIdentity, rootCertificates, type PeerCertificate } from 'node:tls';
import { InvalidParameterError, UnavailableError } from '../../errors';
import type { TlsSettings } from './endpoint';
import { loopbackDialTarget } from './loopback-dial';

export interface HttpResponse {
  status: number;
  ok: boolean;
  header(name: string): string | undefined;
  /** The body as a stream (consume it, or call drain()). */
  body: Readable;
  buffer(): Promise<Buffer>;
  text(): Promise<string>;
  drain(): Promise<void>;
}

export interface HttpRequestOptions {
  method: string;
  headers?: Record<string, string>;
  /** A Buffer, or a stream factory (called again on a redirect). */
  body?: Buffer | (() => Readable);
  timeoutMs: number;
  /** HTTPS: extra CAs, a client certificate, or no verification. */
  tls?: TlsSettings;
  /** Aborts the request, or the response body being read (it errors with the signal's reason). */
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 5;

export async function httpCall(url: string, opts: HttpRequestOptions, redirects = 0): Promise<HttpResponse> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const tls = target.protocol === 'https:' ? tlsOptions(opts.tls) : {};
    const req = send(target, { method: opts.method, headers: opts.headers, timeout: opts.timeoutMs, signal: opts.signal, ...tls, ...dialOptions(target, opts.headers) }, resolve);
    req.on('timeout', () => req.destroy(new Error(`timed out after ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    if (opts.body === undefined) req.end();
    else if (Buffer.isBuffer(opts.body)) req.end(opts.body);
    else {
      const body = opts.body();
      body.on('error', (err) => req.destroy(err));
      // A request that failed (or was aborted) stops reading its body: the producer is told too.
      req.on('error', (err) => body.destroy(err));
      body.pipe(req);
    }
  });
  // The answer's body is read after the request settled: the signal stops that reading too.
  const signal = opts.signal;
  if (signal) {
    const stop = () => res.destroy(signal.reason as Error);
    signal.addEventListener('abort', stop, { once: true });
    res.once('close', () => signal.removeEventListener('abort', stop));
  }
  const status = res.statusCode ?? 0;
  const location = res.headers.location;
  if ([301, 302, 303, 307, 308].includes(status) && location && redirects < MAX_REDIRECTS) {
    res.resume();
    const next = new URL(location, target);
    const headers = { ...(opts.headers ?? {}) };
    if (next.host !== target.host) delete headers.Authorization;
    const method = status === 303 ? 'GET' : opts.method;
    return httpCall(next.toString(), { ...opts, method, headers, body: status === 303 ? undefined : opts.body }, redirects + 1);
  }
  const buffer = async () => {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  return {
    status,
    ok: status >= 200 && status < 300,
    header: (name) => {
      const v = res.headers[name.toLowerCase()];
      return Array.isArray(v) ? v[0] : v;
    },
    body: res,
    buffer,
    text: async () => (await buffer()).toString('utf8'),
    drain: async () => {
      res.resume();
      await new Promise((r) => (res.readableEnded ? r(undefined) : res.once('end', r).once('close', r)));
    },
  };
}

/**
 * GET a URL the user named (docker import <URL>, ADD <URL>): the answer when it is 2xx, else
 * dockerd's errors (`Get "<url>": …` when unreachable, `failed to GET <url> with status …`).
 */
export async function httpGetOk(url: string, timeoutMs = 30_000): Promise<HttpResponse> {
  const res = await httpCall(url, { method: 'GET', timeoutMs }).catch((err: Error) => {
    throw new UnavailableError(`Get "${url}": ${err.message}`, { cause: err });
  });
  if (!res.ok) {
    const body = (await res.text().catch(() => '')).trim().slice(0, 200);
    throw new InvalidParameterError(`failed to GET ${url} with status ${res.status}: ${body}`);
  }
  return res;
}

/** Rootless: a loopback registry is dialled on the host's loopback, under the name the user typed. */
function dialOptions(target: URL, headers: Record<string, string> | undefined) {
  const dial = loopbackDialTarget(target.hostname);
  if (!dial) return {};
  const name = target.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    hostname: dial,
    headers: { ...headers, Host: target.host },
    // The certificate is checked against the registry's name, not the address dialled.
    ...(target.protocol === 'https:' && !isIP(name) ? { servername: name } : {}),
    ...(target.protocol === 'https:' ? { checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert) } : {}),
  };
}

function tlsOptions(tls: TlsSettings = {}) {
  return {
    ...(tls.ca?.length ? { ca: [...rootCertificates, ...tls.ca.map((c) => c.toString('utf8'))] } : {}),
    ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
    ...(tls.skipVerify ? { rejectUnauthorized: false } : {}),
  };
}
