import { readFileSync } from 'node:fs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { DeleteTableCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { handler } from '../../handlers/addCustomer';
import { customerDocument } from '../../lib/api/customerDocument';
import { publishRecords, type PublisherPorts } from '../../lib/api/publishEvents';
import { EVENT_TYPES, type CustomerEvent, type WebhookDelivery } from '../../lib/events/event';
import { eventsOf } from '../../lib/events/translate';
import type { OrgConfig, OrgFile, WebhookSubscription } from '../../lib/org';
import { SqsDeliveryQueue, type DeliveryQueue } from '../../lib/ports/deliveryQueue';
import { EventBridgeBus, type EventBus } from '../../lib/ports/eventBus';
import { documentClient } from '../../lib/store/client';
import { loadCustomer } from '../../lib/store/customers';
import { getOrgConfig, saveOrg } from '../../lib/store/orgs';
import { changeOf, type StreamRecord } from '../../lib/store/stream';
import { DEMO_ORGS_FILE } from '../../scripts/loadOrgs';
import { ensureTable } from '../../scripts/table';
import { streamCursor } from '../../test/support/stream';
import { awsStub, type AwsStub } from '../support/awsStub';
import { ms, ratioOf, spread, timing, type Figure, type Section, type Spread } from '../support/report';
import { mergeBody, newIdentity, send, typicalBody, type Handler, type Identity } from '../support/requests';
import { countRoundTrips, describeCounts, type Counts, type RoundTripCounter } from '../support/roundTrips';

// The event publisher (SPEC section 10) per event: N typical registrations of org 100 and a
// merge for every tenth customer, through the real handler against a table made with the stream
// (as serverless.yml makes it); the stream's records read back as Lambda hands them
// over (the event source filter applied, batches of 100), then `publishRecords` over them with
// the service's own EventBridgeBus and SqsDeliveryQueue on SDK clients that answer in the
// process (support/awsStub.ts), for org 100 with thin and with full events, with one webhook
// subscription and with none. Counted: PutEvents and SendMessageBatch requests, the publisher's
// DynamoDB round trips (on the service's document client), its CPU; against a floor publisher
// doing the same translation with the fewest calls.

const ORG = 100;
const BATCH = 100;
/** EventBridge's and SQS's limits on the entries of one call. */
const PER_CALL = 10;
/**
 * Items a registration writes: a typical new customer (customer + 3 identifiers), a merge (the
 * customer item's version + profile + new email + the mobile's re-check).
 */
const ITEMS = { newCustomer: 4, merge: 4 };

const SUBSCRIPTION: WebhookSubscription = {
  id: 'bench',
  url: 'https://hooks.example.com/loyalty',
  events: [...EVENT_TYPES],
  secrets: ['whsec_ZGVtbyB3ZWJob29rIHNlY3JldCBvZiBvcmcgMTAwLCBub3Qgc2VjcmV0IQ=='],
};

interface Variant {
  full: boolean;
  webhooks: boolean;
}

const VARIANTS: Variant[] = [
  { full: false, webhooks: false },
  { full: false, webhooks: true },
  { full: true, webhooks: false },
  { full: true, webhooks: true },
];

export interface VariantRun extends Variant {
  /** Entries sent: events (PutEvents) and webhook deliveries (SendMessageBatch). */
  events: number;
  deliveries: number;
  /** The publisher's DynamoDB commands and HTTP requests in a pass of a new instance (empty config cache), and in a later pass. */
  cold: { commands: Counts; httpRequests: number };
  warm: Counts;
  /** The publisher's requests to EventBridge and SQS in one pass, and the largest request bodies. */
  calls: Counts;
  largestBytes: Counts;
  floorCalls: Counts;
  floorCommands: Counts;
  /** CPU per event in ms, over the passes. */
  cpu: Spread;
  floorCpu: Spread;
}

export interface EventPublisherCost {
  customers: number;
  merges: number;
  /** Stream records of the registrations, all (by `eventName entity`), and those the event source filter passes. */
  streamRecords: Counts;
  handed: number;
  batches: number;
  passes: number;
  runs: VariantRun[];
}

