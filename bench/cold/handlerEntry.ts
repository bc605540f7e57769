// Cold start of the real handler: this bundle is the addCustomer handler plus a DynamoDB that
// answers from memory (holding org 100 and its tills, as loaded into a table). The first
// request authenticates (scrypt), reads the till and the org, counts the request and writes
// the customer, as on a real cold start, with no network.
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { handler } from '../../handlers/addCustomer';
import { useDocumentClient } from '../../lib/store/client';
import { memoryDocumentClient, memoryFromFile } from '../support/memoryDynamo';

export async function firstRequest(event: APIGatewayProxyEvent, context: Context) {
  useDocumentClient(memoryDocumentClient(memoryFromFile(process.env.BENCH_MEMORY_ITEMS!)));
  return handler(event, context);
}
