import { randomUUID } from 'node:crypto';
import { documentClient } from '../../lib/store/client';
import { addCustomer, getCustomer, instoreProfile, lookup, uniqueMobile } from '../support/customers';
import { codes, warningCodes, type EventOptions, type Reply } from '../support/http';
import { registrationItems, useDemoTable } from '../support/table';
import { Entity } from '../../lib/store/keys';

// `Idempotency-Key` on POST /v2/customers (SPEC section 6, 422 in section 4): 1 to 128
// characters, scoped to the org; a repeat within 24 hours returns the first response (status
// and body) with `Idempotent-Replayed: true` and writes nothing; the same key with a different
// body is 422. A request refused by the identity rules (409) is recorded too; one refused by
// validation (400) writes nothing, so its key stays free for a corrected retry.

useDemoTable();
jest.setTimeout(120_000);

afterEach(() => {
  jest.restoreAllMocks();
});

/** What registrations wrote (customers, profiles, identifiers, idempotency records), in a stable order; not the rate counters. */
async function written(): Promise<Record<string, unknown>[]> {
  return (await registrationItems())
    .filter((item) => item.entity !== 'rateWindow')
    .sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
}

async function customerCount(): Promise<number> {
  return (await written()).filter((i) => i.entity === Entity.customer).length;
}

const newKey = () => `key-${randomUUID()}`;
const mobileIdentifier = (mobile = uniqueMobile()) => ({ type: 'mobile', value: mobile });
const body = (mobile = uniqueMobile()) => ({ profiles: [instoreProfile([mobileIdentifier(mobile)])] });

function withKey(key: string, options: EventOptions = {}): EventOptions {
  return { ...options, headers: { ...options.headers, 'Idempotency-Key': key } };
}

function expectFirst(reply: Reply): void {
  expect(reply.status).toBe(200);
  expect(reply.headers['Idempotent-Replayed']).toBeUndefined();
}

function expectReplayOf(reply: Reply, first: Reply): void {
  expect(reply.status).toBe(first.status);
  expect(reply.body).toEqual(first.body);
  expect(reply.headers['Idempotent-Replayed']).toBe('true');
}

describe('a repeat with the same Idempotency-Key', () => {
  test('within 24 hours gets the first status and body with Idempotent-Replayed: true and writes nothing', async () => {
    const key = newKey();
    const request = body();
    const first = await addCustomer(request, withKey(key));
    expectFirst(first);
    const before = await written();

    for (let i = 0; i < 3; i++) {
      const repeat = await addCustomer(request, withKey(key));
      expectReplayOf(repeat, first);
      expect(repeat.headers['Content-Type']).toBe('application/json');
    }
    expect(await written()).toEqual(before);
  });

  test('of a merge replays the merge (8050, same customer) and adds no second profile', async () => {
    const mobile = uniqueMobile();
    const created = await addCustomer(body(mobile));
    expect(created.status).toBe(200);
    const key = newKey();
    const merge = {
      profiles: [
        {
          source: 'ECOMMERCE',
          firstName: 'Asha',
          identifiers: [mobileIdentifier(mobile), { type: 'email', value: `${randomUUID()}@example.com` }],
        },
      ],
    };

    const first = await addCustomer(merge, withKey(key));
    expectFirst(first);
    expect(first.body.createdId).toBe(created.body.createdId);
    expect(warningCodes(first)).toContain(8050);
    const before = await written();

    const repeat = await addCustomer(merge, withKey(key));
    expectReplayOf(repeat, first);
    expect(await written()).toEqual(before);
    const customer = await getCustomer(created.body.createdId);
    expect(customer.body.profiles.map((p: { source: string }) => p.source).sort()).toEqual(['ECOMMERCE', 'INSTORE']);
  });

  test('23 hours later is still replayed; more than 24 hours later it is a new request', async () => {
    const key = newKey();
    const request = body();
    const first = await addCustomer(request, withKey(key));
    expectFirst(first);

    const sent = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => sent + 23 * 3600_000);
    expectReplayOf(await addCustomer(request, withKey(key)), first);

    jest.spyOn(Date, 'now').mockImplementation(() => sent + 24 * 3600_000 + 60_000);
    const later = await addCustomer(request, withKey(key));
    // Handled afresh: the customer exists in INSTORE already.
    expect(later.headers['Idempotent-Replayed']).toBeUndefined();
    expect(later.status).toBe(409);
    expect(codes(later)).toEqual([8006]);
  });

  test('sent by 10 requests at once creates exactly one customer, and every request gets its createdId', async () => {
    const key = newKey();
    const mobile = uniqueMobile();
    const request = body(mobile);
    const customersBefore = await customerCount();

    const replies = await Promise.all(Array.from({ length: 10 }, () => addCustomer(request, withKey(key))));

    for (const reply of replies) expect(reply.status).toBe(200);
    const ids = new Set(replies.map((r) => r.body.createdId));
    expect(ids.size).toBe(1);
    const [createdId] = [...ids];
    // One request did the work; every other one is a replay of its response.
    const firsts = replies.filter((r) => r.headers['Idempotent-Replayed'] === undefined);
    expect(firsts).toHaveLength(1);
    for (const reply of replies) expect(reply.body).toEqual(firsts[0].body);
    for (const reply of replies.filter((r) => r !== firsts[0])) expect(reply.headers['Idempotent-Replayed']).toBe('true');

    expect(await customerCount()).toBe(customersBefore + 1);
    expect(await lookup({ source: 'INSTORE', identifierName: 'mobile', identifierValue: mobile })).toMatchObject({
      status: 200,
      body: { entity: createdId },
    });
  });

  test('with a different body is refused with 422 and writes nothing', async () => {
    const key = newKey();
    const request = body();
    const first = await addCustomer(request, withKey(key));
    expectFirst(first);
    const before = await written();
    const otherMobile = uniqueMobile();

    const reused = await addCustomer(body(otherMobile), withKey(key));
    expect(reused.status).toBe(422);
    expect(codes(reused)).toEqual([422]);
    expect(reused.body.errors[0]).toEqual(expect.objectContaining({ status: false, message: expect.any(String) }));
    expect(reused.headers['Idempotent-Replayed']).toBeUndefined();
    expect(await written()).toEqual(before);
    expect(codes(await lookup({ source: 'ALL', identifierName: 'mobile', identifierValue: otherMobile }))).toEqual([8015]);

    // The key still replays its own request.
    expectReplayOf(await addCustomer(request, withKey(key)), first);
  });

  test('with the same body but other query parameters filling the profiles is a different request (422)', async () => {
    const key = newKey();
    const request = { profiles: [{ firstName: 'Asha', identifiers: [mobileIdentifier()] }] };
    const first = await addCustomer(request, withKey(key, { query: { source: 'INSTORE' } }));
    expectFirst(first);
    const before = await written();

    const other = await addCustomer(request, withKey(key, { query: { source: 'WEBSITE' } }));
    expect(other.status).toBe(422);
    expect(codes(other)).toEqual([422]);
    expect(await written()).toEqual(before);
  });
});

