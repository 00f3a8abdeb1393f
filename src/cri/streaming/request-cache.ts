/**
 * The one-time tokens of the streaming URLs, as kubelet's streaming server keeps them: an Exec,
 * Attach or PortForward request is stored under a random token that is valid for one minute and
 * for one connection; at most 1000 are waiting at a time.
 */
import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { CriStatusError } from '../grpc-status';

export const TOKEN_TTL_MS = 60_000;
const MAX_IN_FLIGHT = 1000;

export class RequestCache<T> {
  private readonly entries = new Map<string, { value: T; expires: number }>();

  constructor(
    private readonly ttlMs = TOKEN_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  insert(value: T): string {
    this.evictExpired();
    if (this.entries.size >= MAX_IN_FLIGHT) throw new CriStatusError(status.RESOURCE_EXHAUSTED, 'maximum number of in-flight requests exceeded');
    let token: string;
    do token = randomBytes(8).toString('base64url');
    while (this.entries.has(token));
    this.entries.set(token, { value, expires: this.now() + this.ttlMs });
    return token;
  }

  /** The request of a token, which is then gone; undefined for an unknown or expired token. */
  consume(token: string): T | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    this.entries.delete(token);
    return entry.expires > this.now() ? entry.value : undefined;
  }

  private evictExpired(): void {
    const now = this.now();
    for (const [token, entry] of this.entries) if (entry.expires <= now) this.entries.delete(token);
  }
}
