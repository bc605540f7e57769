import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { handler as bulkHandler } from '../../handlers/bulkAddCustomers';
import { publishRecords, type PublisherPorts } from '../../lib/api/publishEvents';
import type { CustomerEvent, WebhookDelivery } from '../../lib/events/event';
import { importFile } from '../../lib/import/importFile';
import type { OrgConfig, WebhookSubscription } from '../../lib/org';
import type { DeliveryQueue } from '../../lib/ports/deliveryQueue';
import { MemoryBus, type EventBus } from '../../lib/ports/eventBus';
import { Entity, keys } from '../../lib/store/keys';
import { getOrgConfig } from '../../lib/store/orgs';
import {
  addCustomer,
  changeIdentifier,
  eraseCustomer,
  getCustomer,
  instoreProfile,
  uniqueMobile,
  updateCustomer,
} from '../support/customers';
import { apiEvent, call, codes, warningCodes, type EventOptions } from '../support/http';
import { streamCursor, streamRecords } from '../support/stream';
import { allItems, useDemoTable } from '../support/table';

// SPEC section 10 against DynamoDB Local: the table's stream is the outbox. Registrations go
// through the real handlers, their stream records are read back as Lambda would deliver them,
// and the publisher's use case turns them into events on a bus and webhook deliveries on a queue.

useDemoTable({ stream: true });
jest.setTimeout(120_000);

const ORG = 100;
const SECRET = 'whsec_ZGVtbyB3ZWJob29rIHNlY3JldCBvZiBvcmcgMTAwLCBub3Qgc2VjcmV0IQ==';

/** Webhook deliveries as the queue would receive them. */
class CapturedDeliveries implements DeliveryQueue {
  readonly queued: WebhookDelivery[] = [];
  async enqueue(deliveries: WebhookDelivery[]): Promise<void> {
    this.queued.push(...deliveries);
  }
}

let demo: OrgConfig;
beforeAll(async () => {
  const stored = (await getOrgConfig(ORG))!;
  // The demo file's own subscriptions and settings are left out: each test says its own.
  const { webhooks: _webhooks, events: _events, ...rest } = stored;
  demo = rest;
});

function publisher(config: Partial<OrgConfig> = {}, bus: EventBus = new MemoryBus()) {
  const deliveries = new CapturedDeliveries();
  const org = { ...demo, ...config };
  const ports: PublisherPorts = { bus, deliveries, org: async (orgId) => (orgId === ORG ? org : undefined) };
  return { bus, deliveries, ports, publish: (records: DynamoDBRecord[]) => publishRecords(records, ports) };
}

const published = (bus: EventBus) => (bus as MemoryBus).published;

function subscription(id: string, events: WebhookSubscription['events'], includeImports = false): WebhookSubscription {
  return { id, url: `http://127.0.0.1:9/${id}`, events, secrets: [SECRET], includeImports };
}

const keyed = (key = randomUUID()): EventOptions => ({ headers: { 'Idempotency-Key': key } });
const mobileBody = (mobile = uniqueMobile()) => ({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });

async function register(body: unknown, options?: EventOptions): Promise<number> {
  const reply = await addCustomer(body, options);
  expect(reply.status).toBe(200);
  expect(codes(reply)).toEqual([]);
  return reply.body.createdId;
}

const bulk = (items: unknown, options?: EventOptions) => call(bulkHandler as never, apiEvent('POST', '/v2/customers/bulk', items, options));

function keyOf(record: DynamoDBRecord): { pk: string; sk: string } {
  return unmarshall(record.dynamodb!.Keys as Record<string, AttributeValue>) as { pk: string; sk: string };
}

function imageOf(record: DynamoDBRecord): Record<string, unknown> {
  return unmarshall(record.dynamodb!.NewImage as Record<string, AttributeValue>);
}

/** The publisher's event source filter (SPEC section 10): customer and merged profile items only. */
const ofCustomers = (records: DynamoDBRecord[]) =>
  records.filter((r) => {
    const { pk, sk } = keyOf(r);
    return /^ORG#\d+#CUSTOMER#\d+$/.test(pk) && (sk === 'CUSTOMER' || sk.startsWith('PROFILE#'));
  });

const summary = (events: CustomerEvent[]) =>
  events.map((e) => ({ type: e.type, orgId: e.orgId, customerId: e.customerId, origin: e.origin, data: e.data }));

