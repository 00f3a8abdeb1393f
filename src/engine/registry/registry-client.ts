/**
 * A client of one repository on a registry (the distribution v2 API, `[distribution] docs/spec`):
 * manifests by tag or digest, blobs with their digests verified, monolithic and streamed uploads,
 * cross-repository mounts, and the auth challenges registries answer 401 with (Basic, or a
 * Bearer token fetched from the realm for the repository's scope).
 *
 * One concern, kept in one file: every call goes through `request`, which holds the client's
 * token and answers challenges, so the calls and the auth that serves them stay together.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HashingStream, sha256Digest as sha256 } from '../digest';
import { ForbiddenError, InvalidParameterError, NotFoundError, UnauthorizedError, UnavailableError } from '../../errors';
import type { RegistryEndpoint } from './endpoint';
import { httpCall, type HttpResponse } from './http';

export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** An OAuth refresh token from a previous login (`identitytoken`). */
  identitytoken?: string;
  /** A bearer token to send as is (`registrytoken`). */
  registrytoken?: string;
}

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
}

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

export interface RegistryClientOptions {
  /** Per request, until the answer's headers (default 30 s). */
  timeoutMs?: number;
  /** Stops the transfer in flight and fails every later call with the signal's reason. */
  signal?: AbortSignal;
}

type Scope = 'pull' | 'pull,push';

interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}


export class RegistryClient {
  /** The last bearer token and the scopes it was granted for. */
  private token?: { value: string; scopes: string[] };
  private challenge?: Challenge;
  /** The base in use: the endpoint's, or its plain-HTTP fallback once HTTPS failed. */
  private base: string;
  /** A request has been answered on `base`: no more falling back. */
  private connected = false;
  private readonly timeoutMs: number;
  /** Aborts every request in flight and fails every later one (a client that went away). */
  private readonly signal?: AbortSignal;

  constructor(
    private readonly endpoint: RegistryEndpoint,
    /** Repository path on the registry (`library/busybox`). */
    private readonly repo: string,
    private readonly creds: RegistryCredentials = {},
    opts: RegistryClientOptions = {},
  ) {
    this.base = endpoint.base;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.signal = opts.signal;
  }

  /**
   * `docker login`: checks the credentials against the registry's /v2/ (answering its Basic or
   * Bearer challenge). Throws UnauthorizedError when they are refused.
   */
  async checkLogin(): Promise<void> {
    const res = await this.request('GET', '/v2/', { scope: 'pull' });
    if (res.status === 401) {
      await res.drain();
      throw new UnauthorizedError(`login attempt to ${this.base}/v2/ failed with status: 401 Unauthorized`);
    }
    await this.expectOk(res, 'logging in');
    await res.drain();
  }

