/**
 * The one error registry. Every failure a client can see is a GatewayError with a stable
 * code; transports map it to an HTTP status, a gRPC status or a WebSocket error only
 * through the table below. Messages say what was wrong and what was expected, and never
 * carry internal file paths.
 */

/** gRPC status codes (numeric, as on the wire) used by the table. */
export const GrpcStatus = Object.freeze({
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
});

interface ErrorSpec {
  readonly http: number;
  readonly grpc: number;
}

export const ERRORS = Object.freeze({
  SY_ERR_BAD_REQUEST: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  SY_ERR_MALFORMED_JSON: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  SY_ERR_INVALID_INPUT: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  SY_ERR_BATCH_TOO_LARGE: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  SY_ERR_UNAUTHORIZED: { http: 401, grpc: GrpcStatus.UNAUTHENTICATED },
  SY_ERR_FORBIDDEN: { http: 403, grpc: GrpcStatus.PERMISSION_DENIED },
  SY_ERR_NOT_FOUND: { http: 404, grpc: GrpcStatus.NOT_FOUND },
  SY_ERR_MODEL_NOT_FOUND: { http: 404, grpc: GrpcStatus.NOT_FOUND },
  SY_ERR_METHOD_NOT_ALLOWED: { http: 405, grpc: GrpcStatus.UNIMPLEMENTED },
  SY_ERR_CONFLICT: { http: 409, grpc: GrpcStatus.FAILED_PRECONDITION },
  SY_ERR_BODY_TOO_LARGE: { http: 413, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  SY_ERR_UNSUPPORTED_MEDIA: { http: 415, grpc: GrpcStatus.INVALID_ARGUMENT },
  SY_ERR_QUEUE_FULL: { http: 429, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  SY_ERR_CANCELLED: { http: 499, grpc: GrpcStatus.CANCELLED },
  SY_ERR_INTERNAL: { http: 500, grpc: GrpcStatus.INTERNAL },
  SY_ERR_INFERENCE_FAILED: { http: 500, grpc: GrpcStatus.INTERNAL },
  SY_ERR_MODEL_UNAVAILABLE: { http: 503, grpc: GrpcStatus.UNAVAILABLE },
  SY_ERR_WORKER_DIED: { http: 503, grpc: GrpcStatus.UNAVAILABLE },
  SY_ERR_DRAINING: { http: 503, grpc: GrpcStatus.UNAVAILABLE },
  SY_ERR_STORE_UNAVAILABLE: { http: 503, grpc: GrpcStatus.UNAVAILABLE },
  SY_ERR_TIMEOUT: { http: 504, grpc: GrpcStatus.DEADLINE_EXCEEDED },
  SY_ERR_LOAD_FAILED: { http: 400, grpc: GrpcStatus.FAILED_PRECONDITION },
} satisfies Record<string, ErrorSpec>);

export type ErrorCode = keyof typeof ERRORS;

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly grpcStatus: number;
  /** seconds a client should wait before retrying (429/503), or null */
  readonly retryAfterS: number | null;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryAfterS?: number }) {
    super(capMessage(message), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.httpStatus = ERRORS[code].http;
    this.grpcStatus = ERRORS[code].grpc;
    this.retryAfterS = options?.retryAfterS ?? null;
  }
}

/**
 * The longest error message sent: messages echo what the client sent (a shape, a name), and
 * an echo of 100,000 dims in a gRPC trailer made the client report RESOURCE_EXHAUSTED
 * instead of the real reason. Every message is cut here, whatever built it.
 */
export const MAX_ERROR_MESSAGE = 2000;

function capMessage(m: string): string {
  return m.length <= MAX_ERROR_MESSAGE ? m : `${m.slice(0, MAX_ERROR_MESSAGE)}… (${m.length - MAX_ERROR_MESSAGE} more characters)`;
}

export function isGatewayError(e: unknown): e is GatewayError {
  return e instanceof GatewayError;
}

/**
 * Any thrown value as a GatewayError. Unknown faults become SY_ERR_INTERNAL with a generic
 * message (the original is kept as `cause` for the server log, never shown to clients).
 */
export function toGatewayError(e: unknown): GatewayError {
  if (e instanceof GatewayError) return e;
  return new GatewayError('SY_ERR_INTERNAL', 'internal error; the server log has the details', { cause: e });
}

// Constructors for the errors raised in more than one place, so their wording stays the same.

/** Unknown model (version). The message starts with Triton's phrase, which Triton's clients match on. */
export function modelNotFound(model: string, version?: string | null): GatewayError {
  return version
    ? new GatewayError('SY_ERR_MODEL_NOT_FOUND', `Request for unknown model: '${model}' version ${version} is not found; GET /v2/repository/index lists what is served`)
    : new GatewayError('SY_ERR_MODEL_NOT_FOUND', `Request for unknown model: '${model}' is not found; GET /v2/repository/index lists what is served`);
}

/** A model in the repository that serves nothing now (failed to load, or unloaded): 404 with why. */
export function modelNotServed(model: string, version: string | null, why: string): GatewayError {
  const what = version === null ? `'${model}' has no available versions` : `'${model}' version ${version} is not available`;
  return new GatewayError('SY_ERR_MODEL_NOT_FOUND', `Request for unknown model: ${what} (${why}); load it with POST /v2/repository/models/${model}/load`);
}

export function queueFull(model: string, version: string, size: number): GatewayError {
  return new GatewayError(
    'SY_ERR_QUEUE_FULL',
    `model "${model}" version "${version}": queue is full (max_queue_size ${size}); retry later or raise max_queue_size`,
    { retryAfterS: 1 },
  );
}

export function timedOut(model: string, version: string, timeoutUs: number): GatewayError {
  return new GatewayError(
    'SY_ERR_TIMEOUT',
    `model "${model}" version "${version}": request timed out after ${timeoutUs} us waiting in the queue; raise parameters.timeout or default_timeout_us, or add instances`,
  );
}

export function deadlineExceeded(model: string, version: string): GatewayError {
  return new GatewayError(
    'SY_ERR_TIMEOUT',
    `model "${model}" version "${version}": the call's deadline passed before the request could run; allow a longer deadline, or add instances`,
  );
}

export function cancelled(): GatewayError {
  return new GatewayError('SY_ERR_CANCELLED', 'request cancelled: the client went away');
}
