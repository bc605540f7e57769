// Bundle size floor: a Lambda handler that only imports the DynamoDB client (client-dynamodb
// and lib-dynamodb) and sends one transaction. Every implementation of the API ships at least
// this much.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';

const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export async function handler(event: APIGatewayProxyEvent) {
  const body = JSON.parse(event.body ?? '{}') as { profiles: unknown[] };
  const id = Date.now();
  await client.send(
    new TransactWriteCommand({
      TransactItems: [{ Put: { TableName: process.env.TABLE_NAME!, Item: { pk: `C#${id}`, sk: 'C', profiles: body.profiles } } }],
    }),
  );
  return { statusCode: 200, body: JSON.stringify({ createdId: id }) };
}
