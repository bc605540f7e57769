import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';

// EventBridge and SQS clients of the real SDK whose HTTP handler answers in the process: every
// request is serialised and signed as in Lambda, counted by its operation (`x-amz-target`),
// and answered with success, so the service's own EventBridgeBus and SqsDeliveryQueue make
// exactly the calls they would make in AWS.

export interface StubCalls {
  /** HTTP requests by operation (`PutEvents`, `SendMessageBatch`). */
  calls: Record<string, number>;
  /** Entries (events, messages) by operation, counted only while `inspect` is on. */
  entries: Record<string, number>;
  /** The largest request body by operation, in bytes. */
  largestBytes: Record<string, number>;
}

export interface AwsStub {
  eventBridge: EventBridgeClient;
  sqs: SQSClient;
  /** Whether to read each request's entries (a counting pass) or only count requests (a timed pass). */
  inspect: boolean;
  counts(): StubCalls;
  reset(): void;
}

interface StubRequest {
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

const text = (body: StubRequest['body']) => (typeof body === 'string' ? body : new TextDecoder().decode(body ?? new Uint8Array()));

function reply(body: unknown, contentType: string) {
  return {
    response: {
      statusCode: 200,
      headers: { 'content-type': contentType },
      body: Readable.from([Buffer.from(JSON.stringify(body))]),
    },
  };
}

export function awsStub(): AwsStub {
  let counts: StubCalls = { calls: {}, entries: {}, largestBytes: {} };
  const stub: AwsStub = {
    inspect: false,
    counts: () => structuredClone(counts),
    reset: () => {
      counts = { calls: {}, entries: {}, largestBytes: {} };
    },
    eventBridge: undefined as never,
    sqs: undefined as never,
  };
  const count = (request: StubRequest): { operation: string; input: () => { Entries?: { MessageBody?: string }[] } } => {
    const operation = (request.headers['x-amz-target'] ?? 'Unknown').split('.').pop()!;
    counts.calls[operation] = (counts.calls[operation] ?? 0) + 1;
    const bytes = typeof request.body === 'string' ? Buffer.byteLength(request.body) : (request.body?.byteLength ?? 0);
    counts.largestBytes[operation] = Math.max(counts.largestBytes[operation] ?? 0, bytes);
    let parsed: { Entries?: { MessageBody?: string }[] } | undefined;
    const input = () => (parsed ??= JSON.parse(text(request.body)) as { Entries?: { MessageBody?: string }[] });
    if (stub.inspect) counts.entries[operation] = (counts.entries[operation] ?? 0) + (input().Entries?.length ?? 0);
    return { operation, input };
  };
  const handler = (answer: (request: ReturnType<typeof count>) => unknown, contentType: string) => ({
    handle: async (request: StubRequest) => reply(answer(count(request)), contentType),
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  });
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  stub.eventBridge = new EventBridgeClient({
    region: 'us-east-1',
    credentials,
    requestHandler: handler(() => ({ FailedEntryCount: 0, Entries: [] }), 'application/x-amz-json-1.1') as never,
  });
  // The SDK checks the MD5 of every message body SQS says it received: answer them.
  stub.sqs = new SQSClient({
    region: 'us-east-1',
    credentials,
    requestHandler: handler(
      (request) => ({
        Successful: (request.input().Entries ?? []).map((entry, index) => ({
          Id: String(index),
          MessageId: `bench-${index}`,
          MD5OfMessageBody: createHash('md5')
            .update(entry.MessageBody ?? '')
            .digest('hex'),
        })),
        Failed: [],
      }),
      'application/x-amz-json-1.0',
    ) as never,
  });
  return stub;
}
