import type { DynamoDbLocal } from '../../scripts/dynamodbLocal';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __dynamodbLocal?: DynamoDbLocal }).__dynamodbLocal?.stop();
}