describe('Idempotency-Key scope and format', () => {
  test('keys are scoped to the org: the same key and body in org 100 and org 200 register two independent customers', async () => {
    const key = newKey();
    const request = body();

    const demo = await addCustomer(request, withKey(key, { till: 'demo' }));
    const other = await addCustomer(request, withKey(key, { till: 'other' }));
    expectFirst(demo);
    expectFirst(other);
    expect(other.body.createdId).not.toBe(demo.body.createdId);

    // Each org replays its own response.
    expectReplayOf(await addCustomer(request, withKey(key, { till: 'other' })), other);
    expectReplayOf(await addCustomer(request, withKey(key, { till: 'store2' })), demo);
  });

  test('a key of 128 characters is accepted; one of 129 characters, or an empty one, is refused with 400 and writes nothing', async () => {
    const accepted = await addCustomer(body(), withKey('k'.repeat(128)));
    expectFirst(accepted);

    for (const key of ['k'.repeat(129), `${newKey()}${'x'.repeat(200)}`, '']) {
      const before = await written();
      const mobile = uniqueMobile();
      const refused = await addCustomer(body(mobile), withKey(key));
      expect({ key, status: refused.status, codes: codes(refused) }).toEqual({ key, status: 400, codes: [400] });
      expect(refused.body.errors[0].message).toEqual(expect.any(String));
      expect(await written()).toEqual(before);
    }
  });

  test('a request rejected with 400 leaves its key free for the next request', async () => {
    const key = newKey();
    const before = await written();
    const invalid = await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: '12' }])] }, withKey(key));
    expect(invalid.status).toBe(400);
    expect(codes(invalid)).toContain(8014);
    expect(await written()).toEqual(before);

    // A different body with the same key is not a reuse (422): the key was never taken.
    const request = body();
    const first = await addCustomer(request, withKey(key));
    expectFirst(first);
    expectReplayOf(await addCustomer(request, withKey(key)), first);
  });

  test('a request rejected with 409 is recorded: its repeat replays the 409, and the key with another request is 422', async () => {
    const mobile = uniqueMobile();
    expect((await addCustomer(body(mobile))).status).toBe(200);
    const key = newKey();
    const before = await written();

    const conflict = await addCustomer(body(mobile), withKey(key));
    expect(conflict.status).toBe(409);
    expect(codes(conflict)).toEqual([8006]);
    expect(conflict.headers['Idempotent-Replayed']).toBeUndefined();
    // Only the record was written: no customer, profile or identifier.
    const added = (await written()).filter((item) => !before.some((b) => b.pk === item.pk && b.sk === item.sk));
    expect(added.map((item) => item.entity)).toEqual([Entity.idempotency]);
    expect(added[0].response).toEqual({ statusCode: 409, body: JSON.stringify(conflict.body) });

    expectReplayOf(await addCustomer(body(mobile), withKey(key)), conflict);
    const reused = await addCustomer(body(), withKey(key));
    expect(reused.status).toBe(422);
    expect(codes(reused)).toEqual([422]);
    expect((await written()).length).toBe(before.length + 1);
  });
});

test('a copy that lost a transaction conflict to its committed twin still gets the replay, not 8006', async () => {
  const key = newKey();
  const request = body();
  const first = await addCustomer(request, withKey(key));
  expectFirst(first);
  // The copy's transaction sees the customer's identifiers taken, but its idempotency record
  // (the last item) only as a conflict, as when the twin was still committing.
  const middleware = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
    try {
      return await next(args);
    } catch (error) {
      const reasons = (error as { name?: string; CancellationReasons?: { Code?: string; Item?: unknown }[] }).CancellationReasons;
      if ((error as { name?: string }).name === 'TransactionCanceledException' && reasons?.length) {
        reasons[reasons.length - 1] = { Code: 'TransactionConflict' };
      }
      throw error;
    }
  };
  const stack = documentClient().middlewareStack;
  stack.add(middleware as never, { step: 'initialize', name: 'conflictOnRecord' });
  try {
    const copy = await addCustomer(request, withKey(key));
    expect(copy.status).toBe(200);
    expect(copy.headers['Idempotent-Replayed']).toBe('true');
    expect(copy.body).toEqual(first.body);
  } finally {
    stack.remove('conflictOnRecord');
  }
});
