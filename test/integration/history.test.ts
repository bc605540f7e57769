import { randomUUID } from 'node:crypto';
import type { DynamoDBRecord } from 'aws-lambda';
import { publishRecords } from '../../lib/api/publishEvents';
import type { CustomerEvent } from '../../lib/events/event';
import { MemoryBus } from '../../lib/ports/eventBus';
import {
  addCustomer,
  changeIdentifier,
  customerHistory,
  eraseCustomer,
  exportCustomer,
  instoreProfile,
  mergeCustomers,
  uniqueMobile,
  unmergeCustomer,
  updateCustomer,
} from '../support/customers';
import { codes } from '../support/http';
import { streamCursor } from '../support/stream';
import { allItems, useDemoTable } from '../support/table';
import { mergeCustomers as mergeInSteps } from '../../lib/lifecycle/merge';

// SPEC section 15 against DynamoDB Local: the history is written by the stream publisher from
// the table's real stream, read newest first a page at a time, idempotent under redelivery,
// and gone with the customer's erase.

useDemoTable({ stream: true });
jest.setTimeout(120_000);

const ORG = 100;
const email = () => `h.${randomUUID().slice(0, 10)}@example.com`;

async function publish(records: DynamoDBRecord[]): Promise<CustomerEvent[]> {
  const bus = new MemoryBus();
  expect(await publishRecords(records, { bus, deliveries: { enqueue: async () => undefined } })).toEqual({ batchItemFailures: [] });
  return bus.published;
}

interface Entry {
  type: string;
  sequence: number;
  by: { till: string; origin: string };
  requestId: string;
  at: string;
  details: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- each type has its own shape
}

async function historyOf(id: number, query: Record<string, string> = {}): Promise<{ entries: Entry[]; next: string | null }> {
  const reply = await customerHistory(id, { query });
  expect(reply.status).toBe(200);
  return reply.body;
}

test("a customer's life, newest first: created, merged (with the reason), updated, identifiers changed, merged with another, unmerged", async () => {
  const cursor = await streamCursor();
  const mobile = uniqueMobile();
  const wechatEmail = email();
  const id = (await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] })).body.createdId as number;
  const merged = await addCustomer({
    profiles: [
      {
        source: 'WECHAT',
        accountId: 'wx-main',
        identifiers: [
          { type: 'mobile', value: mobile },
          { type: 'email', value: wechatEmail },
        ],
      },
    ],
  });
  expect(merged.body.createdId).toBe(id);
  expect((await updateCustomer(id, { profiles: [{ lastName: 'Iyer' }] }, { query: { source: 'INSTORE' } })).status).toBe(200);
  const external = `ext-${randomUUID()}`;
  expect((await changeIdentifier(id, { add: [{ type: 'externalId', value: external }] }, { query: { source: 'INSTORE' } })).status).toBe(
    200,
  );
  const victim = (
    await addCustomer({ profiles: [{ source: 'LINE', accountId: 'line-main', identifiers: [{ type: 'email', value: email() }] }] })
  ).body.createdId as number;
  expect((await mergeCustomers(id, { victimId: victim })).status).toBe(200);
  expect((await unmergeCustomer(id, { source: 'WECHAT', accountId: 'wx-main' })).status).toBe(200);

  const records = await cursor.next();
  const events = await publish(records);
  expect(events.map((e) => e.type)).toEqual(
    expect.arrayContaining([
      'customer.created',
      'customer.merged',
      'customer.updated',
      'customer.identifiers_changed',
      'customer.unmerged',
    ]),
  );
  expect(events.find((e) => e.type === 'customer.merged' && e.data.victimId === victim)).toBeDefined();

  const { entries, next } = await historyOf(id);
  expect(next).toBeNull();
  expect(entries.map((e) => e.type)).toEqual(['unmerged', 'merged_customer', 'identifiers_changed', 'updated', 'merged', 'created']);
  const sequences = entries.map((e) => e.sequence);
  expect([...sequences].sort((a, b) => b - a)).toEqual(sequences);
  const [unmerged, mergedCustomer, identifiers, updated, mergedIn, created] = entries;
  expect(created.details).toEqual({ profiles: [{ source: 'INSTORE', accountId: null }] });
  expect(created.by).toEqual({ till: 'demo.till', origin: 'api' });
  expect(created.requestId).not.toBe('');
  expect(created.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  expect(mergedIn.details).toEqual({
    profile: { source: 'WECHAT', accountId: 'wx-main' },
    matchedBy: [{ type: 'mobile', value: `91${mobile}` }],
  });
  expect(updated.details.changes).toEqual([{ path: '/profiles/INSTORE/lastName', old: 'Rao', new: 'Iyer' }]);
  expect(identifiers.details).toMatchObject({ added: [{ type: 'externalId', value: external }], removed: [] });
  expect(mergedCustomer.details).toEqual({ victimId: victim, profiles: [{ source: 'LINE', accountId: 'line-main' }] });
  expect(unmerged.details).toMatchObject({
    profile: { source: 'WECHAT', accountId: 'wx-main' },
    from: id,
    kept: [{ type: 'mobile', value: `91${mobile}` }],
  });
  // The customer the profile went to tells it too.
  const to = unmerged.details.to as number;
  expect((await historyOf(to)).entries.map((e) => e.type)).toEqual(['unmerged']);

  // Redelivered, the same records write the same entries.
  await publish(records);
  expect((await historyOf(id)).entries).toEqual(entries);

  // Pages: the cursor of one page leads to the next, with nothing twice and nothing left out.
  const first = await historyOf(id, { limit: '4' });
  expect(first.entries).toEqual(entries.slice(0, 4));
  const second = await historyOf(id, { limit: '4', cursor: first.next! });
  expect(second.entries).toEqual(entries.slice(4));
  expect(second.next === null || (await historyOf(id, { cursor: second.next })).entries.length === 0).toBe(true);

  // The export carries it.
  const exported = await exportCustomer(id);
  expect(exported.body.history).toEqual(entries);
});

