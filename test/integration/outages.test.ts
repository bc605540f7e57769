import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { handler as addHandler } from '../../handlers/addCustomer';
import { handler as getHandler } from '../../handlers/getCustomer';
import { handler as lookupHandler } from '../../handlers/lookupCustomer';
import { ANSWER_MARGIN_MS } from '../../lib/deadline';
import { Entity, keys } from '../../lib/store/keys';
import { localClient } from '../../scripts/table';
import { instoreProfile, uniqueMobile } from '../support/customers';
import { apiEvent, codes, type EventOptions, type Reply } from '../support/http';
import { expectDocumented } from '../support/contract';
import { DynamoProxy } from '../support/proxy';
import { useDemoTable } from '../support/table';

// DynamoDB failing under the service at the network level (SPEC sections 4 and 6: when the
// table stays unavailable the answer is 503 with Retry-After, never 500; section 3 rule 6: a
// request applies completely or not at all), through a TCP proxy in front of DynamoDB Local.
// The service's client talks to the proxy; the table is inspected directly, past the proxy.

const table = useDemoTable();
jest.setTimeout(30_000);

/** What the Lambda context says is left: the request's deadline is this less ANSWER_MARGIN_MS. */
const REMAINING_MS = 4000;
/** Settings of the client the service builds for the proxy's endpoint (read at its creation). */
const FAST_CLIENT = { DYNAMODB_REQUEST_TIMEOUT_MS: '300', DYNAMODB_CONNECT_TIMEOUT_MS: '200', DYNAMODB_MAX_ATTEMPTS: '3' };
const ENV_NAMES = ['DYNAMODB_ENDPOINT', ...Object.keys(FAST_CLIENT)] as const;

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<{ statusCode: number; headers?: unknown; body?: string }>;

async function invoke(handler: Handler, event: APIGatewayProxyEvent): Promise<Reply> {
  const context = { awsRequestId: randomUUID(), functionName: 'test', getRemainingTimeInMillis: () => REMAINING_MS } as unknown as Context;
  const result = await handler(event, context);
  const reply: Reply = {
    status: result.statusCode,
    headers: (result.headers ?? {}) as Record<string, string>,
    body: result.body ? JSON.parse(result.body) : undefined,
  };
  expectDocumented(event.httpMethod, event.path, reply);
  return reply;
}

const add = (body: unknown, options?: EventOptions) => invoke(addHandler as never, apiEvent('POST', '/v2/customers', body, options));
const get = (id: number | string, options?: EventOptions) =>
  invoke(getHandler as never, apiEvent('GET', `/v2/customers/${id}`, undefined, { ...options, pathParameters: { id: String(id) } }));
const find = (mobile: string, options?: EventOptions) =>
  invoke(
    lookupHandler as never,
    apiEvent('GET', '/v2/customers/lookup', undefined, {
      ...options,
      query: { source: 'ALL', identifierName: 'mobile', identifierValue: mobile },
    }),
  );

const body = (mobile: string, email?: string) => ({
  profiles: [instoreProfile([{ type: 'mobile', value: mobile }, ...(email ? [{ type: 'email', value: email }] : [])])],
});

let realEndpoint = '';
const savedEnv: Partial<Record<string, string>> = {};

/** Every item of the file's table, read from DynamoDB Local itself (not through the proxy). */
async function items(): Promise<Record<string, unknown>[]> {
  const client = localClient(realEndpoint);
  try {
    const found: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, never> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: table.name(), ExclusiveStartKey, ConsistentRead: true }));
      found.push(...(page.Items ?? []).map((i) => unmarshall(i)));
      ExclusiveStartKey = page.LastEvaluatedKey as Record<string, never> | undefined;
    } while (ExclusiveStartKey);
    return found;
  } finally {
    client.destroy();
  }
}

/** What registrations wrote (customers, profiles, identifiers, idempotency records), in a stable order. */
async function written(): Promise<Record<string, unknown>[]> {
  return (await items())
    .filter((i) => ![Entity.org, Entity.till, Entity.rateWindow].includes(i.entity as never))
    .sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
}

/** Ids of the org's customer items one of whose profiles has this (national) mobile. */
async function customersHolding(mobile: string, orgId = 100): Promise<number[]> {
  return (await items())
    .filter((i) => i.entity === Entity.customer && i.orgId === orgId)
    .filter((c) =>
      (c.profiles as { identifiers: { type: string; value: string }[] }[]).some((p) =>
        p.identifiers.some((id) => id.type === 'mobile' && id.value === `91${mobile}`),
      ),
    )
    .map((c) => c.id as number);
}

/** The identifier item of a value, read directly. */
async function identifierItem(orgId: number, type: string, value: string): Promise<Record<string, unknown> | undefined> {
  const key = keys.identifier(orgId, type, value);
  return (await items()).find((i) => i.pk === key.pk && i.sk === key.sk);
}

