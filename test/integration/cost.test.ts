import { documentClient } from '../../lib/store/client';
import { localClient } from '../../scripts/table';
import { captureWrites, costsOf, lookupWith, type WriteCapture, type WriteCost } from '../../bench/support/capacity';
import { countRoundTrips, type RoundTripCounter } from '../../bench/support/roundTrips';
import { addCustomer, instoreProfile, uniqueMobile } from '../support/customers';
import { codes, warningCodes, type EventOptions, type Reply } from '../support/http';
import { allItems as registrationItemsAndCounters, registrationItems, useDemoTable } from '../support/table';
import { Entity, keys } from '../../lib/store/keys';

// What a warm POST /v2/customers costs in DynamoDB, as exact numbers (no timings): round trips
// per kind of request, counted on the service's own client, and write capacity units per
// registration, computed from the items sent as DynamoDB bills them (the computation
// `npm run bench` reports; see BENCHMARKS.md). Each request is sent after a first request of
// the same till, which caches its credentials and its org's configuration.

useDemoTable();

let counter: RoundTripCounter;
let capture: WriteCapture;

beforeAll(async () => {
  counter = countRoundTrips(documentClient());
  capture = captureWrites(documentClient());
  // Warm: the demo till's credentials and org 100's configuration are cached from here on.
  expect((await addCustomer(typical())).status).toBe(200);
});

afterAll(() => {
  counter.detach();
  capture.detach();
});

let emails = 0;
const email = () => `cost.${Date.now()}.${++emails}@example.com`;
const externalId = () => `COST-${Date.now()}-${++emails}`;

function typical(mobile = uniqueMobile()) {
  return {
    profiles: [
      instoreProfile([
        { type: 'mobile', value: mobile },
        { type: 'email', value: email() },
        { type: 'externalId', value: externalId() },
      ]),
    ],
  };
}

function full() {
  return {
    profiles: [
      instoreProfile([
        { type: 'mobile', value: uniqueMobile() },
        { type: 'email', value: email() },
        { type: 'externalId', value: externalId() },
        { type: 'card', seriesId: 501, statusLabel: 'ACTIVE' } as unknown as { type: string; value: string },
      ]),
    ],
    extendedFields: {
      gender: 'Female',
      dob: '1991-04-12',
      city: 'Pune',
      nationality: 'IN',
      age_group: '25-34',
      household_size: 3,
      annual_income: 850000.5,
    },
    loyaltyProgramEnrollments: [{ programId: 2, tierNumber: 2, loyaltyPoints: 500 }],
  };
}

const websiteProfile = (mobile: string) => ({
  source: 'WEBSITE',
  identifiers: [
    { type: 'mobile', value: mobile },
    { type: 'email', value: email() },
  ],
});

interface Cost {
  reply: Reply;
  commands: Record<string, number>;
  httpRequests: number;
  writes: WriteCost[];
}

/** Sends one request and returns what it sent to DynamoDB. */
async function measured(body: unknown, options?: EventOptions): Promise<Cost> {
  counter.reset();
  capture.reset();
  const reply = await addCustomer(body, options);
  const commands = counter.commands();
  const httpRequests = counter.httpRequests();
  const writes = await costsOf(capture.writes(), lookupWith(localClient(process.env.DYNAMODB_ENDPOINT!)));
  return { reply, commands, httpRequests, writes };
}

/**
 * Transactions exactly; the rate counter at most once (it is reserved in blocks, see below); and
 * for a refusal by the identity rules, one read per owning customer of whether it is being erased.
 */
function expectRoundTrips(cost: Cost, transactions: number, ownerReads = 0) {
  expect(cost.commands.TransactWriteItems ?? 0).toBe(transactions);
  expect(cost.commands.UpdateItem ?? 0).toBeLessThanOrEqual(1);
  expect(cost.commands.GetItem ?? 0).toBe(ownerReads);
  const expected = ['TransactWriteItems', ...(cost.commands.UpdateItem ? ['UpdateItem'] : []), ...(ownerReads ? ['GetItem'] : [])];
  expect(Object.keys(cost.commands).sort()).toEqual(expected.sort());
  expect(cost.httpRequests).toBe(transactions + (cost.commands.UpdateItem ?? 0) + ownerReads);
}

const transactionUnits = (cost: Cost) =>
  cost.writes.filter((w) => w.operation === 'TransactWriteItems' && w.ok).reduce((sum, w) => sum + w.units, 0);