test('limit and cursor are checked (400), and unknown, erased or other-org ids are 404', async () => {
  const id = (await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] })).body.createdId as number;
  for (const limit of ['0', '101', 'ten', '-1', '1.5']) expect(codes(await customerHistory(id, { query: { limit } }))).toEqual([400]);
  for (const cursor of ['nope!', Buffer.from('ORG#200#CUSTOMER#1').toString('base64url'), 'A'.repeat(600)]) {
    expect(codes(await customerHistory(id, { query: { cursor } }))).toEqual([400]);
  }
  expect(codes(await customerHistory(123456789))).toEqual([8015]);
  expect(codes(await customerHistory(id, { till: 'other' }))).toEqual([8015]);
});

test('an erase deletes the journal: no entry and no value of the customer is left in the table, and a late record writes none', async () => {
  const cursor = await streamCursor();
  const mobile = uniqueMobile();
  const mail = email();
  const id = (
    await addCustomer({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: mobile },
          { type: 'email', value: mail },
        ]),
      ],
    })
  ).body.createdId as number;
  expect((await updateCustomer(id, { profiles: [{ lastName: 'Menon' }] }, { query: { source: 'INSTORE' } })).status).toBe(200);
  const before = await cursor.next();
  await publish(before);
  expect((await historyOf(id)).entries).toHaveLength(2);

  expect((await eraseCustomer(id)).status).toBe(200);
  expect(codes(await customerHistory(id))).toEqual([8015]);
  const leftovers = (await allItems()).filter((item) => {
    const text = JSON.stringify(item, (_k, v: unknown) => (v instanceof Set ? [...v] : v));
    return text.includes(mobile) || text.includes(mail) || text.includes('Menon') || String(item.pk) === `ORG#${ORG}#HISTORY#${id}`;
  });
  expect(leftovers).toEqual([]);

  // The records before the erase, delivered again after it (a retry, another shard): nothing comes back.
  await publish([...before, ...(await cursor.next())]);
  expect((await allItems()).filter((item) => String(item.pk) === `ORG#${ORG}#HISTORY#${id}`)).toEqual([]);
});

