import { startDynamoDbLocal, type DynamoDbLocal } from '../../scripts/dynamodbLocal';

/** One in-memory DynamoDB Local for the whole run, on a free port; each test file makes its own table. */
export default async function globalSetup(): Promise<void> {
  const local = await startDynamoDbLocal();
  (globalThis as { __dynamodbLocal?: DynamoDbLocal }).__dynamodbLocal = local;
  process.env.DYNAMODB_ENDPOINT = local.endpoint;
}