describe('round trips of a warm POST /v2/customers', () => {
  test('a new customer costs one transaction, and at most one rate counter update', async () => {
    const cost = await measured(typical());
    expect(cost.reply.status).toBe(200);
    expectRoundTrips(cost, 1);
  });

  test('a merge into another source costs the create attempt that finds the owner and the merge transaction', async () => {
    const mobile = uniqueMobile();
    expect((await addCustomer(typical(mobile))).status).toBe(200);
    const cost = await measured({ profiles: [websiteProfile(mobile)] });
    expect(cost.reply.status).toBe(200);
    expect(warningCodes(cost.reply)).toContain(8050);
    expectRoundTrips(cost, 2);
  });

  test('a same-source duplicate (8006) costs the one transaction that finds the owner and its sources, one read that it is not being erased, and writes nothing', async () => {
    const mobile = uniqueMobile();
    expect((await addCustomer(typical(mobile))).status).toBe(200);
    const before = await registrationItems();
    const cost = await measured({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
    expect(cost.reply.status).toBe(409);
    expect(codes(cost.reply)).toEqual([8006]);
    expectRoundTrips(cost, 1, 1);
    expect(cost.writes.filter((w) => w.operation === 'TransactWriteItems' && w.ok)).toEqual([]);
    expect((await registrationItems()).filter((i) => i.entity !== 'rateWindow')).toHaveLength(
      before.filter((i) => i.entity !== 'rateWindow').length,
    );
  });

  test('a conflict (8052) costs the one transaction that finds both owners and a read of each that it is not being erased', async () => {
    const mobile = uniqueMobile();
    const first = typical(mobile);
    const second = typical();
    expect((await addCustomer(first)).status).toBe(200);
    expect((await addCustomer(second)).status).toBe(200);
    const otherEmail = second.profiles[0].identifiers[1].value;
    const cost = await measured({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: mobile },
          { type: 'email', value: otherEmail },
        ]),
      ],
    });
    expect(cost.reply.status).toBe(409);
    expect(codes(cost.reply)).toEqual([8052]);
    expectRoundTrips(cost, 1, 2);
  });

  test('rejected input costs no DynamoDB request: it is refused before it is counted', async () => {
    const cost = await measured({ profiles: [instoreProfile([{ type: 'mobile', value: '12' }])] });
    expect(cost.reply.status).toBe(400);
    expect(codes(cost.reply)).toContain(8014);
    expect(cost.commands).toEqual({});
    expect(cost.httpRequests).toBe(0);
    expect(cost.writes).toEqual([]);
  });

  test('a rate-limited request (429) costs only the counter update that fails', async () => {
    // Org 300 allows 10 requests a minute; its first request caches the till and the org.
    let limited: Cost | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const cost = await measured(typical(), { till: 'limited' });
      if (cost.reply.status === 429 && i > 0) limited = cost;
      else expect([200, 429]).toContain(cost.reply.status);
    }
    expect(limited).toBeDefined();
    expect(limited!.commands).toEqual({ UpdateItem: 1 });
    expect(limited!.httpRequests).toBe(1);
  });
});

describe('write capacity units of a registration (2 per item of up to 1 KB in a transaction)', () => {
  test('a typical new customer (mobile, email, externalId) writes 4 items for 8 units, plus at most 1 for the rate counter', async () => {
    const cost = await measured(typical());
    expect(cost.reply.status).toBe(200);
    const [transaction] = cost.writes.filter((w) => w.operation === 'TransactWriteItems');
    expect(transaction.items.map((i) => i.action)).toEqual(['Put', 'Put', 'Put', 'Put']);
    for (const item of transaction.items) expect(item.bytes).toBeLessThanOrEqual(1024);
    expect(transactionUnits(cost)).toBe(8);
    expect(cost.writes.filter((w) => w.operation === 'UpdateItem').map((w) => w.units)).toEqual(cost.commands.UpdateItem ? [1] : []);
  });

  test('a full new customer (generated card, extended fields, program 2 with points) writes 5 items for 10 units', async () => {
    const cost = await measured(full());
    expect(cost.reply.status).toBe(200);
    const [transaction] = cost.writes.filter((w) => w.operation === 'TransactWriteItems');
    expect(transaction.items).toHaveLength(5);
    for (const item of transaction.items) expect(item.bytes).toBeLessThanOrEqual(1024);
    expect(transactionUnits(cost)).toBe(10);
  });

  test("a merge into another source costs 8 units: the customer item's version raised (only while it is live), the known mobile's re-check (which records the new source), the new email and the new profile", async () => {
    const mobile = uniqueMobile();
    expect((await addCustomer(typical(mobile))).status).toBe(200);
    const cost = await measured({ profiles: [websiteProfile(mobile)] });
    expect(cost.reply.status).toBe(200);
    const merge = cost.writes.filter((w) => w.operation === 'TransactWriteItems' && w.ok);
    expect(merge).toHaveLength(1);
    expect(merge[0].items.map((i) => i.action)).toEqual(['Update', 'Update', 'Put', 'Put']);
    expect(transactionUnits(cost)).toBe(8);
  });
});

describe('the rate counter', () => {
  test('a small org (10 per minute) pays one counter update per request', async () => {
    // A minute of its own, ten minutes ahead: the 429 test above filled org 300's current one.
    const realNow = Date.now.bind(Date);
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 10 * 60_000);
    try {
      const first = await measured(typical(), { till: 'limited' });
      expect(first.reply.status).toBe(200);
      const cost = await measured(typical(), { till: 'limited' });
      expect(cost.reply.status).toBe(200);
      expect(cost.commands.UpdateItem).toBe(1);
    } finally {
      clock.mockRestore();
    }
  });

  test("once an org's minute is full, a 429 costs no DynamoDB request until the minute ends", async () => {
    const realNow = Date.now.bind(Date);
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 20 * 60_000);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) statuses.push((await measured(typical(), { till: 'limited' })).reply.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses[10]).toBe(429);
      const after = await measured(typical(), { till: 'limited' });
      expect(after.reply.status).toBe(429);
      expect(after.commands).toEqual({});
    } finally {
      clock.mockRestore();
    }
  });

  test('a busy org reserves its minute in blocks: 60 registrations in a row cost far fewer counter updates, and the table counts every one', async () => {
    counter.reset();
    for (let i = 0; i < 60; i++) expect((await addCustomer(typical())).status).toBe(200);
    const updates = counter.commands().UpdateItem ?? 0;
    expect(updates).toBeGreaterThanOrEqual(1);
    expect(updates).toBeLessThanOrEqual(12);
    const windows = (await registrationItemsAndCounters()).filter(
      (i) => i.entity === Entity.rateWindow && String(i.pk).startsWith(keys.orgPrefix(100)),
    );
    const counted = windows.reduce((sum, w) => sum + Number(w.requests), 0);
    expect(counted).toBeGreaterThanOrEqual(60);
  });
});
