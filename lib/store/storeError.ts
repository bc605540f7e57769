// What a failure of DynamoDB means to a client: throttling, timeouts, outages and network
// failures the SDK gave up retrying become a 503 with Retry-After; anything else is a bug and
// stays one.

import { ApiError, Code } from '../errors';

const UNAVAILABLE = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionInProgressException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  // The request's deadline (lib/deadline.ts) aborted the call.
  'AbortError',
]);

/** Socket-level failures: the table could not be reached, or the connection broke. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ESOCKETTIMEDOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** Whether a failure says nothing about what DynamoDB did: it may or may not have applied the request. */
export function isUnavailable(error: unknown): boolean {
  const e = error as {
    name?: string;
    code?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
    cause?: { code?: string };
  };
  if (error instanceof ApiError) return error.status === 503;
  return (
    e.$retryable !== undefined ||
    // The SDK's own error with no HTTP status: no answer came back at all.
    (e.$metadata !== undefined && e.$metadata.httpStatusCode === undefined) ||
    UNAVAILABLE.has(e.name ?? '') ||
    NETWORK_CODES.has(e.code ?? '') ||
    NETWORK_CODES.has(e.cause?.code ?? '') ||
    (e.$metadata?.httpStatusCode ?? 0) >= 500
  );
}

/** Connections that were never made: the request cannot have reached DynamoDB. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN']);

/**
 * Whether a failed attempt may have been applied by DynamoDB all the same: anything but an
 * answer of its own below 500 and a connection that was never made.
 */
export function mayHaveApplied(error: unknown): boolean {
  const e = error as { code?: string; $metadata?: { httpStatusCode?: number }; $fault?: string };
  const status = e.$metadata?.httpStatusCode;
  // DynamoDB's own refusals (throttled, cancelled, invalid) are client faults and 4xx answers.
  if (e.$fault === 'client' || (status !== undefined && status >= 400 && status < 500)) return false;
  return !NOT_SENT_CODES.has(e.code ?? '');
}

export function toStoreError(error: unknown): unknown {
  if (error instanceof ApiError) return error;
  return isUnavailable(error) ? unavailable() : error;
}

export function unavailable(message = 'the customer table is unavailable; nothing was written; retry later'): ApiError {
  return ApiError.of(Code.unavailable, message).withHeaders({ 'Retry-After': '1' });
}
