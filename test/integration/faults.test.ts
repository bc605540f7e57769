import { randomUUID } from 'node:crypto';
import { ProvisionedThroughputExceededException, ThrottlingException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { FinalizeRequestMiddleware, HandlerExecutionContext, InitializeMiddleware } from '@smithy/types';
import { documentClient } from '../../lib/store/client';
import { addCustomer, getCustomer, instoreProfile, lookup, uniqueMobile } from '../support/customers';
import { codes, warningCodes, type Reply } from '../support/http';
import { registrationItems, useDemoTable } from '../support/table';
import { Entity } from '../../lib/store/keys';

// DynamoDB failing under the service (SPEC section 6: the client retries throttling and
// transaction conflicts with backoff; when it gives up, 503 with Retry-After and nothing
// written; section 3 rule 6: a request applies completely or not at all).
//
// Faults are injected into the process's document client with middleware: at
// `finalizeRequest` with low priority, i.e. inside the SDK's retry middleware, so each of the
// SDK's attempts meets the fault as it would meet DynamoDB's answer.

useDemoTable();
jest.setTimeout(120_000);

const FAULT = 'test-fault-injection';
const PEEK = 'test-fault-input-peek';
/** The SDK client's attempts per call (lib/store/client.ts: DYNAMODB_MAX_ATTEMPTS, default 5). */
const SDK_MAX_ATTEMPTS = Number(process.env.DYNAMODB_MAX_ATTEMPTS || 5);

type TransactItems = Array<Record<string, unknown>>;

interface Call {
  /** 1 for the first call of the command since the fault was injected. */
  n: number;
  /** The command's input (for TransactWriteItems: its TransactItems). */
  input: { TransactItems?: TransactItems } & Record<string, unknown>;
}

interface Injection {
  /** Calls of the command that reached the fault, SDK retries included. */
  calls(): number;
}

/**
 * Injects `fault` into every call of `commandName`: an error it returns is thrown in place of
 * DynamoDB's answer (before the request is sent, or with `afterSend` once DynamoDB has
 * answered, as when a response is lost).
 */
function inject(commandName: string, fault: (call: Call) => Error | undefined, options: { afterSend?: boolean } = {}): Injection {
  const stack = documentClient().middlewareStack;
  const inputs = new WeakMap<HandlerExecutionContext, Call['input']>();
  let calls = 0;
  const peek: InitializeMiddleware<any, any> = (next, context) => async (args) => {
    if (context.commandName === commandName) inputs.set(context, args.input);
    return next(args);
  };
  const injected: FinalizeRequestMiddleware<any, any> = (next, context) => async (args) => {
    if (context.commandName !== commandName) return next(args);
    calls += 1;
    const call: Call = { n: calls, input: inputs.get(context) ?? {} };
    if (options.afterSend) {
      const result = await next(args);
      const error = fault(call);
      if (error) throw error;
      return result;
    }
    const error = fault(call);
    if (error) throw error;
    return next(args);
  };
  stack.add(peek, { step: 'initialize', priority: 'high', name: PEEK });
  stack.add(injected, { step: 'finalizeRequest', priority: 'low', name: FAULT });
  return { calls: () => calls };
}

afterEach(() => {
  const stack = documentClient().middlewareStack;
  stack.remove(FAULT);
  stack.remove(PEEK);
});

const THROTTLING_MESSAGE = 'The level of configured provisioned throughput for the table was exceeded.';

/** A throttling error as the SDK deserialises it: HTTP 400, retryable as throttling. */
function throttling(kind: 'ProvisionedThroughputExceededException' | 'ThrottlingException'): Error {
  const options = { message: THROTTLING_MESSAGE, $metadata: { httpStatusCode: 400 } };
  const error = kind === 'ThrottlingException' ? new ThrottlingException(options) : new ProvisionedThroughputExceededException(options);
  return Object.assign(error, { $retryable: { throttling: true } });
}

/** A cancelled transaction with `code` as the reason of its first item and None for the rest. */
function cancelled(call: Call, code: 'TransactionConflict' | 'ThrottlingError'): Error {
  const items = call.input.TransactItems?.length ?? 1;
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${code}${', None'.repeat(items - 1)}]`,
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: Array.from({ length: items }, (_, i) =>
      i === 0
        ? {
            Code: code,
            Message: code === 'TransactionConflict' ? 'Transaction is ongoing for the item' : 'Throughput exceeds the current capacity',
          }
        : { Code: 'None' },
    ),
  });
}

/** What registrations wrote (customers, profiles, identifiers, idempotency records), in a stable order. */
async function written(): Promise<Record<string, unknown>[]> {
  return (await registrationItems())
    .filter((item) => item.entity !== 'rateWindow')
    .sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
}

const body = (mobile: string) => ({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
const email = () => `${randomUUID().slice(0, 12)}@example.com`;

async function ownerOf(identifierName: string, identifierValue: string): Promise<number | string> {
  const reply = await lookup({ source: 'ALL', identifierName, identifierValue });
  return reply.status === 200 ? reply.body.entity : `${reply.status}/${codes(reply).join(',')}`;
}

/** The request created exactly one customer, with the createdId it answered, owning the mobile. */
async function expectOneCustomer(reply: Reply, mobile: string, before: Record<string, unknown>[]): Promise<void> {
  expect(reply.status).toBe(200);
  expect(codes(reply)).toEqual([]);
  const after = await written();
  const added = after.filter((i) => !before.some((b) => b.pk === i.pk && b.sk === i.sk));
  expect(added.filter((i) => i.entity === Entity.customer).map((c) => c.id)).toEqual([reply.body.createdId]);
  expect(added.filter((i) => i.entity === Entity.identifier).map((i) => i.customerId)).toEqual([reply.body.createdId]);
  expect(await ownerOf('mobile', mobile)).toBe(reply.body.createdId);
  expect((await getCustomer(reply.body.createdId)).status).toBe(200);
}

function expectUnavailable(reply: Reply): void {
  expect(reply.status).toBe(503);
  expect(codes(reply)).toEqual([503]);
  expect(reply.body.errors[0]).toEqual(expect.objectContaining({ status: false, message: expect.any(String) }));
  const retryAfter = Number(reply.headers['Retry-After']);
  expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
}

describe('throttled transactions', () => {
  test.each(['ProvisionedThroughputExceededException', 'ThrottlingException'] as const)(
    'a registration whose transaction is throttled twice (%s) and then goes through answers 200 with exactly one customer',
    async (kind) => {
      const mobile = uniqueMobile();
      const before = await written();
      const injection = inject('TransactWriteItemsCommand', (call) => (call.n <= 2 ? throttling(kind) : undefined));

      const reply = await addCustomer(body(mobile));

      // The SDK retried the same transaction: two throttled attempts, then the one that wrote.
      expect(injection.calls()).toBe(3);
      await expectOneCustomer(reply, mobile, before);
    },
  );

  test('throttling that outlasts the SDK retries answers 503 with Retry-After and writes nothing', async () => {
    const mobile = uniqueMobile();
    const before = await written();
    const injection = inject('TransactWriteItemsCommand', () => throttling('ProvisionedThroughputExceededException'));

    const reply = await addCustomer(body(mobile));

    expectUnavailable(reply);
    expect(injection.calls()).toBe(SDK_MAX_ATTEMPTS);
    expect(await written()).toEqual(before);
    expect(await ownerOf('mobile', mobile)).toBe('404/8015');
  });

  test('a transaction cancelled for throttling (ThrottlingError reasons) is tried again and then answers 200', async () => {
    const mobile = uniqueMobile();
    const before = await written();
    const injection = inject('TransactWriteItemsCommand', (call) => (call.n <= 2 ? cancelled(call, 'ThrottlingError') : undefined));

    const reply = await addCustomer(body(mobile));

    expect(injection.calls()).toBe(3);
    await expectOneCustomer(reply, mobile, before);
  });

  test('a rate limit counter that stays throttled answers 503 with Retry-After, not 500, and writes nothing', async () => {
    const mobile = uniqueMobile();
    const before = await written();
    const injection = inject('UpdateItemCommand', () => throttling('ThrottlingException'));

    // Org 300 (10 a minute) reserves one request at a time, so this request must update the
    // counter; org 100 may serve it from a block reserved by an earlier test.
    const reply = await addCustomer(body(mobile), { till: 'limited' });

    expectUnavailable(reply);
    expect(injection.calls()).toBe(SDK_MAX_ATTEMPTS);
    expect(await written()).toEqual(before);
  });

  test('a read of a customer that stays throttled answers 503 with Retry-After', async () => {
    const created = await addCustomer(body(uniqueMobile()));
    expect(created.status).toBe(200);
    inject('QueryCommand', () => throttling('ProvisionedThroughputExceededException'));

    expectUnavailable(await getCustomer(created.body.createdId));
  });
});

describe('transaction conflicts', () => {
  test('a registration whose transaction is cancelled by TransactionConflict three times is retried and answers 200', async () => {
    const mobile = uniqueMobile();
    const before = await written();
    const injection = inject('TransactWriteItemsCommand', (call) => (call.n <= 3 ? cancelled(call, 'TransactionConflict') : undefined));

    const reply = await addCustomer(body(mobile));

    expect(injection.calls()).toBe(4);
    await expectOneCustomer(reply, mobile, before);
  });

  test('conflicts on every attempt end in 503 with Retry-After and nothing written', async () => {
    const mobile = uniqueMobile();
    const before = await written();
    const injection = inject('TransactWriteItemsCommand', (call) => cancelled(call, 'TransactionConflict'));

    const reply = await addCustomer(body(mobile));

    expectUnavailable(reply);
    // Tried again after the conflict (lib/registration/register.ts bounds the attempts), then gave up.
    expect(injection.calls()).toBeGreaterThan(1);
    expect(await written()).toEqual(before);
    expect(await ownerOf('mobile', mobile)).toBe('404/8015');
  });

  test('a transaction that committed but whose response was lost is retried by the SDK and answers 200 with one customer', async () => {
    const mobile = uniqueMobile();
    const before = await written();
    const injection = inject(
      'TransactWriteItemsCommand',
      (call) => (call.n === 1 ? Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} }) : undefined),
      { afterSend: true },
    );

    const reply = await addCustomer(body(mobile));

    expect(injection.calls()).toBe(2);
    await expectOneCustomer(reply, mobile, before);
  });
});

describe('merges into one customer at the same time', () => {
  const mergeBody = (source: string, mobile: string, newEmail: string) => ({
    profiles: [
      {
        source,
        firstName: 'Asha',
        identifiers: [
          { type: 'mobile', value: mobile },
          { type: 'email', value: newEmail },
        ],
      },
    ],
  });

  async function expectMergedTogether(customerId: number, sources: string[], replies: Reply[], emails: string[]): Promise<void> {
    replies.forEach((reply, i) => {
      expect({ source: sources[i], status: reply.status, codes: codes(reply) }).toEqual({ source: sources[i], status: 200, codes: [] });
      expect(reply.body.createdId).toBe(customerId);
      expect(warningCodes(reply)).toContain(8050);
    });
    const customer = await getCustomer(customerId);
    expect(customer.status).toBe(200);
    expect(customer.body.profiles.map((p: { source: string }) => p.source).sort()).toEqual(['INSTORE', ...sources].sort());
    for (const address of emails) expect(await ownerOf('email', address)).toBe(customerId);
  }

  test('two merges from different new sources both succeed with 8050 into the one customer', async () => {
    for (let round = 0; round < 5; round++) {
      const mobile = uniqueMobile();
      const created = await addCustomer(body(mobile));
      expect(created.status).toBe(200);
      const sources = ['ECOMMERCE', 'WEBSITE'];
      const emails = sources.map(() => email());

      const replies = await Promise.all(sources.map((source, i) => addCustomer(mergeBody(source, mobile, emails[i]))));

      await expectMergedTogether(created.body.createdId, sources, replies, emails);
    }
  });

  test('two merges from different new sources whose transactions collide (TransactionConflict) both succeed with 8050', async () => {
    const mobile = uniqueMobile();
    const created = await addCustomer(body(mobile));
    expect(created.status).toBe(200);
    const sources = ['MARTJACK', 'TMALL'];
    const emails = sources.map(() => email());
    // A merge's transaction starts with the re-check (an Update) of the customer's known
    // identifier; the first two of them collide as concurrent transactions on the same items do.
    let merges = 0;
    inject('TransactWriteItemsCommand', (call) => {
      if (!call.input.TransactItems?.[0]?.Update) return undefined;
      merges += 1;
      return merges <= 2 ? cancelled(call, 'TransactionConflict') : undefined;
    });

    const replies = await Promise.all(sources.map((source, i) => addCustomer(mergeBody(source, mobile, emails[i]))));

    expect(merges).toBeGreaterThanOrEqual(4);
    await expectMergedTogether(created.body.createdId, sources, replies, emails);
  });

  test('of two merges into the same new source at the same time, one succeeds with 8050 and the other is refused with 8006', async () => {
    const mobile = uniqueMobile();
    const created = await addCustomer(body(mobile));
    expect(created.status).toBe(200);
    const emails = [email(), email()];
    const before = await written();

    const replies = await Promise.all(emails.map((address) => addCustomer(mergeBody('WEBSITE', mobile, address))));

    const merged = replies.filter((r) => r.status === 200);
    const refused = replies.filter((r) => r.status === 409);
    expect(merged).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(merged[0].body.createdId).toBe(created.body.createdId);
    expect(warningCodes(merged[0])).toContain(8050);
    expect(codes(refused[0])).toEqual([8006]);
    const winner = emails[replies.indexOf(merged[0])];
    const loser = emails[replies.indexOf(refused[0])];
    expect(await ownerOf('email', winner)).toBe(created.body.createdId);
    expect(await ownerOf('email', loser)).toBe('404/8015');
    // The winner's profile and email are all that was added.
    const added = (await written()).filter((i) => !before.some((b) => b.pk === i.pk && b.sk === i.sk));
    expect(added.map((i) => i.entity).sort()).toEqual(['identifier', 'profile']);
  });
});
