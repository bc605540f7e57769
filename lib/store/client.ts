import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsRegion, dynamoEndpoint } from '../config';

/**
 * One DynamoDB document client per endpoint and process, reused across invocations.
 * The SDK's standard retry mode retries throttling with backoff and jitter.
 */

let cached: { endpoint: string | undefined; client: DynamoDBDocumentClient } | undefined;

export function documentClient(): DynamoDBDocumentClient {
  const endpoint = dynamoEndpoint();
  if (cached && cached.endpoint === endpoint) return cached.client;
  const base = new DynamoDBClient({
    region: awsRegion(),
    endpoint,
    maxAttempts: Number(process.env.DYNAMODB_MAX_ATTEMPTS || 5),
    // A hung connection or request fails fast and is retried like throttling; five attempts
    // with backoff stay well within the Lambda's 15 s, and after the last one it is a 503.
    requestHandler: {
      connectionTimeout: Number(process.env.DYNAMODB_CONNECT_TIMEOUT_MS || 1000),
      requestTimeout: Number(process.env.DYNAMODB_REQUEST_TIMEOUT_MS || 1000),
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