describe('a registration through POST /v2/customers', () => {
  it('publishes exactly one customer.created for the new customer, with origin api', async () => {
    const cursor = await streamCursor();
    const id = await register(mobileBody());
    const { bus, deliveries, publish } = publisher();

    expect(await publish(await cursor.next())).toEqual({ batchItemFailures: [] });

    expect(summary(published(bus))).toEqual([
      {
        type: 'customer.created',
        orgId: ORG,
        customerId: id,
        origin: 'api',
        data: { sourceAccounts: ['INSTORE'], identifierTypes: ['mobile'] },
      },
    ]);
    expect(published(bus)[0]).toMatchObject({ id: expect.stringMatching(/^evt_[0-9a-f]{32}$/), version: 1 });
    expect(Math.abs(Date.parse(published(bus)[0].occurredAt) - Date.now())).toBeLessThan(60_000);
    expect(deliveries.queued).toEqual([]);
  });

  it('writes only what a registration writes: the customer, its identifiers and the idempotency record, nothing for an outbox', async () => {
    const cursor = await streamCursor();
    const itemsBefore = new Set((await allItems()).map((i) => `${i.pk}|${i.sk}`));
    const email = `events.${randomUUID().slice(0, 8)}@example.com`;
    const id = await register(
      {
        profiles: [
          instoreProfile([
            { type: 'mobile', value: uniqueMobile() },
            { type: 'email', value: email },
          ]),
        ],
      },
      keyed(),
    );

    const written = (await cursor.next()).filter((r) => !keyOf(r).pk.includes('#RATE#'));
    expect(written.map((r) => r.eventName)).toEqual(['INSERT', 'INSERT', 'INSERT', 'INSERT']);
    expect(written.map((r) => String(imageOf(r).entity)).sort()).toEqual([
      Entity.customer,
      Entity.idempotency,
      Entity.identifier,
      Entity.identifier,
    ]);
    expect(keyOf(written.find((r) => imageOf(r).entity === Entity.customer)!)).toEqual(keys.customer(ORG, id));

    // The table holds exactly those new items (and the rate limiter's counter), each as its stream record shows it.
    const now = await allItems();
    const added = now.filter((i) => !itemsBefore.has(`${i.pk}|${i.sk}`) && i.entity !== Entity.rateWindow);
    expect(added.map((i) => `${i.pk}|${i.sk}`).sort()).toEqual(written.map((r) => `${keyOf(r).pk}|${keyOf(r).sk}`).sort());
    for (const record of written) expect(now).toContainEqual(imageOf(record));
    expect(now.filter((i) => i.pk === keys.customerPartition(ORG, id)).map((i) => i.sk)).toEqual(['CUSTOMER']);
    const kinds = new Set<unknown>(Object.values(Entity));
    expect(now.filter((i) => !kinds.has(i.entity))).toEqual([]);
  });

  it('publishes only customer.merged for the source account a merge from WeChat adds, although the merge raises the customer item’s version', async () => {
    const wechat = `wx-${randomUUID()}`;
    const id = await register({ profiles: [{ source: 'WECHAT', accountId: 'wx-main', identifiers: [{ type: 'wechat', value: wechat }] }] });
    const cursor = await streamCursor();

    const reply = await addCustomer({
      profiles: [{ source: 'WECHAT', accountId: 'wx-second', identifiers: [{ type: 'wechat', value: wechat }] }],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.createdId).toBe(id);
    expect(warningCodes(reply)).toEqual([8050]);

    const records = await cursor.next();
    expect(ofCustomers(records).map((r) => [r.eventName, keyOf(r).sk])).toEqual([
      ['MODIFY', 'CUSTOMER'],
      ['INSERT', 'PROFILE#WECHAT#wx-second'],
    ]);
    // The merge's transaction: the customer's version raised, the known identifier re-checked (its source accounts extended) and the profile item.
    const written = records.filter((r) => !keyOf(r).pk.includes('#RATE#'));
    expect(written.map((r) => [r.eventName, imageOf(r).entity]).sort()).toEqual([
      ['INSERT', Entity.mergedProfile],
      ['MODIFY', Entity.customer],
      ['MODIFY', Entity.identifier],
    ]);
    // Created at version 1, the merge raised it to 2 and the count of profiles with it.
    expect(imageOf(written.find((r) => imageOf(r).entity === Entity.customer)!)).toMatchObject({ version: 2, profileCount: 2 });
    const { bus, publish } = publisher();
    expect(await publish(records)).toEqual({ batchItemFailures: [] });
    expect(summary(published(bus))).toEqual([
      {
        type: 'customer.merged',
        orgId: ORG,
        customerId: id,
        origin: 'api',
        data: { sourceAccounts: ['WECHAT#wx-second'], identifierTypes: ['wechat'] },
      },
    ]);
    expect(published(bus)[0].sequence).toBe(2);
  });

  it('publishes nothing more when a registration is replayed with the same Idempotency-Key and body', async () => {
    const body = mobileBody();
    const options = keyed();
    const cursor = await streamCursor();
    const id = await register(body, options);
    const first = publisher();
    await first.publish(await cursor.next());
    expect(published(first.bus).map((e) => [e.type, e.customerId])).toEqual([['customer.created', id]]);

    const replay = await addCustomer(body, options);
    expect(replay.status).toBe(200);
    expect(replay.body.createdId).toBe(id);

    const records = await cursor.next();
    expect(ofCustomers(records)).toEqual([]);
    const second = publisher();
    expect(await second.publish(records)).toEqual({ batchItemFailures: [] });
    expect(published(second.bus)).toEqual([]);
  });

  it('publishes nothing more when a merge is replayed with the same Idempotency-Key and body', async () => {
    const mobile = uniqueMobile();
    const id = await register(mobileBody(mobile));
    const body = { profiles: [{ source: 'WEBSITE', identifiers: [{ type: 'mobile', value: mobile }] }] };
    const options = keyed();
    const cursor = await streamCursor();
    expect((await addCustomer(body, options)).body.createdId).toBe(id);
    const first = publisher();
    await first.publish(await cursor.next());
    expect(published(first.bus).map((e) => e.type)).toEqual(['customer.merged']);

    expect((await addCustomer(body, options)).body.createdId).toBe(id);
    const second = publisher();
    await second.publish(await cursor.next());
    expect(published(second.bus)).toEqual([]);
  });

  it('publishes nothing for the items that are not customers: org configuration, tills, identifiers, counters, records', async () => {
    const everything = await streamRecords();
    const others = everything.filter((r) => ofCustomers([r]).length === 0);
    expect(new Set(others.map((r) => String((imageOf(r) ?? {}).entity)))).toEqual(
      // History entries too: the publisher writes them from earlier records, and they tell nothing of their own.
      new Set([Entity.org, Entity.till, Entity.identifier, Entity.rateWindow, Entity.idempotency, Entity.historyEntry]),
    );
    const { bus, deliveries, publish } = publisher({ webhooks: [subscription('all', ['customer.created', 'customer.merged'], true)] });
    expect(await publish(others)).toEqual({ batchItemFailures: [] });
    expect(published(bus)).toEqual([]);
    expect(deliveries.queued).toEqual([]);
  });
});

describe('a registration through POST /v2/customers/bulk', () => {
  it('publishes customer.created and customer.merged with origin bulk', async () => {
    const mobile = uniqueMobile();
    const cursor = await streamCursor();
    const reply = await bulk([mobileBody(mobile), { profiles: [{ source: 'WEBSITE', identifiers: [{ type: 'mobile', value: mobile }] }] }]);
    expect(reply.status).toBe(200);
    const [created, merged] = reply.body;
    expect(created.status).toBe(200);
    expect(merged.entity.id).toBe(created.entity.id);

    const { bus, publish } = publisher();
    await publish(await cursor.next());
    expect(summary(published(bus))).toEqual([
      {
        type: 'customer.created',
        orgId: ORG,
        customerId: created.entity.id,
        origin: 'bulk',
        data: { sourceAccounts: ['INSTORE'], identifierTypes: ['mobile'] },
      },
      {
        type: 'customer.merged',
        orgId: ORG,
        customerId: created.entity.id,
        origin: 'bulk',
        data: { sourceAccounts: ['WEBSITE'], identifierTypes: ['mobile'] },
      },
    ]);
  });
});

describe('the local stream (npm start)', () => {
  it('publishes the records as DynamoDB Local and the SDK hand them to the publisher offline', async () => {
    const cursor = await streamCursor({ asReadLocally: true });
    const id = await register(mobileBody());
    const records = await cursor.next();
    // What serverless-offline-dynamodb-streams passes on: a Date for the creation time, `{}` for an empty map.
    expect(ofCustomers(records)[0].dynamodb!.ApproximateCreationDateTime).toBeInstanceOf(Date);

    const { bus, publish } = publisher();
    expect(await publish(records)).toEqual({ batchItemFailures: [] });
    expect(published(bus).map((e) => [e.type, e.customerId])).toEqual([['customer.created', id]]);
    expect(Math.abs(Date.parse(published(bus)[0].occurredAt) - Date.now())).toBeLessThan(60_000);
  });
});

describe('redelivery and failures', () => {
  it('gives a stream record delivered twice the same event ids', async () => {
    const cursor = await streamCursor();
    await register(mobileBody());
    const records = ofCustomers(await cursor.next());
    expect(records).toHaveLength(1);

    const once = publisher();
    await once.publish(records);
    const twice = publisher();
    await twice.publish([...records, ...records]);
    await twice.publish(records);
    const ids = published(twice.bus).map((e) => e.id);
    expect(ids).toHaveLength(3);
    expect(new Set(ids)).toEqual(new Set(published(once.bus).map((e) => e.id)));
  });

  it('reports the first record of a send the bus refuses, and publishes from it, in order, when retried', async () => {
    const cursor = await streamCursor();
    const ids = [await register(mobileBody()), await register(mobileBody()), await register(mobileBody())];
    const batch = ofCustomers(await cursor.next());
    expect(batch.map((r) => keyOf(r))).toEqual(ids.map((id) => keys.customer(ORG, id)));

    // The bus is down for the second record's events, once.
    const good = new MemoryBus();
    let refused = 0;
    const flaky: EventBus = {
      async publish(events) {
        if (events.some((e) => e.customerId === ids[1]) && refused++ === 0) throw new Error('EventBridge is unavailable');
        await good.publish(events);
      },
    };
    const { publish } = publisher({}, flaky);

    // The batch's events go out together, so the first record of the refused send is reported.
    expect(await publish(batch)).toEqual({ batchItemFailures: [{ itemIdentifier: batch[0].dynamodb!.SequenceNumber }] });
    expect(good.published).toEqual([]);

    // Lambda retries from the reported record, in order.
    expect(await publish(batch)).toEqual({ batchItemFailures: [] });
    expect(good.published.map((e) => [e.type, e.customerId])).toEqual(ids.map((id) => ['customer.created', id]));
  });

  it('sends what came before a record it cannot read (a full event), and reports that record', async () => {
    const cursor = await streamCursor();
    const ids = [await register(mobileBody()), await register(mobileBody()), await register(mobileBody())];
    const batch = ofCustomers(await cursor.next());
    const bus = new MemoryBus();
    let down = true;
    const ports: PublisherPorts = {
      bus,
      deliveries: new CapturedDeliveries(),
      org: async () => ({ ...demo, events: { full: true } }),
      document: async (_org, customerId) => {
        if (customerId === ids[1] && down) throw new Error('DynamoDB is unavailable');
        return { id: customerId };
      },
    };
    expect(await publishRecords(batch, ports)).toEqual({ batchItemFailures: [{ itemIdentifier: batch[1].dynamodb!.SequenceNumber }] });
    expect(bus.published.map((e) => e.customerId)).toEqual([ids[0]]);
    down = false;
    expect(await publishRecords(batch.slice(1), ports)).toEqual({ batchItemFailures: [] });
    expect(bus.published.map((e) => e.customerId)).toEqual(ids);
  });

  it('reports a record whose deliveries cannot be queued, and publishes its events again with the same ids when retried', async () => {
    const cursor = await streamCursor();
    await register(mobileBody());
    const batch = ofCustomers(await cursor.next());
    const bus = new MemoryBus();
    const config = { ...demo, webhooks: [subscription('crm', ['customer.created'])] };
    let down = true;
    const ports: PublisherPorts = {
      bus,
      deliveries: {
        async enqueue() {
          if (down) throw new Error('SQS is unavailable');
        },
      },
      org: async () => config,
    };

    expect(await publishRecords(batch, ports)).toEqual({ batchItemFailures: [{ itemIdentifier: batch[0].dynamodb!.SequenceNumber }] });
    down = false;
    expect(await publishRecords(batch, ports)).toEqual({ batchItemFailures: [] });
    expect(bus.published).toHaveLength(2);
    expect(bus.published[1].id).toBe(bus.published[0].id);
  });
});

describe('full events', () => {
  it('carry the customer as GET /v2/customers/{id} returns it when the org opts in', async () => {
    const cursor = await streamCursor();
    const id = await register({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: uniqueMobile() },
          { type: 'email', value: `full.${randomUUID().slice(0, 8)}@example.com` },
        ]),
      ],
    });
    const { bus, publish } = publisher({ events: { full: true } });
    await publish(await cursor.next());

    const document = await getCustomer(id);
    expect(document.status).toBe(200);
    expect(published(bus)).toHaveLength(1);
    expect(published(bus)[0].data).toEqual({ sourceAccounts: ['INSTORE'], identifierTypes: ['email', 'mobile'], customer: document.body });
  });

  it('are thin otherwise: no names or identifier values', async () => {
    const mobile = uniqueMobile();
    const cursor = await streamCursor();
    await register(mobileBody(mobile));
    const { bus, publish } = publisher({ events: { full: false } });
    await publish(await cursor.next());
    expect(published(bus)).toHaveLength(1);
    expect(published(bus)[0].data).not.toHaveProperty('customer');
    const text = JSON.stringify(published(bus));
    for (const value of [mobile, 'Asha', 'Rao']) expect(text).not.toContain(value);
  });
});

