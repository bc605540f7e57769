// What a failure of DynamoDB means to a client: throttling, timeouts and outages the SDK gave up
// retrying become a 503 with Retry-After; anything else is a bug and stays one.

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
]);

export function toStoreError(error: unknown): unknown {
  const name = (error as { name?: string }).name ?? '';
  const retryable = (error as { $retryable?: unknown }).$retryable !== undefined;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (retryable || UNAVAILABLE.has(name) || status === 503) return unavailable();
  return error;
}

export function unavailable(message = 'the customer table is unavailable; retry later'): ApiError {
  return ApiError.of(Code.unavailable, message).withHeaders({ 'Retry-After': '1' });
}
