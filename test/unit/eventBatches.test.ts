import type { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { MAX_EVENT_BYTES, publishRecords } from '../../lib/api/publishEvents';
import type { CustomerEvent } from '../../lib/events/event';
import type { OrgConfig } from '../../lib/org';
import { EventBridgeBus, entrySize, MemoryBus } from '../../lib/ports/eventBus';
import { planCreateCustomer } from '../../lib/store/plans';
import type { StreamRecord } from '../../lib/store/stream';
import { marshall } from '@aws-sdk/util-dynamodb';
import { profile, registration } from './registrations';

// SPEC section 10 at the edges of EventBridge: PutEvents takes at most 10 entries and 256 KB
// per call, so events go out in calls bounded by both; an event too large to send with its
// customer document goes out without it, saying so, rather than failing every retry.

const KB = 1024;

function eventOf(n: number, documentBytes: number): CustomerEvent {
  return {
    id: `evt_${n}`,
    type: 'customer.updated',
    version: 1,
    orgId: 100,
    customerId: 1000 + n,
    occurredAt: '2026-12-01T10:00:00.123Z',
    origin: 'api',
    sequence: 2,
    data: { sourceAccounts: ['INSTORE'], identifierTypes: [], customer: { notes: 'x'.repeat(documentBytes) } },
  };
}

/** A bus whose client records each PutEvents call and accepts every entry. */
function recordingBus() {
  const calls: PutEventsCommand['input'][] = [];
  const client = new EventBridgeClient({ region: 'eu-west-1' });
  jest.spyOn(client, 'send').mockImplementation((async (command: PutEventsCommand) => {
    calls.push(command.input);
    return { FailedEntryCount: 0, Entries: command.input.Entries!.map(() => ({ EventId: 'x' })) };
  }) as never);
  return { bus: new EventBridgeBus('loyalty-events', client), calls };
}

describe('PutEvents calls', () => {
  test('hold at most 10 small events each, in order', async () => {
    const { bus, calls } = recordingBus();
    const events = Array.from({ length: 23 }, (_, n) => eventOf(n, 10));
    await bus.publish(events);
    expect(calls.map((c) => c.Entries!.length)).toEqual([10, 10, 3]);
    expect(calls.flatMap((c) => c.Entries!.map((e) => JSON.parse(e.Detail!).id))).toEqual(events.map((e) => e.id));
  });

  test('stay under 256 KB together when full events are large, none left out', async () => {
    const { bus, calls } = recordingBus();
    const events = Array.from({ length: 10 }, (_, n) => eventOf(n, 60 * KB));
    await bus.publish(events);
    expect(calls.length).toBeGreaterThan(1);
    for (const call of calls) {
      expect(call.Entries!.reduce((sum, entry) => sum + entrySize(entry), 0)).toBeLessThanOrEqual(256 * KB);
    }
    expect(calls.flatMap((c) => c.Entries!)).toHaveLength(10);
  });

  test('count an entry as EventBridge does: source, detail type, detail and 14 bytes for the time', () => {
    expect(entrySize({ Source: 'abc', DetailType: 'de', Detail: '{"é":1}', Time: new Date() })).toBe(3 + 2 + 8 + 14);
  });
});

describe('an event too large to send with its customer document', () => {
  const orgWithFullEvents = { orgId: 100, events: { full: true }, webhooks: [] } as unknown as OrgConfig;

  function insertRecord(): StreamRecord {
    const plan = planCreateCustomer(registration(profile('INSTORE', [{ type: 'mobile', value: '919876543210' }])), 77);
    const item = plan.input.TransactItems![0].Put!.Item as Record<string, unknown>;
    return {
      eventID: 'r1',
      eventName: 'INSERT',
      dynamodb: {
        Keys: marshall({ pk: item.pk, sk: item.sk }),
        NewImage: marshall(item, { removeUndefinedValues: true }),
        SequenceNumber: '1',
        ApproximateCreationDateTime: 1,
      },
    };
  }

  async function publishWithDocumentOf(bytes: number): Promise<CustomerEvent> {
    const bus = new MemoryBus();
    const result = await publishRecords([insertRecord()], {
      bus,
      deliveries: { enqueue: async () => undefined },
      org: async () => orgWithFullEvents,
      document: async () => ({ id: 77, notes: 'y'.repeat(bytes) }),
      history: { write: async () => undefined, erase: async () => undefined },
    });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(bus.published).toHaveLength(1);
    return bus.published[0];
  }

  test('goes out without the document, saying so, instead of failing every retry', async () => {
    const event = await publishWithDocumentOf(MAX_EVENT_BYTES + KB);
    expect(event.data.customer).toBeUndefined();
    expect(event.data.documentOmitted).toBe(true);
    expect(event).toMatchObject({ type: 'customer.created', customerId: 77, sequence: 1 });
  });

  test('keeps a document that fits', async () => {
    const event = await publishWithDocumentOf(100 * KB);
    expect(event.data.customer).toMatchObject({ id: 77 });
    expect(event.data.documentOmitted).toBeUndefined();
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(MAX_EVENT_BYTES);
  });
});

test('the local stage’s bus logs each event and keeps none (an import publishes millions); the tests’ bus keeps them', async () => {
  const { LogBus, stageBus } = await import('../../lib/ports/eventBus');
  const event = { id: 'evt_1', type: 'customer.created', orgId: 100, customerId: 1, origin: 'import' } as never;
  const local = stageBus();
  expect(local).toBeInstanceOf(LogBus);
  expect(local).not.toBeInstanceOf(MemoryBus);
  await local.publish([event, event]);
  expect(Object.values(local).flat()).toEqual([]);
  const kept = new MemoryBus();
  await kept.publish([event]);
  expect(kept.published).toEqual([event]);
});
