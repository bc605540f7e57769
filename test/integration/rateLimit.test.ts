import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { ApiError } from '../../lib/errors';
import type { OrgConfig } from '../../lib/org';
import { RateLimiter, takeRequest } from '../../lib/rateLimit';
import { documentClient, useDocumentClient } from '../../lib/store/client';
import { getOrgConfig } from '../../lib/store/orgs';
import { addCustomer, instoreProfile, uniqueMobile } from '../support/customers';
import { codes, type Reply, TILLS } from '../support/http';
import { allItems, registrationItems, useDemoTable } from '../support/table';
import { Entity, keys } from '../../lib/store/keys';

// The per-org limit on POST /v2/customers (SPEC section 6, 429 in section 4): a fixed
// one-minute window counted in DynamoDB, the org's override (org 100: 100000, org 300: 10)
// or else the stage default (RATE_LIMIT_PER_MINUTE); over the limit 429 with Retry-After and
// X-RateLimit-*, nothing written.
//
// Each test runs in minute windows of its own: Date.now is pinned (and keeps ticking) from
// 5 s into a fresh minute, so no test shares a window with another or straddles a minute
// boundary. Only Date.now moves; timers are real, so the SDK's retries and backoff are
// untouched, and DynamoDB Local ignores the request signature's date.

// Org 200 has no override: it gets the stage default, which this variable sets. Read on use,
// so setting it before any request is enough.
const STAGE_DEFAULT = 3;
process.env.RATE_LIMIT_PER_MINUTE = String(STAGE_DEFAULT);

useDemoTable();
jest.setTimeout(120_000);

const WINDOW_MS = 60_000;
const realNow = Date.now;
let windowsUsed = 0;

/** Pins the clock to `at`, advancing in real time from there. */
function pinClock(at: number): void {
  const pinnedAt = realNow();
  jest.spyOn(Date, 'now').mockImplementation(() => at + (realNow() - pinnedAt));
}

/**
 * Moves the test into a minute window no other test uses, the next one being its own too;
 * returns the window's start.
 */
function ownWindow(): number {
  windowsUsed += 2;
  const windowStart = (Math.floor(realNow() / WINDOW_MS) + windowsUsed) * WINDOW_MS;
  pinClock(windowStart + 5_000);
  return windowStart;
}

afterEach(() => {
  jest.restoreAllMocks();
});

type Till = keyof typeof TILLS;

function register(till: Till, mobile = uniqueMobile(), headers: Record<string, string> = {}): Promise<Reply> {
  return addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] }, { till, headers });
}

/** Registration items (customers, profiles, identifiers, idempotency records): not the rate counters. */
async function written(): Promise<Record<string, unknown>[]> {
  return (await registrationItems())
    .filter((item) => item.entity !== 'rateWindow')
    .sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
}

/** Epoch seconds at which the window starting at `windowStart` ends. */
const resetOf = (windowStart: number) => String((windowStart + WINDOW_MS) / 1000);

function expectRateHeaders(reply: Reply, limit: number, remaining: number, windowStart: number): void {
  expect(reply.headers['X-RateLimit-Limit']).toBe(String(limit));
  expect(reply.headers['X-RateLimit-Remaining']).toBe(String(remaining));
  expect(reply.headers['X-RateLimit-Reset']).toBe(resetOf(windowStart));
}