test("an erase of a survivor deletes its victims' journals and every value of both, and a replayed unmerge hands back nothing of an erased customer", async () => {
  const cursor = await streamCursor();
  const victimMobile = uniqueMobile();
  const victimMail = email();
  const survivor = (await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] })).body
    .createdId as number;
  const victim = (
    await addCustomer({
      profiles: [
        {
          source: 'WECHAT',
          accountId: 'wx-main',
          firstName: 'Zoya',
          identifiers: [
            { type: 'mobile', value: victimMobile },
            { type: 'email', value: victimMail },
          ],
        },
      ],
    })
  ).body.createdId as number;
  expect(
    (await updateCustomer(victim, { profiles: [{ lastName: 'Qureshi' }] }, { query: { source: 'WECHAT', accountId: 'wx-main' } })).status,
  ).toBe(200);
  expect((await mergeCustomers(survivor, { victimId: victim })).status).toBe(200);
  await publish(await cursor.next());
  expect((await historyOf(victim)).entries.map((e) => e.type)).toEqual(['updated', 'created']);

  expect((await eraseCustomer(survivor)).status).toBe(200);
  await publish(await cursor.next());
  const leftovers = (await allItems()).filter((item) => {
    const text = JSON.stringify(item, (_k, v: unknown) => (v instanceof Set ? [...v] : v));
    return (
      [victimMobile, victimMail, 'Zoya', 'Qureshi'].some((value) => text.includes(value)) || String(item.pk).endsWith(`#HISTORY#${victim}`)
    );
  });
  expect(leftovers).toEqual([]);

  // An unmerge recorded under a key, then the customer it split out erased: the key replays nothing of it.
  const shared = uniqueMobile();
  const mail = email();
  const customer = (await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: shared }])] })).body.createdId as number;
  await addCustomer({
    profiles: [
      {
        source: 'LINE',
        accountId: 'line-main',
        identifiers: [
          { type: 'mobile', value: shared },
          { type: 'email', value: mail },
        ],
      },
    ],
  });
  const key = { 'Idempotency-Key': randomUUID() };
  const split = await unmergeCustomer(customer, { source: 'LINE', accountId: 'line-main' }, { headers: key });
  expect(split.status).toBe(200);
  expect((await eraseCustomer(split.body.entity.id)).status).toBe(200);
  const again = await unmergeCustomer(customer, { source: 'LINE', accountId: 'line-main' }, { headers: key });
  expect(JSON.stringify(again.body)).not.toContain(mail);
  expect(JSON.stringify(again.body)).not.toContain(String(split.body.entity.id));
});

test('a merge in steps is one merged_customer entry and one customer.merged event, on the survivor only', async () => {
  const cursor = await streamCursor();
  const survivor = (await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] })).body
    .createdId as number;
  const mobile = uniqueMobile();
  const victim = (
    await addCustomer({
      profiles: [
        {
          source: 'WECHAT',
          accountId: 'wx-main',
          identifiers: [
            { type: 'mobile', value: mobile },
            { type: 'email', value: email() },
          ],
        },
      ],
    })
  ).body.createdId as number;
  const line = await addCustomer({
    profiles: [
      {
        source: 'LINE',
        accountId: 'line-main',
        identifiers: [
          { type: 'mobile', value: mobile },
          { type: 'line', value: email() },
        ],
      },
    ],
  });
  expect(line.body.createdId).toBe(victim);
  await publish(await cursor.next());

  // Steps of 4 items: the mark, two middle steps and the last.
  const outcome = await mergeInSteps(ORG, survivor, victim, undefined, { stepItems: 4 });
  expect(outcome.kind).toBe('merged');
  const events = await publish(await cursor.next());
  expect(events.map((e) => [e.type, e.customerId])).toEqual([['customer.merged', survivor]]);
  expect(events[0].data).toMatchObject({ victimId: victim, sourceAccounts: ['WECHAT#wx-main', 'LINE#line-main'] });
  expect((await historyOf(survivor)).entries.map((e) => e.type)).toEqual(['merged_customer', 'created']);
  expect((await historyOf(victim)).entries.map((e) => e.type)).toEqual(['merged', 'created']);
});
