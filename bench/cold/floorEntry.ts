// Cold start floor: what any implementation must do on a till's first request in a new
// process: check the till's credentials once (SPEC section 2: its stored scrypt hash, with the
// service's own parameters, lib/passwords.ts) and send one transaction of a customer and its
// identifiers, with only the DynamoDB client (client-dynamodb and lib-dynamodb), to the same
// in-memory DynamoDB as handlerEntry.ts. The till's hash comes from the same items.
import { readFileSync } from 'node:fs';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { verifyPassword } from '../../lib/passwords';
import { keys } from '../../lib/store/keys';
import { MemoryDynamo, memoryDocumentClient } from '../support/memoryDynamo';

/** The one scrypt check of the till's password (the md5 hex it sends) against its stored hash. */
async function tillChecked(event: APIGatewayProxyEvent): Promise<boolean> {
  const basic = /^Basic\s+(\S+)$/i.exec(event.headers.Authorization ?? '');
  if (!basic) return false;
  const [username, md5] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
  const items = JSON.parse(readFileSync(process.env.BENCH_MEMORY_ITEMS!, 'utf8')) as Record<string, AttributeValue>[];
  const till = items.find((item) => item.pk?.S === keys.till(username).pk);
  return till?.passwordHash?.S !== undefined && verifyPassword((md5 ?? '').toLowerCase(), till.passwordHash.S);
}

export async function firstRequest(event: APIGatewayProxyEvent) {
  if (!(await tillChecked(event))) return { statusCode: 401, body: '{}' };
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