describe('webhook deliveries', () => {
  const webhooks = [subscription('crm', ['customer.created']), subscription('audit', ['customer.created', 'customer.merged'], true)];

  it('are one per subscription and event type it subscribes to, none for a type it does not', async () => {
    const mobile = uniqueMobile();
    const cursor = await streamCursor();
    const id = await register(mobileBody(mobile));
    expect(
      (await addCustomer({ profiles: [{ source: 'WEBSITE', identifiers: [{ type: 'mobile', value: mobile }] }] })).body.createdId,
    ).toBe(id);

    const { bus, deliveries, publish } = publisher({ webhooks });
    await publish(await cursor.next());

    const [created, merged] = published(bus);
    expect([created.type, merged.type]).toEqual(['customer.created', 'customer.merged']);
    expect(deliveries.queued).toEqual([
      { orgId: ORG, subscriptionId: 'crm', event: created },
      { orgId: ORG, subscriptionId: 'audit', event: created },
      { orgId: ORG, subscriptionId: 'audit', event: merged },
    ]);
  });

  it('are none for an org without subscriptions', async () => {
    const cursor = await streamCursor();
    await register(mobileBody());
    const { bus, deliveries, publish } = publisher();
    await publish(await cursor.next());
    expect(published(bus)).toHaveLength(1);
    expect(deliveries.queued).toEqual([]);
  });

  it('leave out the events of an import unless the subscription includes imports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'events-import-'));
    const file = join(dir, 'members.jsonl');
    writeFileSync(file, `${JSON.stringify(mobileBody())}\n`);
    const cursor = await streamCursor();
    const summaryOfImport = await importFile({ file, orgId: ORG, rate: 1000, concurrency: 1 });
    expect(summaryOfImport.total.created).toBe(1);

    const { bus, deliveries, publish } = publisher({ webhooks });
    await publish(await cursor.next());
    expect(published(bus).map((e) => [e.type, e.origin])).toEqual([['customer.created', 'import']]);
    expect(deliveries.queued).toEqual([{ orgId: ORG, subscriptionId: 'audit', event: published(bus)[0] }]);
  });
});

