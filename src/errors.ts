/**
 * The closed set of error classes every layer of Berth throws; it sits below all of them and
 * imports nothing. Each is raised where the condition is detected, with dockerd's wording, and
 * mapped to an HTTP status in exactly one place (src/api/errors.ts). Anything else is a 500.
 */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'INVALID_PARAMETER'
  | 'CONFLICT'
  | 'NOT_MODIFIED'
  | 'FORBIDDEN'
  | 'UNAUTHORIZED'
  | 'UNAVAILABLE'
  | 'NOT_IMPLEMENTED';

export abstract class BerthError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class NotFoundError extends BerthError {
  readonly code = 'NOT_FOUND';
}
export class InvalidParameterError extends BerthError {
  readonly code = 'INVALID_PARAMETER';
}
export class ConflictError extends BerthError {
  readonly code = 'CONFLICT';
}
export class NotModifiedError extends BerthError {
  readonly code = 'NOT_MODIFIED';
}
export class ForbiddenError extends BerthError {
  readonly code = 'FORBIDDEN';
}
export class UnauthorizedError extends BerthError {
  readonly code = 'UNAUTHORIZED';
}
export class UnavailableError extends BerthError {
  readonly code = 'UNAVAILABLE';
}
export class NotImplementedError extends BerthError {
  readonly code = 'NOT_IMPLEMENTED';
}

/** Every class, for the test that proves the API maps each one. */
export const ERROR_CLASSES = [
  NotFoundError,
  InvalidParameterError,
  ConflictError,
  NotModifiedError,
  ForbiddenError,
  UnauthorizedError,
  UnavailableError,
  NotImplementedError,
] as const;

export const errNoSuchContainer = (ref: string) => new NotFoundError(`No such container: ${ref}`);
export const errNoSuchImage = (ref: string) => new NotFoundError(`No such image: ${ref}`);
