// Cold start floor: a bundle that only has the DynamoDB client (client-dynamodb and
// lib-dynamodb) and sends one transaction of a customer and its identifiers to the same
// in-memory DynamoDB as handlerEntry.ts.
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { MemoryDynamo, memoryDocumentClient } from '../support/memoryDynamo';

export async function firstRequest(event: APIGatewayProxyEvent) {
  const body = JSON.parse(event.body ?? '{}') as { profiles: { identifiers: { type: string; value: string }[] }[] };
  const client = memoryDocumentClient(new MemoryDynamo());
  const table = process.env.TABLE_NAME!;
  const id = Date.now();
  const identifiers = body.profiles.flatMap((p) => p.identifiers);
  await client.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: table,
            Item: { pk: `ORG#100#CUSTOMER#${id}`, sk: 'CUSTOMER', profiles: body.profiles },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        ...identifiers.map((i) => ({
          Put: {
            TableName: table,
            Item: { pk: `ORG#100#ID#${i.type}#${i.value}`, sk: 'ID', customerId: id },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        })),
      ],
    }),
  );
  return { statusCode: 200, body: JSON.stringify({ createdId: id, warnings: [], sideEffects: [] }) };
}
