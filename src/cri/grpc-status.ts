/**
 * Berth's typed errors as gRPC statuses: the CRI's one error mapping, as src/api/errors.ts is
 * the Docker API's. kubelet and crictl read the code (NotFound above all) and show the message.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { BerthError, type ErrorCode } from '../errors';

const STATUS_OF: Record<ErrorCode, status> = {
  NOT_FOUND: status.NOT_FOUND,
  INVALID_PARAMETER: status.INVALID_ARGUMENT,
  CONFLICT: status.FAILED_PRECONDITION,
  NOT_MODIFIED: status.FAILED_PRECONDITION,
  FORBIDDEN: status.PERMISSION_DENIED,
  UNAUTHORIZED: status.UNAUTHENTICATED,
  UNAVAILABLE: status.UNAVAILABLE,
  NOT_IMPLEMENTED: status.UNIMPLEMENTED,
};

/** A status the CRI names and Berth's errors do not (e.g. DEADLINE_EXCEEDED for an ExecSync timeout). */
export class CriStatusError extends Error {
  constructor(
    readonly grpcCode: status,
    message: string,
  ) {
    super(message);
  }
}

/** The status a thrown error is sent as; anything untyped is UNKNOWN with its message. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof BerthError ? STATUS_OF[err.code] : err instanceof CriStatusError ? err.grpcCode : status.UNKNOWN;
  return { code, details: message, message, metadata: new Metadata() };
}
