// The one DynamoDB document client per endpoint and process, reused across invocations, and
// the one `send` every store module goes through, so that a failure DynamoDB's client gave up
// on is mapped in one place. The SDK's standard retry mode retries throttling with backoff and
// jitter.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { awsRegion, dynamoConnectTimeoutMillis, dynamoEndpoint, dynamoMaxAttempts, dynamoRequestTimeoutMillis } from '../config';
import { timeLeft } from '../deadline';
import { mayHaveApplied, toStoreError, unavailable } from './storeError';

let cached: { endpoint: string | undefined; client: DynamoDBDocumentClient } | undefined;

export function documentClient(): DynamoDBDocumentClient {
  const endpoint = dynamoEndpoint();
  if (cached && cached.endpoint === endpoint) return cached.client;
  const base = new DynamoDBClient({
    region: awsRegion(),
    endpoint,
    maxAttempts: dynamoMaxAttempts(),
    // A hung connection or request is abandoned and retried like throttling. The request
    // timeout leaves room for a slow but healthy table (a transaction's p99 under load can be
    // well above a second); the request's deadline bounds all attempts together.
    requestHandler: {
      connectionTimeout: dynamoConnectTimeoutMillis(),
      requestTimeout: dynamoRequestTimeoutMillis(),
      throwOnRequestTimeout: true,
    },
    // A custom endpoint (DynamoDB Local) gets dummy credentials, never real ones; real AWS
    // takes them from the Lambda role.
    ...(endpoint ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  const client = DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } });
  client.middlewareStack.add(recordDelivery as never, { step: 'finalizeRequest', priority: 'low', name: DELIVERY_RECORDER });
  cached = { endpoint, client };
  return client;
}

const DELIVERY_RECORDER = 'transaction-delivery';
/** Tokens of transactions one of whose attempts may have been applied although it failed. */
const maybeApplied = new Set<string>();

/**
 * Inside the SDK's retries, each attempt of a transaction that fails in a way that says nothing
 * about what DynamoDB did (a timeout, a reset connection, a 5xx) marks its ClientRequestToken,
 * so that the store can tell "nothing was written" from "the outcome is unknown". An answer of
 * DynamoDB's own (a 4xx: throttled, cancelled, invalid) and a connection that was never made
 * mean the attempt was not applied.
 */
const recordDelivery: FinalizeRequestMiddleware<object, object> = (next) => async (args) => {
  const token = (args.input as { ClientRequestToken?: unknown } | undefined)?.ClientRequestToken;
  if (typeof token !== 'string') return next(args);
  try {
    return await next(args);
  } catch (error) {
    if (mayHaveApplied(error)) maybeApplied.add(token);
    throw error;
  }
};

/** Whether an attempt of the transaction with this token may have been applied; forgets the token. */
export function takeMaybeApplied(token: string): boolean {
  return maybeApplied.delete(token);
}

/** Replaces the process's client (benchmarks and fault-injection tests wrap it). */
export function useDocumentClient(client: DynamoDBDocumentClient): void {
  cached = { endpoint: dynamoEndpoint(), client };
}

/**
 * Sends one command. Errors the caller expects as answers (a failed condition, a cancelled
 * transaction) are named in `expected` and come back thrown as they are; every other failure
 * is mapped by toStoreError.
 */
export async function send<Output = unknown>(command: object, expected: readonly string[] = []): Promise<Output> {
  // The SDK's retries of this call end with the request's deadline.
  const left = timeLeft();
  if (left <= 0) throw unavailable('the request ran out of time waiting for the customer table; retry later');
  const options = Number.isFinite(left) ? { abortSignal: AbortSignal.timeout(left) } : undefined;
  try {
    // Any lib-dynamodb command; each caller names the output it expects.
    return (await documentClient().send(command as never, options)) as Output;
  } catch (error) {
    if (expected.includes((error as { name?: string }).name ?? '')) throw error;
    throw toStoreError(error);
  }
}