function expectUnavailable(reply: Reply): void {
  expect(reply.status).toBe(503);
  expect(codes(reply)).toEqual([503]);
  expect(reply.body.errors[0]).toEqual(expect.objectContaining({ status: false, message: expect.any(String) }));
  const retryAfter = Number(reply.headers['Retry-After']);
  expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
}

const messageOf = (reply: Reply): string => reply.body?.errors?.[0]?.message ?? '';

/** Polls `check` until it holds or `ms` have passed (for writes a proxy delivers late). */
async function eventually(check: () => Promise<boolean>, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check()) && Date.now() < until) await sleep(50);
}

/**
 * An answer that may come before the table applied what it was sent: once the table had time to
 * apply it, either no customer holds the mobile and the answer does not say one may have been
 * created, or exactly one does and the answer names that very customer.
 */
async function expectTruthfulUnknown(reply: Reply, mobile: string, settleMs: number): Promise<number | undefined> {
  await eventually(async () => (await customersHolding(mobile)).length > 0, settleMs);
  const holders = await customersHolding(mobile);
  expect(holders.length).toBeLessThanOrEqual(1);
  if (holders.length === 0) expect(messageOf(reply)).not.toMatch(/may have been/);
  else expect(messageOf(reply)).toContain(`customer ${holders[0]} may have been created`);
  return holders[0];
}

