// Where events go for the rest of a brand's stack: the stage's EventBridge bus in AWS (other
// teams subscribe with rules of their own), log lines locally, kept in memory in tests.

import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { CustomerEvent } from '../events/event';
import { awsRegion, eventBusName } from '../config';
import { log } from '../log';
import { batchesBySize } from './batches';

export interface EventBus {
  /** Publishes every event or throws (a partial failure throws too: the record is retried, ids are stable). */
  publish(events: CustomerEvent[]): Promise<void>;
}

/** EventBridge's limits on one PutEvents call: 10 entries, and 256 KB together (kept under, with room for rounding). */
const ENTRIES_PER_CALL = 10;
const BYTES_PER_CALL = 240 * 1024;
export const EVENT_SOURCE = 'loyalty-customers';

export class EventBridgeBus implements EventBus {
  constructor(
    private readonly busName: string,
    private readonly client = new EventBridgeClient({ region: awsRegion() }),
  ) {}

  async publish(events: CustomerEvent[]): Promise<void> {
    const all: PutEventsRequestEntry[] = events.map((event) => ({
      EventBusName: this.busName,
      Source: EVENT_SOURCE,
      DetailType: event.type,
      Detail: JSON.stringify(event),
      Time: new Date(event.occurredAt),
    }));
    for (const entries of batchesBySize(all, entrySize, { count: ENTRIES_PER_CALL, bytes: BYTES_PER_CALL })) {
      const result = await this.client.send(new PutEventsCommand({ Entries: entries }));
      if (result.FailedEntryCount) {
        const failed = result.Entries?.find((entry) => entry.ErrorCode);
        throw new Error(`EventBridge refused ${result.FailedEntryCount} events: ${failed?.ErrorCode} ${failed?.ErrorMessage ?? ''}`);
      }
    }
  }
}

/** An entry's size as EventBridge counts it: its strings' UTF-8 bytes, and 14 for the time. */
export function entrySize(entry: PutEventsRequestEntry): number {
  return (
    Buffer.byteLength(entry.Source ?? '') +
    Buffer.byteLength(entry.DetailType ?? '') +
    Buffer.byteLength(entry.Detail ?? '') +
    (entry.Resources ?? []).reduce((sum, resource) => sum + Buffer.byteLength(resource), 0) +
    (entry.Time ? 14 : 0)
  );
}

/** Locally: one log line per event, and nothing kept (an import publishes an event per line, millions of them). */
export class LogBus implements EventBus {
  async publish(events: CustomerEvent[]): Promise<void> {
    for (const event of events) {
      log.info('event', { eventId: event.id, type: event.type, orgId: event.orgId, customerId: event.customerId, origin: event.origin });
    }
  }
}

/** In tests: every event kept in `published`, and logged. */
export class MemoryBus extends LogBus {
  readonly published: CustomerEvent[] = [];

  override async publish(events: CustomerEvent[]): Promise<void> {
    this.published.push(...events);
    await super.publish(events);
  }
}

let configured: EventBus | undefined;

/** The stage's bus: EventBridge when EVENT_BUS_NAME is set, else log lines. */
export function stageBus(): EventBus {
  const name = eventBusName();
  configured ??= name ? new EventBridgeBus(name) : new LogBus();
  return configured;
}
