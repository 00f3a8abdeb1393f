/** dockerd's status for each error class (moby daemon/server/httpstatus), for the API's error tests. */
export const DOCKERD_STATUS: Record<string, number> = {
  NotFoundError: 404,
  InvalidParameterError: 400,
  ConflictError: 409,
  NotModifiedError: 304,
  ForbiddenError: 403,
  UnauthorizedError: 401,
  UnavailableError: 503,
  NotImplementedError: 501,
};