  /** A manifest or index; a digest reference is checked against the bytes received. */
  async manifest(reference: string): Promise<FetchedManifest> {
    const res = await this.request('GET', `/v2/${this.repo}/manifests/${reference}`, { scope: 'pull', headers: { Accept: MANIFEST_TYPES.join(', ') } });
    if (!res.ok) throw await this.manifestError(res, reference);
    const bytes = await res.buffer();
    const digest = sha256(bytes);
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new InvalidParameterError(`manifest verification failed for digest ${reference}: the registry sent content with digest ${digest}`);
    }
    const mediaType = (res.header('content-type') ?? '').split(';')[0].trim() || mediaTypeOf(bytes);
    return { mediaType, digest, bytes };
  }

  /**
   * A manifest as distribution inspect reads it: a refusal keeps the registry's own words
   * (`manifest unknown: manifest unknown`) and its status, as dockerd reports registry errors.
   */
  async manifestAsServed(reference: string): Promise<FetchedManifest> {
    const res = await this.request('GET', `/v2/${this.repo}/manifests/${reference}`, { scope: 'pull', headers: { Accept: MANIFEST_TYPES.join(', ') } });
    if (!res.ok) {
      const err = await registryErrors(res);
      if (res.status === 404) throw new NotFoundError(err.message || 'manifest unknown: manifest unknown');
      if (res.status === 401) throw new UnauthorizedError(err.message || 'unauthorized: authentication required');
      if (res.status === 403) throw new ForbiddenError(err.message || 'denied: requested access to the resource is denied');
      throw this.statusError(res.status, err, `fetching manifest ${reference}`);
    }
    const bytes = await res.buffer();
    const mediaType = (res.header('content-type') ?? '').split(';')[0].trim() || mediaTypeOf(bytes);
    return { mediaType, digest: sha256(bytes), bytes };
  }

  /** Where requests go now (for logs). */
  get baseUrl(): string {
    return this.base;
  }

  /** The repository's tags, following the registry's pagination (`Link: <…>; rel="next"`). */
  async tags(): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${this.repo}/tags/list`;
    for (let page = 0; path && page < 1000; page++) {
      const res = await this.request('GET', path, { scope: 'pull' });
      if (!res.ok) throw await this.manifestError(res, 'latest');
      tags.push(...(((JSON.parse(await res.text()) as { tags?: string[] | null }).tags ?? []) as string[]));
      const next = /<([^>]+)>;\s*rel="?next"?/.exec(res.header('link') ?? '')?.[1];
      const nextUrl = next ? new URL(next, this.base) : undefined;
      path = nextUrl ? nextUrl.pathname + nextUrl.search : undefined;
    }
    return tags;
  }

  /** A small blob (an image config) in memory, its digest verified. */
  async blobBytes(digest: string): Promise<Buffer> {
    const res = await this.request('GET', `/v2/${this.repo}/blobs/${digest}`, { scope: 'pull' });
    await this.expectOk(res, `fetching blob ${digest}`);
    const bytes = await res.buffer();
    if (sha256(bytes) !== digest) throw new InvalidParameterError(`filesystem layer verification failed for digest ${digest}`);
    return bytes;
  }

  /**
   * Streams a blob to `consume` (which must read it to the end), counting and hashing the bytes
   * on the way; once `consume` is done the digest is checked. A mismatch throws (the caller
   * discards whatever it made of the bytes: nothing unverified is ever kept); a dropped
   * connection throws UnavailableError, which callers may retry. `onBytes` reports progress.
   */
  async fetchBlob<T>(digest: string, consume: (body: Readable) => Promise<T>, onBytes?: (n: number, total: number) => void): Promise<T> {
    const res = await this.request('GET', `/v2/${this.repo}/blobs/${digest}`, { scope: 'pull' });
    await this.expectOk(res, `fetching blob ${digest}`);
    const total = Number(res.header('content-length') ?? 0);
    const meter = new HashingStream();
    if (onBytes) meter.on('data', () => onBytes(meter.bytes, total));
    let dropped: Error | undefined;
    res.body.once('error', (err) => {
      dropped = err;
      meter.destroy(err);
    });
    const failed = (err: Error) => new UnavailableError(`error pulling ${digest} from ${this.endpoint.domain}: ${err.message}`, { cause: err });
    let result: T;
    try {
      result = await consume(res.body.pipe(meter));
    } catch (err) {
      res.body.destroy();
      if (this.signal?.aborted) throw this.signal.reason;
      if (dropped) throw failed(dropped);
      // Bytes that made no sense to `consume`: when all of them were seen, say whether they were the blob's.
      if (total && meter.bytes === total && meter.digest() !== digest) throw new InvalidParameterError(`filesystem layer verification failed for digest ${digest}`);
      throw err;
    }
    this.signal?.throwIfAborted();
    if (dropped) throw failed(dropped);
    if (total && meter.bytes !== total) throw failed(new Error(`got ${meter.bytes} of ${total} bytes`));
    if (meter.digest() !== digest) throw new InvalidParameterError(`filesystem layer verification failed for digest ${digest}`);
    return result;
  }

  /** Downloads a blob to `path`, its digest verified (a mismatch removes the file). */
  async blobToFile(digest: string, path: string, onBytes?: (n: number, total: number) => void): Promise<number> {
    try {
      return await this.fetchBlob(digest, async (body) => {
        await pipeline(body, createWriteStream(path, { mode: 0o600 }));
        return (await stat(path)).size;
      }, onBytes);
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
  }

  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${this.repo}/blobs/${digest}`, { scope: 'pull,push' });
    if (res.status === 404) return false;
    await this.expectOk(res, `checking blob ${digest}`);
    return true;
  }

  /**
   * Cross-repository mount (push): `mounted` when the registry linked the blob from `fromRepo`
   * (201); otherwise the upload session it opened instead (202), for uploadBlob to use.
   */
  async mountBlob(digest: string, fromRepo: string): Promise<{ mounted: boolean; location?: string }> {
    const res = await this.request('POST', `/v2/${this.repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepo)}`, {
      scope: 'pull,push',
      extraScopes: [`repository:${fromRepo}:pull`],
    });
    await res.drain();
    if (res.status === 201) return { mounted: true };
    return { mounted: false, location: res.status === 202 ? res.header('location') : undefined };
  }

  /**
   * Monolithic upload: the whole blob PUT with its digest to an upload session (`location` from
   * a failed mount, or a new one).
   */
  async uploadBlob(digest: string, source: { path: string } | { bytes: Buffer }, location?: string): Promise<void> {
    if (!location) location = await this.startUpload();
    const url = new URL(location, this.base);
    url.searchParams.set('digest', digest);
    const size = 'bytes' in source ? source.bytes.length : (await stat(source.path)).size;
    const body = 'bytes' in source ? source.bytes : () => createReadStream(source.path);
    const res = await this.request('PUT', url.pathname + url.search, {
      scope: 'pull,push',
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
      body,
    });
    await this.expectOk(res, `uploading blob ${digest}`);
    await res.drain();
  }

  /**
   * Chunked upload of a stream whose digest is not known beforehand (a layer compressed while it
   * is pushed): POST for a session, one PATCH streaming the bytes (hashed on the way), PUT with
   * the digest. `location` is a session a refused mount opened. Returns the blob's descriptor.
   */
  async uploadStream(source: Readable, location?: string): Promise<{ digest: string; size: number }> {
    if (!location) location = await this.startUpload();
    const meter = new HashingStream();
    source.on('error', (err) => meter.destroy(err));
    // An upload that failed or was aborted stops the producer (a layer being compressed).
    meter.on('error', (err) => source.destroy(err));
    const body = source.pipe(meter);
    const patchUrl = new URL(location, this.base);
    const patched = await this.request('PATCH', patchUrl.pathname + patchUrl.search, {
      scope: 'pull,push',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: () => body,
    });
    await this.expectOk(patched, 'uploading a blob');
    await patched.drain();
    const digest = meter.digest();
    const put = new URL(patched.header('location') ?? location, this.base);
    put.searchParams.set('digest', digest);
    const res = await this.request('PUT', put.pathname + put.search, { scope: 'pull,push', headers: { 'Content-Length': '0' }, body: Buffer.alloc(0) });
    await this.expectOk(res, `uploading blob ${digest}`);
    await res.drain();
    return { digest, size: meter.bytes };
  }

  /** A new upload session; its Location. */
  private async startUpload(): Promise<string> {
    const start = await this.request('POST', `/v2/${this.repo}/blobs/uploads/`, { scope: 'pull,push' });
    await this.expectOk(start, 'starting a blob upload');
    await start.drain();
    const location = start.header('location');
    if (!location) throw new UnavailableError(`${this.endpoint.domain} started an upload without a Location`);
    return location;
  }

  async putManifest(reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    const res = await this.request('PUT', `/v2/${this.repo}/manifests/${reference}`, { scope: 'pull,push', headers: { 'Content-Type': mediaType }, body: bytes });
    await this.expectOk(res, `pushing manifest ${reference}`);
    await res.drain();
    return res.header('docker-content-digest') ?? sha256(bytes);
  }

  private async expectOk(res: HttpResponse, what: string): Promise<void> {
    if (res.ok) return;
    throw this.statusError(res.status, await registryErrors(res), what);
  }

  private statusError(status: number, err: RegistryErrors, what: string): Error {
    if (status === 401 || status === 403) return new UnauthorizedError(`${what}: ${err.message || 'unauthorized: authentication required'}`);
    if (status === 404) return new NotFoundError(`${what}: ${err.message || 'not found'}`);
    return new UnavailableError(`${what}: ${this.endpoint.domain} answered ${status}: ${err.message}`);
  }

  /**
   * A manifest fetch refused, in dockerd's words (`[moby] distribution/errors.go`): unknown
   * repository, unknown tag or digest, access denied.
   */
  private async manifestError(res: HttpResponse, reference: string): Promise<Error> {
    const err = await registryErrors(res);
    const name = this.endpoint.domain === 'docker.io' ? this.repo.replace(/^library\//, '') : `${this.endpoint.domain}/${this.repo}`;
    if (err.code === 'NAME_UNKNOWN') return new NotFoundError(`repository ${name} not found: ${err.message}`);
    if (err.code === 'DENIED') return new NotFoundError(`pull access denied for ${name}, repository does not exist or may require 'docker login': ${err.message}`);
    if (res.status === 404) {
      const ref = reference.startsWith('sha256:') ? `${name}@${reference}` : `${name}:${reference}`;
      return new NotFoundError(`manifest for ${ref} not found: ${err.message || 'manifest unknown: manifest unknown'}`);
    }
    return this.statusError(res.status, err, `fetching manifest ${reference}`);
  }

  /** One API call, answering an auth challenge once. */
  private async request(
    method: string,
    path: string,
    opts: { scope: Scope; extraScopes?: string[]; headers?: Record<string, string>; body?: Buffer | (() => Readable) },
  ): Promise<HttpResponse> {
    const scopes = [...(this.repo ? [`repository:${this.repo}:${opts.scope}`] : []), ...(opts.extraScopes ?? [])];
    const send = async (): Promise<HttpResponse> => {
      const base = this.base;
      const url = `${base}${path}`;
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const auth = await this.authorization(scopes, method, url);
      if (auth) headers.Authorization = auth;
      try {
        const res = await httpCall(url, { method, headers, body: opts.body, timeoutMs: this.timeoutMs, tls: this.endpoint.tls, signal: this.signal });
        this.connected = true;
        return res;
      } catch (err) {
        // Nobody waits for the answer any more: no fallback, no registry error.
        if (this.signal?.aborted) throw this.signal.reason;
        const fallback = this.endpoint.fallbackBase;
        // An insecure registry that does not speak HTTPS: plain HTTP from now on (dockerd's endpoint
        // fallback). A parallel request (layer uploads) may have switched already while this one failed.
        if (fallback && base !== fallback && (!this.connected || this.base === fallback)) {
          this.base = fallback;
          return send();
        }
        throw new UnavailableError(`${goVerb(method)} "${url}": ${networkReason(err as NodeJS.ErrnoException, url)}`, { cause: err });
      }
    };
    let res = await send();
    if (res.status === 401) {
      const challenge = parseChallenge(res.header('www-authenticate') ?? null);
      await res.drain();
      if (challenge) {
        this.challenge = challenge;
        this.token = undefined;
        res = await send();
      }
    }
    return res;
  }

  /** The Authorization header for a request (`method url` only names it in errors). */
  private async authorization(scopes: string[], method: string, url: string): Promise<string | undefined> {
    const c = this.challenge;
    if (this.creds.registrytoken) return `Bearer ${this.creds.registrytoken}`;
    if (!c) return undefined;
    if (c.scheme === 'basic') {
      if (this.creds.username === undefined) return undefined;
      return `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password ?? ''}`).toString('base64')}`;
    }
    if (this.token && scopesCover(this.token.scopes, scopes)) return `Bearer ${this.token.value}`;
    const realm = new URL(c.params.realm);
    if (c.params.service) realm.searchParams.set('service', c.params.service);
    for (const scope of scopes) realm.searchParams.append('scope', scope);
    const headers: Record<string, string> = {};
    if (this.creds.username !== undefined) headers.Authorization = `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password ?? ''}`).toString('base64')}`;
    const res = await httpCall(realm.toString(), { method: 'GET', headers, timeoutMs: this.timeoutMs, signal: this.signal }).catch((err: Error) => {
      if (this.signal?.aborted) throw this.signal.reason;
      throw new UnavailableError(`cannot get a token from ${realm.origin}: ${err.message}`, { cause: err });
    });
    if (res.status === 401 || res.status === 403) {
      // Go's url.Error form, as dockerd reports it: `Get "https://…/v2/": unauthorized: <details>`.
      throw new UnauthorizedError(`${goVerb(method)} "${url}": unauthorized: ${tokenErrorDetails(await res.text().catch(() => ''))}`);
    }
    if (!res.ok) throw new UnavailableError(`token server ${realm.origin} answered ${res.status}`);
    const body = JSON.parse(await res.text()) as { token?: string; access_token?: string };
    const value = body.token ?? body.access_token;
    if (!value) throw new UnavailableError(`token server ${realm.origin} sent no token`);
    this.token = { value, scopes };
    return `Bearer ${value}`;
  }
}

