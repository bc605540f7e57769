import { readFileSync } from 'node:fs';
import { DynamoDBClient, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

// DynamoDB answering from memory, below the SDK: a request handler in place of the HTTP client,
// so that a request still goes through the whole SDK (marshalling, serialising, signing,
// retries, parsing) and only the network and the database are missing.
//
// - GetItem, PutItem, BatchWriteItem, Query work on a map of items;
// - UpdateItem counts: it adds `:block` (the rate limiter's reservation) and answers
//   `Attributes: {requests: n}`, never refusing (the benchmarks stay far under org 100's limit);
// - TransactWriteItems succeeds without keeping its items, so that a benchmark can send the
//   same registration any number of times and memory stays flat.

type Item = Record<string, AttributeValue>;

interface HttpRequestLike {
  headers: Record<string, string>;
  body?: unknown;
}

export class MemoryDynamo {
  readonly items = new Map<string, Item>();
  private readonly counters = new Map<string, number>();
  requests = 0;
  /** Requests answered, by operation. */
  operations: Record<string, number> = {};

  constructor(
    items: Item[] = [],
    private readonly table = process.env.TABLE_NAME ?? '',
  ) {
    for (const item of items) this.put(this.table, item);
  }

  /** The SDK's HttpHandler interface. */
  async handle(request: HttpRequestLike): Promise<{ response: unknown }> {
    this.requests += 1;
    const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? '';
    const operation = target.split('.').pop() ?? '';
    this.operations[operation] = (this.operations[operation] ?? 0) + 1;
    const input = JSON.parse(bodyText(request.body) || '{}');
    let status = 200;
    let output: unknown;
    switch (operation) {
      case 'GetItem': {
        const item = this.items.get(keyString(input.TableName, input.Key));
        output = item ? { Item: item } : {};
        break;
      }
      case 'PutItem':
        this.put(input.TableName, input.Item);
        output = {};
        break;
      case 'BatchWriteItem':
        for (const [table, writes] of Object.entries(input.RequestItems as Record<string, { PutRequest?: { Item: Item } }[]>)) {
          for (const write of writes) if (write.PutRequest) this.put(table, write.PutRequest.Item);
        }
        output = { UnprocessedItems: {} };
        break;
      case 'UpdateItem': {
        const key = keyString(input.TableName, input.Key);
        // The rate limiter adds a block of requests (`ADD requests :block`); 1 if it names none.
        const count = (this.counters.get(key) ?? 0) + Number(input.ExpressionAttributeValues?.[':block']?.N ?? 1);
        this.counters.set(key, count);
        output = input.ReturnValues && input.ReturnValues !== 'NONE' ? { Attributes: { requests: { N: String(count) } } } : {};
        break;
      }
      case 'TransactWriteItems':
        output = {};
        break;
      case 'Query':
        output = { Items: [], Count: 0, ScannedCount: 0 };
        break;
      default:
        status = 400;
        output = { __type: 'com.amazonaws.dynamodb.v20120810#UnknownOperationException', message: `not in memory: ${operation}` };
    }
    const body = Buffer.from(JSON.stringify(output));
    return {
      response: {
        statusCode: status,
        reason: status === 200 ? 'OK' : 'Bad Request',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': String(body.length),
          'x-amzn-requestid': `memory-${this.requests}`,
        },
        body,
      },
    };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, unknown> {
    return {};
  }

  destroy(): void {}

  private put(table: string, item: Item): void {
    this.items.set(keyString(table, item), item);
  }

  /** Items for another process (see `memoryDocumentClient`). */
  toJSON(): Item[] {
    return [...this.items.values()];
  }
}

function bodyText(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  // The SDK's JSON body is a Uint8Array that warns when used as a string: read its bytes.
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  throw new Error('MemoryDynamo: streamed request bodies are not supported');
}

function keyString(table: string, key: Item): string {
  return `${table}|${key.pk?.S}|${key.sk?.S}`;
}

/**
 * A document client built as lib/store/client.ts builds its own, over a MemoryDynamo. Static
 * credentials: with none, the SDK would look for them (and for instance metadata) first.
 */
export function memoryDocumentClient(memory: MemoryDynamo = new MemoryDynamo()): DynamoDBDocumentClient {
  const base = new DynamoDBClient({
    region: process.env.AWS_REGION || 'us-east-1',
    maxAttempts: 5,
    credentials: { accessKeyId: 'memory', secretAccessKey: 'memory' },
    requestHandler: memory as never,
  });
  return DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } });
}

/** A MemoryDynamo holding the items of a JSON file written from `MemoryDynamo.toJSON()`. */
export function memoryFromFile(path: string): MemoryDynamo {
  return new MemoryDynamo(JSON.parse(readFileSync(path, 'utf8')) as Item[]);
}