function expectTooManyRequests(reply: Reply, limit: number, windowStart: number): void {
  expect(reply.status).toBe(429);
  expect(codes(reply)).toEqual([429]);
  expect(reply.body.errors[0]).toEqual(expect.objectContaining({ status: false, message: expect.any(String) }));
  expectRateHeaders(reply, limit, 0, windowStart);
  const retryAfter = Number(reply.headers['Retry-After']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

/** Sends requests for the till one at a time until one is refused; returns the accepted count. */
async function exhaust(till: Till, atMost: number): Promise<number> {
  for (let accepted = 0; accepted <= atMost; accepted++) {
    const reply = await register(till);
    if (reply.status === 429) return accepted;
    expect(reply.status).toBe(200);
  }
  throw new Error(`${till} was never refused within ${atMost + 1} requests`);
}

describe('the per-org limit on POST /v2/customers', () => {
  test('of 30 requests arriving at once, org 300 admits exactly its 10 and refuses the other 20 with 429', async () => {
    const windowStart = ownWindow();
    const before = await written();
    const mobiles = Array.from({ length: 30 }, () => uniqueMobile());

    const replies = await Promise.all(mobiles.map((mobile) => register('limited', mobile)));

    const accepted = replies.filter((r) => r.status === 200);
    const refused = replies.filter((r) => r.status === 429);
    expect(accepted).toHaveLength(10);
    expect(refused).toHaveLength(20);
    // Every admitted request saw its own place in the window: 9 left, 8 left, ... 0 left.
    const remaining = accepted.map((r) => Number(r.headers['X-RateLimit-Remaining'])).sort((a, b) => a - b);
    expect(remaining).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const reply of accepted) {
      expect(reply.headers['X-RateLimit-Limit']).toBe('10');
      expect(reply.headers['X-RateLimit-Reset']).toBe(resetOf(windowStart));
    }
    for (const reply of refused) expectTooManyRequests(reply, 10, windowStart);

    // Exactly the admitted requests wrote their customer; the refused ones wrote nothing.
    const after = await written();
    const newCustomers = after.filter((i) => i.entity === Entity.customer && !before.some((b) => b.pk === i.pk));
    expect(newCustomers.map((c) => c.id).sort()).toEqual(accepted.map((r) => r.body.createdId).sort());
    mobiles.forEach((mobile, index) => {
      const stored = after.some((i) => i.entity === Entity.identifier && i.pk === keys.identifier(300, 'mobile', `91${mobile}`).pk);
      expect({ mobile, stored }).toEqual({ mobile, stored: replies[index].status === 200 });
    });
  });

  test('a refused request writes nothing, even when it carries an Idempotency-Key, and the key stays free for the next window', async () => {
    const windowStart = ownWindow();
    expect(await exhaust('limited', 10)).toBe(10);
    const before = await written();
    const key = randomUUID();
    const mobile = uniqueMobile();

    const refused = await register('limited', mobile, { 'Idempotency-Key': key });
    expectTooManyRequests(refused, 10, windowStart);
    expect(await written()).toEqual(before);

    pinClock(windowStart + WINDOW_MS + 1_000);
    const admitted = await register('limited', mobile, { 'Idempotency-Key': key });
    expect(admitted.status).toBe(200);
    expect(admitted.headers['Idempotent-Replayed']).toBeUndefined();
    expectRateHeaders(admitted, 10, 9, windowStart + WINDOW_MS);
  });

  test('successful responses carry X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset', async () => {
    const windowStart = ownWindow();
    const first = await register('demo');
    expect(first.status).toBe(200);
    expectRateHeaders(first, 100000, 99999, windowStart);
    const second = await register('store2');
    expect(second.status).toBe(200);
    // Both tills of org 100 count against the one org limit.
    expectRateHeaders(second, 100000, 99998, windowStart);

    const limited = await register('limited');
    expect(limited.status).toBe(200);
    expectRateHeaders(limited, 10, 9, windowStart);
  });

  test('a new minute opens a new window: the exhausted org is admitted again', async () => {
    const windowStart = ownWindow();
    expect(await exhaust('limited', 10)).toBe(10);
    const org = (await getOrgConfig(300))!;
    expect(org).toBeDefined();

    // The last millisecond of the window is still over the limit.
    const stillOver = takeRequest(org, windowStart + WINDOW_MS - 1);
    await expect(stillOver).rejects.toBeInstanceOf(ApiError);
    await expect(stillOver).rejects.toMatchObject({ status: 429 });

    // The first millisecond of the next one is not.
    const next = await takeRequest(org, windowStart + WINDOW_MS);
    expect(next).toMatchObject({ limit: 10, remaining: 9, reset: (windowStart + 2 * WINDOW_MS) / 1000 });
    expect(next.headers).toEqual({
      'X-RateLimit-Limit': '10',
      'X-RateLimit-Remaining': '9',
      'X-RateLimit-Reset': resetOf(windowStart + WINDOW_MS),
    });

    // Through the handler, in the next minute: admitted, and counted in the same new window.
    pinClock(windowStart + WINDOW_MS + 2_000);
    const reply = await register('limited');
    expect(reply.status).toBe(200);
    expectRateHeaders(reply, 10, 8, windowStart + WINDOW_MS);
  });

  test('limits are per org: org 300 at its limit does not hold back org 100 or org 200', async () => {
    const windowStart = ownWindow();
    expect(await exhaust('limited', 10)).toBe(10);

    const demo = await register('demo');
    expect(demo.status).toBe(200);
    expectRateHeaders(demo, 100000, 99999, windowStart);
    const other = await register('other');
    expect(other.status).toBe(200);
    expectRateHeaders(other, STAGE_DEFAULT, STAGE_DEFAULT - 1, windowStart);

    // ...and their requests do not give org 300 any room back.
    expectTooManyRequests(await register('limited'), 10, windowStart);
  });

  test('an org without an override gets the stage default (RATE_LIMIT_PER_MINUTE)', async () => {
    const windowStart = ownWindow();
    const before = await written();
    const replies = await Promise.all(Array.from({ length: STAGE_DEFAULT + 4 }, () => register('other')));

    const accepted = replies.filter((r) => r.status === 200);
    expect(accepted).toHaveLength(STAGE_DEFAULT);
    for (const reply of accepted) expect(reply.headers['X-RateLimit-Limit']).toBe(String(STAGE_DEFAULT));
    const refused = replies.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(4);
    for (const reply of refused) expectTooManyRequests(reply, STAGE_DEFAULT, windowStart);
    expect((await written()).filter((i) => i.entity === Entity.customer)).toHaveLength(
      before.filter((i) => i.entity === Entity.customer).length + STAGE_DEFAULT,
    );

    // Orgs with an override keep it whatever the stage default is.
    expectRateHeaders(await register('demo'), 100000, 99999, windowStart);
    expectRateHeaders(await register('limited'), 10, 9, windowStart);
  });
});

describe("many Lambda instances sharing one org's minute", () => {
  // Each RateLimiter is one instance's state (its reservations and its attribute in the window
  // item), as a Lambda instance has; here several share the table from one process. The org is
  // a configuration of its own: only its id and limit matter to the limiter. The requests carry
  // their time, so Date.now is left alone (a clock minutes off DynamoDB Local's makes the SDK
  // correct for skew and retry failed conditions, which spends its retry quota).
  let orgs = 0;
  const nextWindow = () => (Math.floor(realNow() / WINDOW_MS) + 1) * WINDOW_MS;
  const orgOf = (limit: number): OrgConfig => ({ orgId: 930_000 + ++orgs, rateLimitPerMinute: limit }) as OrgConfig;
  const instances = (n: number) => Array.from({ length: n }, () => new RateLimiter());

  async function counted(org: OrgConfig, windowStart: number): Promise<number> {
    const key = keys.rateWindow(org.orgId, windowStart);
    const window = (await allItems()).find((i) => i.pk === key.pk && i.sk === key.sk);
    return Number(window?.requests ?? 0);
  }

  /** Asks the instance at `at` until it refuses; what it admitted. Every refusal must be a 429 with the rate headers. */
  async function drain(limiter: RateLimiter, org: OrgConfig, at: number): Promise<number> {
    for (let admitted = 0; ; admitted++) {
      try {
        await limiter.takeRequest(org, at);
      } catch (error) {
        expect(error).toBeInstanceOf(ApiError);
        expect((error as ApiError).status).toBe(429);
        return admitted;
      }
    }
  }

  /**
   * Sends `requests` spread over the minute to the instances at once (instance i % n, times in
   * order), each instance serving one at a time as a Lambda instance does; what they admitted,
   * and then what they admitted more when each was asked until it refused (the reservations they
   * held unused).
   */
  async function shareMinute(limiters: RateLimiter[], org: OrgConfig, windowStart: number, requests: number) {
    const serving = limiters.map((): Promise<unknown> => Promise.resolve());
    const outcomes = await Promise.all(
      Array.from({ length: requests }, (_, i) => {
        const instance = (i * 7) % limiters.length;
        const outcome = serving[instance].then(() =>
          limiters[instance].takeRequest(org, windowStart + Math.floor((i * 59_000) / requests)).then(
            (decision) => ({ admitted: true, decision }),
            (error: ApiError) => {
              expect(error.status).toBe(429);
              expect(error.headers?.['Retry-After']).toEqual(expect.any(String));
              return { admitted: false, decision: undefined };
            },
          ),
        );
        serving[instance] = outcome;
        return outcome;
      }),
    );
    const admitted = outcomes.filter((o) => o.admitted).length;
    let drained = 0;
    for (const limiter of limiters) drained += await drain(limiter, org, windowStart + 59_999);
    return { admitted, drained };
  }

  test('twenty instances asked 1.5 times the limit admit exactly the limit between them, and the window counts every one', async () => {
    const windowStart = nextWindow();
    const org = orgOf(1000);

    const { admitted, drained } = await shareMinute(instances(20), org, windowStart, 1500);

    expect(admitted).toBeLessThanOrEqual(1000);
    // Once every instance has served what it reserved and been refused, the minute is handed out exactly.
    expect(admitted + drained).toBe(1000);
    expect(await counted(org, windowStart)).toBe(1000);
  });

  test('reservations whose answers are lost count once, while twenty instances re-send theirs at the same time', async () => {
    const windowStart = nextWindow();
    const org = orgOf(400);
    // A client of its own, with the SDK's retry quota whole (earlier tests' retries spend the
    // process client's): the re-sends are what this test is about.
    const shared = documentClient();
    const client = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: 'us-east-1',
        endpoint: process.env.DYNAMODB_ENDPOINT,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 5,
      }),
    );
    // Inside the SDK's retries: the update reaches DynamoDB and is applied, its answer is lost, the SDK sends it again.
    let updates = 0;
    let lost = 0;
    const loseAnswers: FinalizeRequestMiddleware<object, object> = (next, context) => async (args) => {
      if (context.commandName !== 'UpdateItemCommand') return next(args);
      const result = await next(args);
      updates += 1;
      if (updates % 4 === 0 && lost < 10) {
        lost += 1;
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
      }
      return result;
    };
    client.middlewareStack.add(loseAnswers as never, { step: 'finalizeRequest', priority: 'low', name: 'test-lose-rate-answers' });
    useDocumentClient(client);
    try {
      const { admitted, drained } = await shareMinute(instances(20), org, windowStart, 600);

      expect(lost).toBe(10);
      expect(admitted).toBeLessThanOrEqual(400);
      // A re-send counted twice, or one taken for not applied, would leave the count above what the instances admitted.
      expect(admitted + drained).toBe(400);
      expect(await counted(org, windowStart)).toBe(400);
    } finally {
      useDocumentClient(shared);
      client.destroy();
    }
  });

  test('an instance serving steadily through its minute holds nothing unused when the minute ends', async () => {
    const windowStart = nextWindow();
    // Blocks of up to 1000 (1% of the limit); 1100 requests at an even pace.
    const org = orgOf(100_000);
    const limiter = new RateLimiter();
    for (let i = 0; i < 1100; i++) await limiter.takeRequest(org, windowStart + Math.floor(((i + 0.5) * 60_000) / 1100));

    // Doubling alone would have reserved 1 + 1 + 2 + ... + 512 + 1000 = 2024, and 924 of them would be
    // lost with the minute: requests other instances of the org would have had to refuse.
    expect(await counted(org, windowStart)).toBe(1100);
  });
});