/** `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^(\w+)\s*(.*)$/.exec(header.trim());
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)="([^"]*)"/g)) params[p[1].toLowerCase()] = p[2];
  if (scheme === 'bearer' && !params.realm) return undefined;
  return { scheme, params };
}

interface RegistryErrors {
  /** The first error's code (`NAME_UNKNOWN`, `DENIED`, …). */
  code?: string;
  /** As dockerd prints them: `name unknown: repository name not known to registry`. */
  message: string;
}

/** The distribution error body (`{"errors": [{code, message}]}`) of a refused request. */
async function registryErrors(res: HttpResponse): Promise<RegistryErrors> {
  const text = await res.text().catch(() => '');
  try {
    const errors = (JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> }).errors ?? [];
    if (errors.length) {
      const message = errors.map((e) => `${(e.code ?? '').toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`).join('; ');
      return { code: errors[0].code, message };
    }
  } catch {
    // not JSON
  }
  return { message: text.trim() };
}

/** Every wanted `repository:<name>:<actions>` scope is within a granted one. */
function scopesCover(granted: string[], wanted: string[]): boolean {
  const parse = (s: string) => {
    const at = s.lastIndexOf(':');
    return { resource: s.slice(0, at), actions: s.slice(at + 1).split(',') };
  };
  const have = granted.map(parse);
  return wanted.map(parse).every((w) => have.some((h) => h.resource === w.resource && w.actions.every((a) => h.actions.includes(a))));
}

/** `GET` as Go's url.Error names it (`Get`), the form dockerd's messages have. */
function goVerb(method: string): string {
  return method[0] + method.slice(1).toLowerCase();
}

/** Why a connection failed, in dockerd's words where they are well known. */
function networkReason(err: NodeJS.ErrnoException, url: string): string {
  const host = new URL(url).host;
  if (err.code === 'ECONNREFUSED') return `dial tcp ${host}: connect: connection refused`;
  if (err.code === 'ENOTFOUND') return `dial tcp: lookup ${new URL(url).hostname}: no such host`;
  return err.message;
}

/** What a token server said when it refused (`{"details": …}` or distribution's `errors`). */
function tokenErrorDetails(body: string): string {
  try {
    const parsed = JSON.parse(body) as { details?: string; errors?: Array<{ message?: string }> };
    return parsed.details ?? parsed.errors?.[0]?.message ?? 'authentication required';
  } catch {
    return 'authentication required';
  }
}

/** The mediaType field of a manifest body (for registries that send no Content-Type). */
function mediaTypeOf(bytes: Buffer): string {
  try {
    return String((JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ?? '');
  } catch {
    return '';
  }
}
