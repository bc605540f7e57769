// The one DynamoDB document client per endpoint and process, reused across invocations, and
// the one `send` every store module goes through, so that a failure DynamoDB's client gave up
// on is mapped in one place. The SDK's standard retry mode retries throttling with backoff and
// jitter.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsRegion, dynamoConnectTimeoutMillis, dynamoEndpoint, dynamoMaxAttempts, dynamoRequestTimeoutMillis } from '../config';
import { toStoreError } from './storeError';

let cached: { endpoint: string | undefined; client: DynamoDBDocumentClient } | undefined;

export function documentClient(): DynamoDBDocumentClient {
  const endpoint = dynamoEndpoint();
  if (cached && cached.endpoint === endpoint) return cached.client;
  const base = new DynamoDBClient({
    region: awsRegion(),
    endpoint,
    maxAttempts: dynamoMaxAttempts(),
    // A hung connection or request fails fast and is retried like throttling; five attempts
    // with backoff stay well within the Lambda's 15 s, and after the last one it is a 503.
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
  cached = { endpoint, client };
  return client;
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
  try {
    // Any lib-dynamodb command; each caller names the output it expects.
    return (await documentClient().send(command as never)) as Output;
  } catch (error) {
    if (expected.includes((error as { name?: string }).name ?? '')) throw error;
    throw toStoreError(error);
  }
}