describe('the changes after registration (SPEC sections 11 and 12)', () => {
  const wechatBody = (wechat: string, accountId = 'wx-main') => ({
    profiles: [{ source: 'WECHAT', accountId, identifiers: [{ type: 'wechat', value: wechat }] }],
  });

  it('publishes customer.updated for an update of the first profile, naming its source account and no personal data', async () => {
    const id = await register(mobileBody());
    const cursor = await streamCursor();
    expect((await updateCustomer(id, { profiles: [{ lastName: 'Menon-Private' }], extendedFields: { city: 'Kochi' } })).status).toBe(200);
    const { bus, publish } = publisher();
    expect(await publish(await cursor.next())).toEqual({ batchItemFailures: [] });
    expect(summary(published(bus))).toEqual([
      { type: 'customer.updated', orgId: ORG, customerId: id, origin: 'api', data: { sourceAccounts: ['INSTORE'], identifierTypes: [] } },
    ]);
    expect(JSON.stringify(published(bus))).not.toMatch(/Menon-Private|Kochi/);
  });

  it('publishes customer.identifiers_changed for a replaced mobile, with the type and not the values', async () => {
    const old = uniqueMobile();
    const id = await register(mobileBody(old));
    const next = uniqueMobile();
    const cursor = await streamCursor();
    const reply = await changeIdentifier(id, { remove: [{ type: 'mobile', value: old }], add: [{ type: 'mobile', value: next }] });
    expect(reply.status).toBe(200);
    const { bus, publish } = publisher();
    await publish(await cursor.next());
    expect(summary(published(bus))).toEqual([
      {
        type: 'customer.identifiers_changed',
        orgId: ORG,
        customerId: id,
        origin: 'api',
        data: { sourceAccounts: ['INSTORE'], identifierTypes: ['mobile'] },
      },
    ]);
    expect(JSON.stringify(published(bus))).not.toContain(next);
    expect(JSON.stringify(published(bus))).not.toContain(old);
  });

  it('publishes the change of a merged profile from its own item: one event, for its source account', async () => {
    const wechat = `wx-${randomUUID()}`;
    const id = await register(wechatBody(wechat));
    expect((await addCustomer(wechatBody(wechat, 'wx-second'))).body.createdId).toBe(id);
    const cursor = await streamCursor();
    const reply = await updateCustomer(id, { profiles: [{ firstName: 'Li' }] }, { query: { source: 'WECHAT', accountId: 'wx-second' } });
    expect(reply.status).toBe(200);
    const { bus, publish } = publisher();
    await publish(await cursor.next());
    expect(summary(published(bus))).toEqual([
      {
        type: 'customer.updated',
        orgId: ORG,
        customerId: id,
        origin: 'api',
        data: { sourceAccounts: ['WECHAT#wx-second'], identifierTypes: [] },
      },
    ]);
  });

  it('orders three updates within a fraction of a second by sequence, each at the millisecond it was written', async () => {
    const id = await register(mobileBody());
    const cursor = await streamCursor();
    const sent: number[] = [];
    for (const firstName of ['Ana', 'Anaïs', 'Anouk']) {
      sent.push(Date.now());
      expect((await updateCustomer(id, { profiles: [{ firstName }] })).status).toBe(200);
    }
    sent.push(Date.now());
    const { bus, publish } = publisher();
    await publish(await cursor.next());
    const updates = published(bus).filter((e) => e.type === 'customer.updated');
    expect(updates.map((e) => e.sequence)).toEqual([2, 3, 4]);
    // Not rounded to the minute or the second: each time lies between its request's start and the next one's.
    updates.forEach((event, i) => {
      const at = Date.parse(event.occurredAt);
      expect(at).toBeGreaterThanOrEqual(sent[i]);
      expect(at).toBeLessThanOrEqual(sent[i + 1]);
    });
    expect(new Set(updates.map((e) => e.occurredAt)).size).toBe(3);
  });

  it('publishes one customer.erased for an erase, and nothing for the profile and identifier items it deletes', async () => {
    const wechat = `wx-${randomUUID()}`;
    const id = await register(wechatBody(wechat));
    await addCustomer(wechatBody(wechat, 'wx-second'));
    const cursor = await streamCursor();
    expect((await eraseCustomer(id)).status).toBe(200);
    const records = await cursor.next();
    expect(ofCustomers(records).map((r) => [r.eventName, keyOf(r).sk])).toEqual([
      ['MODIFY', 'CUSTOMER'],
      ['REMOVE', 'PROFILE#WECHAT#wx-second'],
    ]);
    const { bus, publish } = publisher({ events: { full: true } });
    await publish(records);
    // It names what it removed (source accounts and types, from the customer as the erase read it), no values.
    expect(summary(published(bus))).toEqual([
      {
        type: 'customer.erased',
        orgId: ORG,
        customerId: id,
        origin: 'api',
        data: { sourceAccounts: ['WECHAT#wx-main', 'WECHAT#wx-second'], identifierTypes: ['wechat'] },
      },
    ]);
    // A full event of an erase carries no document: the tombstone has no personal data to show.
    expect(published(bus)[0].data).not.toHaveProperty('customer');
    expect(JSON.stringify(published(bus))).not.toContain(wechat);
  });
});