/** The event source mapping's filter (serverless.yml): customer items and merged profile items. */
function passesFilter(record: StreamRecord): boolean {
  const sk = (record.dynamodb?.Keys as Record<string, { S?: string }> | undefined)?.sk?.S ?? '';
  return sk === 'CUSTOMER' || sk.startsWith('PROFILE#');
}

function entityOf(record: StreamRecord): string {
  const image = record.dynamodb?.NewImage ?? record.dynamodb?.OldImage;
  const entity = image ? unmarshall(image as Record<string, AttributeValue>).entity : undefined;
  return `${record.eventName} ${String(entity ?? 'unknown')}`;
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** Org 100 as stored, with the variant's event settings and subscriptions, read through the stage's cached org read. */
function orgPort(variant: Variant): (orgId: number) => Promise<OrgConfig | undefined> {
  return async (orgId) => {
    const stored = await getOrgConfig(orgId);
    if (!stored) return undefined;
    const { webhooks: _webhooks, events: _events, ...rest } = stored;
    return { ...rest, events: { full: variant.full }, ...(variant.webhooks ? { webhooks: [SUBSCRIPTION] } : {}) };
  };
}

/**
 * The floor: the same translation (`changeOf`, `eventsOf`), the org read once per batch, the
 * customer of full events read once per customer per batch (at publishing time, as the README
 * says), and the batch's events and deliveries sent 10 to a call.
 */
async function floorPublish(
  batch: StreamRecord[],
  ports: { bus: EventBus; deliveries: DeliveryQueue; org: (orgId: number) => Promise<OrgConfig | undefined> },
): Promise<void> {
  const events: CustomerEvent[] = [];
  const configs = new Map<number, OrgConfig | undefined>();
  const documents = new Map<string, unknown>();
  for (const record of batch) {
    const change = changeOf(record);
    if (!change) continue;
    const made = eventsOf(change);
    if (made.length === 0) continue;
    if (!configs.has(change.orgId)) configs.set(change.orgId, await ports.org(change.orgId));
    const config = configs.get(change.orgId);
    if (config?.events?.full) {
      const key = `${change.orgId}/${change.customerId}`;
      if (!documents.has(key)) {
        const customer = await loadCustomer(change.orgId, change.customerId);
        documents.set(key, customer ? customerDocument(customer, config) : undefined);
      }
      const document = documents.get(key);
      if (document !== undefined) for (const event of made) event.data.customer = document;
    }
    events.push(...made);
  }
  if (events.length === 0) return;
  await ports.bus.publish(events);
  const deliveries: WebhookDelivery[] = [];
  for (const event of events) {
    for (const subscription of configs.get(event.orgId)?.webhooks ?? []) {
      if (!subscription.events.includes(event.type)) continue;
      if (event.origin === 'import' && !subscription.includeImports) continue;
      deliveries.push({ orgId: event.orgId, subscriptionId: subscription.id, event });
    }
  }
  if (deliveries.length > 0) await ports.deliveries.enqueue(deliveries);
}

interface Pass {
  cpuMs: number;
  commands: Counts;
  httpRequests: number;
  calls: Counts;
  entries: Counts;
  largestBytes: Counts;
}

async function pass(stub: AwsStub, counter: RoundTripCounter, inspect: boolean, run: () => Promise<void>): Promise<Pass> {
  counter.reset();
  stub.reset();
  stub.inspect = inspect;
  const start = process.cpuUsage();
  await run();
  const used = process.cpuUsage(start);
  const counts = stub.counts();
  return {
    cpuMs: (used.user + used.system) / 1000,
    commands: counter.commands(),
    httpRequests: counter.httpRequests(),
    calls: counts.calls,
    entries: counts.entries,
    largestBytes: counts.largestBytes,
  };
}

/** Empties the process's org configuration cache, as a new publisher instance has it: org 100 saved again (unchanged). */
async function newInstanceCache(): Promise<void> {
  await saveOrg(demoOrg());
}

/** Org 100 as the demo file has it. */
function demoOrg(): OrgFile {
  const orgs = JSON.parse(readFileSync(DEMO_ORGS_FILE, 'utf8')) as OrgFile[];
  return orgs.find((o) => o.orgId === ORG)!;
}

interface Options {
  customers: number;
  mergeEvery: number;
  passes: number;
}

/**
 * On a table of its own made with the stream (`ensureTable(…, { stream: true })`, as
 * serverless.yml makes the table), with org 100 loaded, deleted afterwards: DynamoDB Local's
 * writes to tables with a stream slow down, more as streams accumulate, which would tell
 * against the handler in the throughput figures, whose raw writes go to a table without one.
 */
export async function measureEventPublisher(raw: DynamoDBClient, options: Options): Promise<EventPublisherCost> {
  const benchTable = process.env.TABLE_NAME!;
  const table = `${benchTable}-events`;
  await ensureTable(raw, table, { stream: true });
  process.env.TABLE_NAME = table;
  try {
    await saveOrg(demoOrg());
    return await publisherFigures(options);
  } finally {
    process.env.TABLE_NAME = benchTable;
    await raw.send(new DeleteTableCommand({ TableName: table }));
  }
}

async function publisherFigures(options: Options): Promise<EventPublisherCost> {
  // Registrations, and their stream records.
  const cursor = await streamCursor();
  const identities: { identity: Identity; id: number }[] = [];
  for (let i = 0; i < options.customers; i++) {
    const identity = newIdentity();
    const reply = await send(handler as Handler, typicalBody(identity));
    if (reply.status !== 200) throw new Error(`event publisher: registration ${reply.status} ${JSON.stringify(reply.body)}`);
    identities.push({ identity, id: reply.body.createdId });
  }
  let merges = 0;
  for (let i = options.mergeEvery - 1; i < identities.length; i += options.mergeEvery) {
    const reply = await send(handler as Handler, mergeBody(identities[i].identity));
    if (reply.status !== 200 || reply.body.createdId !== identities[i].id)
      throw new Error(`event publisher: merge ${reply.status} ${JSON.stringify(reply.body)}`);
    merges += 1;
  }
  const records = (await cursor.next()) as StreamRecord[];
  const streamRecords: Counts = {};
  for (const record of records) streamRecords[entityOf(record)] = (streamRecords[entityOf(record)] ?? 0) + 1;
  const handed = records.filter(passesFilter);
  // A merge hands over two records: its profile item (customer.merged) and the customer item,
  // whose version it raised (no event).
  if (handed.length !== options.customers + 2 * merges)
    throw new Error(`event publisher: ${handed.length} records passed the filter for ${options.customers} customers and ${merges} merges`);
  const expectedEvents = options.customers + merges;
  const batches = chunks(handed, BATCH);

  const stub = awsStub();
  const bus = new EventBridgeBus('bench-bus', stub.eventBridge);
  const deliveries = new SqsDeliveryQueue('https://sqs.us-east-1.amazonaws.com/123456789012/bench-webhooks', stub.sqs);
  const counter = countRoundTrips(documentClient());
  const publisher = (variant: Variant) => {
    const ports: PublisherPorts = { bus, deliveries, org: orgPort(variant) };
    return async () => {
      for (const batch of batches) {
        const result = await publishRecords(batch, ports);
        if (result.batchItemFailures.length > 0) throw new Error(`event publisher: failed at ${JSON.stringify(result.batchItemFailures)}`);
      }
    };
  };
  const floor = (variant: Variant) => {
    const ports = { bus, deliveries, org: orgPort(variant) };
    return async () => {
      for (const batch of batches) await floorPublish(batch, ports);
    };
  };
  try {
    // Warm-up: the SDK clients' first requests and the code of both paths.
    await publisher({ full: true, webhooks: true })();
    await floor({ full: true, webhooks: true })();

    const runs: VariantRun[] = [];
    for (const variant of VARIANTS) {
      const measured: Pass[] = [];
      const floors: Pass[] = [];
      for (let i = 0; i < options.passes; i++) {
        if (i === 0) await newInstanceCache();
        measured.push(await pass(stub, counter, i === 0, publisher(variant)));
        floors.push(await pass(stub, counter, i === 0, floor(variant)));
      }
      const [first] = measured;
      const events = first.entries.PutEvents ?? 0;
      const queued = first.entries.SendMessageBatch ?? 0;
      if (events !== expectedEvents)
        throw new Error(`event publisher: ${events} events for ${handed.length} records (${expectedEvents} expected)`);
      if ((floors[0].entries.PutEvents ?? 0) !== events || (floors[0].entries.SendMessageBatch ?? 0) !== queued)
        throw new Error('event publisher: the floor sent other entries than the publisher');
      runs.push({
        ...variant,
        events,
        deliveries: queued,
        cold: { commands: first.commands, httpRequests: first.httpRequests },
        warm: measured[1]?.commands ?? first.commands,
        calls: first.calls,
        largestBytes: first.largestBytes,
        floorCalls: floors[0].calls,
        floorCommands: floors[0].commands,
        cpu: spread(measured.map((p) => p.cpuMs / events)),
        floorCpu: spread(floors.map((p) => p.cpuMs / events)),
      });
    }
    return {
      customers: options.customers,
      merges,
      streamRecords,
      handed: handed.length,
      batches: batches.length,
      passes: options.passes,
      runs,
    };
  } finally {
    counter.detach();
  }
}

/** `0.100`, `1`: per-event shares to three decimals, whole numbers as they are. */
function share(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

const n = (counts: Counts, name: string) => counts[name] ?? 0;
const totalOf = (counts: Counts) => Object.values(counts).reduce((s, v) => s + v, 0);

export function eventPublisherSection(cost: EventPublisherCost, registration: { newCustomer: number; merge: number }): Section {
  const run = (full: boolean, webhooks: boolean) => cost.runs.find((r) => r.full === full && r.webhooks === webhooks)!;
  const thin = run(false, true);
  const full = run(true, true);
  const kind = (r: VariantRun) => (r.full ? 'full' : 'thin');
  /** Org config reads a new instance may make: one per org (all of org 100 here), then cached for 60 s. */
  const orgs = 1;

  const dynamo = (r: VariantRun): Figure => {
    const configReads = n(r.cold.commands, 'GetItem');
    const others = totalOf(r.cold.commands) - configReads;
    const floorReads = totalOf(r.floorCommands) - n(r.floorCommands, 'GetItem');
    const value = r.cold.httpRequests / r.events;
    const floor = (floorReads + orgs) / r.events;
    return {
      group: 'events',
      name: `events / DynamoDB round trips per event, ${kind(r)}`,
      value: `${share(value)} (${describeCounts(r.cold.commands)} for ${r.events} events)`,
      floor: r.full ? `${share(floor)} (${floorReads} Query + ≤ ${orgs} org read)` : `0 + ≤ ${orgs} org read per 60 s`,
      ratio: ratioOf(value, floor),
      target: '≤ floor',
      met: others <= floorReads && configReads <= orgs && r.cold.httpRequests === totalOf(r.cold.commands),
      note:
        `a new publisher instance (the org cache emptied first) publishing the ${r.events} records in ${cost.batches} batches of up to ${BATCH}: ${describeCounts(r.cold.commands)}; a later pass within the cache's 60 s: ${describeCounts(r.warm)}. ` +
        (r.full
          ? `Full events read the customer (one Query of its partition) for every record. Floor: the customer as GET /v2/customers/{id} shows it at publishing time needs one read per customer per batch (${floorReads} for these batches${floorReads === r.events ? ': no customer has two records in one batch' : ''}), plus the org's configuration once per org per instance per 60 s (CONFIG_CACHE_SECONDS), ${orgs} here.`
          : 'Floor: a thin event is made from the stream record alone; the only read is the org configuration (its subscriptions and event settings), once per org per instance per 60 s (CONFIG_CACHE_SECONDS), then from the cache; ratio against that one read shared by this run.'),
    };
  };

  const putEvents = (r: VariantRun): Figure => {
    const calls = n(r.calls, 'PutEvents');
    const floorCalls = n(r.floorCalls, 'PutEvents');
    return {
      group: 'events',
      name: `events / PutEvents calls per event, ${kind(r)}`,
      value: `${share(calls / r.events)} (${calls} for ${r.events} events)`,
      floor: `${share(floorCalls / r.events)} (${PER_CALL} entries a call)`,
      ratio: ratioOf(calls, floorCalls),
      target: '≤ floor',
      met: calls <= floorCalls,
      note:
        `requests of EventBridgeBus (lib/ports/eventBus.ts) on an EventBridge client of the SDK answering in the process, in one pass; the largest request ${ms(n(r.largestBytes, 'PutEvents') / 1024)} KiB (PutEvents takes up to 256 KiB). ` +
        `Floor: one entry per event, ${PER_CALL} entries a call, per batch of ${BATCH} records: ${floorCalls} calls, sent by the floor publisher (below) with the same events.`,
      evidence: { calls, floorCalls, events: r.events, full: r.full ? 1 : 0 },
    };
  };

  const sqs = (r: VariantRun): Figure => {
    const calls = n(r.calls, 'SendMessageBatch');
    const floorCalls = n(r.floorCalls, 'SendMessageBatch');
    return {
      group: 'events',
      name: `events / SQS calls per event, one webhook subscription, ${kind(r)}`,
      value: `${share(calls / r.events)} (${calls} SendMessageBatch for ${r.deliveries} deliveries)`,
      floor: `${share(floorCalls / r.events)} (${PER_CALL} messages a call)`,
      ratio: ratioOf(calls, floorCalls),
      target: '≤ floor',
      met: calls <= floorCalls,
      note:
        `org 100 with one subscription to every event type (passed through the \`org\` port as a \`webhooks\` entry): one delivery per event, queued by SqsDeliveryQueue (lib/ports/deliveryQueue.ts) on an SQS client of the SDK answering in the process; the largest request ${ms(n(r.largestBytes, 'SendMessageBatch') / 1024)} KiB. ` +
        `Floor: the batch's deliveries ${PER_CALL} to a call: ${floorCalls} calls.`,
      evidence: { calls, floorCalls, events: r.events, deliveries: r.deliveries, full: r.full ? 1 : 0 },
    };
  };

  const none = cost.runs.filter((r) => !r.webhooks);
  const noneCalls = none.reduce((s, r) => s + n(r.calls, 'SendMessageBatch'), 0);
  const noWebhooks: Figure = {
    group: 'events',
    name: 'events / SQS calls per event, no webhook subscription',
    value: `${noneCalls} (thin and full)`,
    floor: '0',
    ratio: ratioOf(noneCalls, 0),
    target: '= floor',
    met: noneCalls === 0,
    note: `org 100 without \`webhooks\`, requests in one pass: ${none.map((r) => `${kind(r)} ${describeCounts(r.calls)}`).join('; ')}; no delivery is queued, and the SQS client is not called. Floor: no subscription, nothing to queue.`,
  };

  const cpu = (r: VariantRun): Figure => {
    const without = run(r.full, false);
    return {
      group: 'events',
      name: `events / publisher CPU per event, ${kind(r)}`,
      value: timing(r.cpu),
      floor: timing(r.floorCpu),
      ratio: r.cpu.median / r.floorCpu.median,
      target: '≤ 1.5',
      met: r.cpu.median / r.floorCpu.median <= 1.5,
      note:
        `process CPU (user + system) of \`publishRecords\` over the ${cost.batches} batches, ÷ ${r.events} events, ${cost.passes} passes (the first one with an empty org cache), org 100 with one webhook subscription; without one: ${timing(without.cpu)} against ${timing(without.floorCpu)}. ` +
        `Includes the SDK's building and signing of each EventBridge and SQS request${r.full ? ', the DynamoDB Query of the customer and its reading' : ''}; the answers come from the process (support/awsStub.ts, whose parsing and MD5s of the SQS messages count in both). Floor: the floor publisher on the same batches, same stub.`,
      evidence: {
        cpu: r.cpu.median,
        floor: r.floorCpu.median,
        calls: n(r.calls, 'PutEvents') + n(r.calls, 'SendMessageBatch'),
        floorCalls: n(r.floorCalls, 'PutEvents') + n(r.floorCalls, 'SendMessageBatch'),
        full: r.full ? 1 : 0,
      },
    };
  };

  const rateRecords = Object.entries(cost.streamRecords)
    .filter(([key]) => key.endsWith(' rateWindow'))
    .reduce((s, [, v]) => s + v, 0);
  const written = totalOf(cost.streamRecords) - rateRecords;
  const own = cost.customers * ITEMS.newCustomer + cost.merges * ITEMS.merge;
  const extra = written - own;
  const outbox: Figure = {
    group: 'events',
    name: 'events / items written per registration beyond its own (the stream is the outbox)',
    value: share(extra / (cost.customers + cost.merges)),
    floor: '0',
    ratio: ratioOf(extra, 0),
    target: '= floor',
    met: extra === 0,
    note:
      `the stream records of the ${cost.customers} typical registrations and ${cost.merges} merges: ${describeCounts(cost.streamRecords)}; ${written} items besides the rate counter, against ${own} that the registrations write (${ITEMS.newCustomer} per new customer: the customer and its mobile, email and externalId; ${ITEMS.merge} per merge: the customer item's version, the profile, the new email and the mobile's re-check). ` +
      `${extra === 0 ? 'Nothing else is written, so registration write units are unchanged by events' : 'Registration writes more than its own items'}: ${registration.newCustomer} WRU for a typical new customer and ${registration.merge} for a merge (write units above, computed from the items the handler sends, which the stream does not change).`,
  };

  const sameWithout = [false, true].every((f) => {
    const [a, b] = [run(f, true), run(f, false)];
    return describeCounts(a.cold.commands) === describeCounts(b.cold.commands) && n(a.calls, 'PutEvents') === n(b.calls, 'PutEvents');
  });
  return {
    title: 'Event publisher cost per event',
    figures: [dynamo(thin), dynamo(full), putEvents(thin), putEvents(full), sqs(thin), sqs(full), noWebhooks, cpu(thin), cpu(full), outbox],
    notes: [
      `Method: ${cost.customers} typical registrations of org 100 and a merge into every ${Math.round(cost.customers / Math.max(1, cost.merges))}th customer (a WEBSITE profile with its mobile and a new email) through the real handler, one after another, into a table of this DynamoDB Local made for this figure with the stream (\`ensureTable(…, { stream: true })\` of scripts/table.ts, as serverless.yml makes the table; deleted afterwards, since DynamoDB Local's writes to tables with a stream slow down, more as streams accumulate, which would tell against the handler in the throughput figures, whose raw writes go to a table without one); the table's stream read back from DynamoDB Local as Lambda hands records over (test/support/stream.ts), the event source filter of serverless.yml applied (customer and profile items: ${cost.handed} records) and cut into batches of ${BATCH}. ` +
        "`publishRecords` (lib/api/publishEvents.ts) then publishes them with the service's EventBridgeBus and SqsDeliveryQueue, their SDK clients answering in the process (every request still serialised and signed, and counted by operation), and an `org` port that reads org 100 through the stage's cached read (`getOrgConfig`) and sets its `events` and `webhooks`. " +
        `The thin and full figures are for org 100 with one webhook subscription; ${sameWithout ? 'DynamoDB round trips and PutEvents calls were the same without one' : 'without one, DynamoDB round trips or PutEvents calls differed: see the runs'}.`,
      "The floor publisher (bench/figures/eventPublisher.ts, `floorPublish`) does the same translation (`changeOf`, `eventsOf`) with the fewest calls: per batch, the org's configuration once, for full events each customer's document once, then all the batch's events 10 to a PutEvents call and their deliveries 10 to a SendMessageBatch call. It sends the same events and deliveries as the publisher (checked).",
    ],
  };
}