describe('DynamoDB failing on the network', () => {
  let proxy: DynamoProxy;

  beforeAll(async () => {
    // useDemoTable's beforeAll has created and loaded the table on the real endpoint by now.
    realEndpoint = process.env.DYNAMODB_ENDPOINT!;
    for (const name of ENV_NAMES) savedEnv[name] = process.env[name];
    proxy = await DynamoProxy.start(realEndpoint);
    Object.assign(process.env, FAST_CLIENT);
    process.env.DYNAMODB_ENDPOINT = proxy.endpoint;
  });

  afterEach(async () => {
    await proxy.restore();
  });

  afterAll(async () => {
    await proxy?.close();
    // useDemoTable's afterAll drops the table through the real endpoint.
    for (const name of ENV_NAMES) {
      if (savedEnv[name] === undefined) delete process.env[name];
      else process.env[name] = savedEnv[name];
    }
  });

  test('an unreachable table answers 503 with Retry-After to registration, read and lookup, cached credentials or not, and nothing is written', async () => {
    // The demo till's credentials and org get cached; store2 (org 100) and other (org 200) are first used below.
    const existing = await add(body(uniqueMobile()));
    expect(existing.status).toBe(200);
    const before = await written();
    const mobile = uniqueMobile();

    proxy.refuse();
    const replies: Record<string, Reply> = {};
    for (const till of ['demo', 'store2', 'other'] as const) {
      replies[`POST ${till}`] = await add(body(mobile), { till });
      replies[`GET ${till}`] = await get(existing.body.createdId, { till });
      replies[`lookup ${till}`] = await find(mobile, { till });
    }
    await proxy.restore();

    for (const [request, reply] of Object.entries(replies)) {
      expect({ request, status: reply.status }).toEqual({ request, status: 503 });
      expectUnavailable(reply);
      expect(messageOf(reply)).not.toMatch(/may have been/);
    }
    expect(await written()).toEqual(before);
    expect(await customersHolding(mobile)).toEqual([]);
    // Once the table is back, the same requests go through.
    expect((await find(mobile, { till: 'store2' })).status).toBe(404);
    expect((await get(existing.body.createdId, { till: 'store2' })).status).toBe(200);
  });

  test('a table that stalls longer than the deadline during a registration answers 503 saying what may have happened, and a retry with the same Idempotency-Key converges on one customer', async () => {
    const mobile = uniqueMobile();
    const options = { headers: { 'Idempotency-Key': randomUUID() } };
    const before = await customersHolding(mobile);
    expect(before).toEqual([]);

    // DynamoDB stops as the registration's transaction reaches it.
    proxy.pauseOn('TransactWriteItems');
    const first = await add(body(mobile), options);
    expect(proxy.requests('TransactWriteItems')).toBeGreaterThanOrEqual(1);
    proxy.resume();

    expectUnavailable(first);
    // What was held is delivered now: DynamoDB may apply it.
    const applied = await expectTruthfulUnknown(first, mobile, 1500);

    const retry = await add(body(mobile), options);
    expect(retry.status).toBe(200);
    expect(codes(retry)).toEqual([]);
    if (applied !== undefined) {
      expect(retry.body.createdId).toBe(applied);
      expect(retry.headers['Idempotent-Replayed']).toBe('true');
    }
    expect(await customersHolding(mobile)).toEqual([retry.body.createdId]);
    expect((await identifierItem(100, 'mobile', `91${mobile}`))?.customerId).toBe(retry.body.createdId);
    // A third send replays too.
    const again = await add(body(mobile), options);
    expect({ status: again.status, createdId: again.body.createdId, replayed: again.headers['Idempotent-Replayed'] }).toEqual({
      status: 200,
      createdId: retry.body.createdId,
      replayed: 'true',
    });
  });

  test('a registration whose commit answer is lost is re-sent with the same token and answers 200 with the one customer it wrote', async () => {
    const mobile = uniqueMobile();
    const email = `${randomUUID().slice(0, 12)}@example.com`;
    const before = await written();
    const transactionsBefore = proxy.requests('TransactWriteItems');

    proxy.dropResponses({ operation: 'TransactWriteItems', times: 1 });
    const reply = await add(body(mobile, email));

    expect(reply.status).toBe(200);
    expect(codes(reply)).toEqual([]);
    // The lost answer made the client send the transaction again.
    expect(proxy.requests('TransactWriteItems') - transactionsBefore).toBeGreaterThanOrEqual(2);
    const added = (await written()).filter((i) => !before.some((b) => b.pk === i.pk && b.sk === i.sk));
    expect(added.filter((i) => i.entity === Entity.customer).map((c) => c.id)).toEqual([reply.body.createdId]);
    expect(added.filter((i) => i.entity === Entity.identifier).map((i) => [i.pk, i.customerId])).toEqual(
      expect.arrayContaining([
        [keys.identifier(100, 'mobile', `91${mobile}`).pk, reply.body.createdId],
        [keys.identifier(100, 'email', email).pk, reply.body.createdId],
      ]),
    );
    expect(added.filter((i) => i.entity === Entity.identifier)).toHaveLength(2);
    expect(await customersHolding(mobile)).toEqual([reply.body.createdId]);
    expect((await find(mobile)).body.entity).toBe(reply.body.createdId);
  });

  test('a rate reservation whose answer is lost counts once: org 300 admits exactly 10 registrations in its minute', async () => {
    // All of it within one minute window.
    if (60_000 - (Date.now() % 60_000) < 10_000) await sleep(60_000 - (Date.now() % 60_000) + 50);
    const windowStart = Math.floor(Date.now() / 60_000) * 60_000;
    const options = { till: 'limited' as const };
    const updatesBefore = proxy.requests('UpdateItem');

    proxy.dropResponses({ operation: 'UpdateItem', times: 1 });
    const first = await add(body(uniqueMobile()), options);
    expect(first.status).toBe(200);
    // The counter's update reached DynamoDB, its answer was lost, and the SDK sent it again.
    expect(proxy.requests('UpdateItem') - updatesBefore).toBe(2);

    const statuses = [first.status];
    for (let i = 0; i < 11; i++) statuses.push((await add(body(uniqueMobile()), options)).status);
    expect(Math.floor(Date.now() / 60_000) * 60_000).toBe(windowStart);

    expect(statuses).toEqual([...Array(10).fill(200), 429, 429]);
    const window = (await items()).find(
      (i) => i.pk === keys.rateWindow(300, windowStart).pk && i.sk === keys.rateWindow(300, windowStart).sk,
    );
    expect(window).toEqual(expect.objectContaining({ entity: Entity.rateWindow, requests: 10 }));
    expect((await items()).filter((i) => i.entity === Entity.customer && i.orgId === 300)).toHaveLength(10);
  });

  test('a table slower than the deadline on every request answers 503 before the function runs out of time, truthful about what may have been written', async () => {
    // A client whose own attempts would outlast the function by far: only the request's deadline ends them.
    const slow = await DynamoProxy.start(realEndpoint);
    const delayMs = REMAINING_MS - ANSWER_MARGIN_MS + 1000;
    try {
      process.env.DYNAMODB_ENDPOINT = slow.endpoint;
      process.env.DYNAMODB_REQUEST_TIMEOUT_MS = '20000';
      process.env.DYNAMODB_MAX_ATTEMPTS = '5';
      slow.delay(delayMs);
      const mobile = uniqueMobile();
      const before = await written();

      const started = Date.now();
      const reply = await add(body(mobile));
      const elapsed = Date.now() - started;

      expectUnavailable(reply);
      expect(elapsed).toBeLessThan(REMAINING_MS);
      expect(slow.requests()).toBeGreaterThanOrEqual(1);
      // Let the delayed requests reach DynamoDB before looking.
      await sleep(Math.max(0, started + delayMs - Date.now()));
      const created = await expectTruthfulUnknown(reply, mobile, 1500);
      const added = (await written()).filter((i) => !before.some((b) => b.pk === i.pk && b.sk === i.sk));
      if (created === undefined) expect(added).toEqual([]);
      else expect(added.filter((i) => i.entity === Entity.customer).map((c) => c.id)).toEqual([created]);
    } finally {
      Object.assign(process.env, FAST_CLIENT, { DYNAMODB_ENDPOINT: proxy.endpoint });
      await slow.close();
    }
  });
});