describe('one instance serving many requests of an org at once', () => {
  // In process (serverless offline, a bulk add's items, these tests) one limiter serves
  // concurrent requests: those that arrive while a reservation is in flight are reserved together.
  let orgs = 0;
  const orgOf = (limit: number): OrgConfig => ({ orgId: 940_000 + ++orgs, rateLimitPerMinute: limit }) as OrgConfig;
  const nextWindow = () => (Math.floor(realNow() / WINDOW_MS) + 1) * WINDOW_MS;

  /** Counts the window updates the process's client sends while `work` runs. */
  async function countingUpdates<T>(work: () => Promise<T>): Promise<{ result: T; updates: number }> {
    let updates = 0;
    const count: FinalizeRequestMiddleware<object, object> = (next, context) => async (args) => {
      if (context.commandName === 'UpdateItemCommand') updates += 1;
      return next(args);
    };
    documentClient().middlewareStack.add(count as never, { step: 'finalizeRequest', priority: 'low', name: 'test-count-updates' });
    try {
      return { result: await work(), updates };
    } finally {
      documentClient().middlewareStack.remove('test-count-updates');
    }
  }

  test.each([10, 600, 100_000])(
    'forty requests arriving at once (limit %i a minute) cost two reservations between them (three when fewer are left than asked), not one each',
    async (limit) => {
      const org = orgOf(limit);
      const at = nextWindow() + 1_000;
      const limiter = new RateLimiter();

      const { result, updates } = await countingUpdates(() =>
        Promise.all(
          Array.from({ length: 40 }, () =>
            limiter.takeRequest(org, at).then(
              (decision) => decision.remaining,
              () => 'refused',
            ),
          ),
        ),
      );

      const admitted = result.filter((r) => r !== 'refused');
      expect(admitted).toHaveLength(Math.min(40, limit));
      // Each admitted request has its own place in the minute.
      expect(new Set(admitted).size).toBe(admitted.length);
      // The first request's block of one, then one for the other 39 (and, when fewer are left, one for what is left).
      expect(updates).toBeLessThanOrEqual(limit < 40 ? 3 : 2);
    },
  );
});
