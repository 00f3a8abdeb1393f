import { BerthError, type ErrorCode } from '../errors';

/** The only class → HTTP status table. */
export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  INVALID_PARAMETER: 400,
  CONFLICT: 409,
  NOT_MODIFIED: 304,
  FORBIDDEN: 403,
  UNAUTHORIZED: 401,
  UNAVAILABLE: 503,
  NOT_IMPLEMENTED: 501,
};

/** Status for any error: engine classes by table, Fastify's own client errors as they are, else 500. */
export function statusOf(err: unknown): number {
  if (err instanceof BerthError) return STATUS_BY_CODE[err.code];
  const sc = (err as { statusCode?: number })?.statusCode;
  if (typeof sc === 'number' && sc >= 400 && sc < 500) return sc;
  return 500;
}

/** The body dockerd writes: `{"message": ...}` and a trailing newline. */
export function errorBody(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return JSON.stringify({ message }) + '\n';
}
