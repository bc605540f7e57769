// Where events go for the rest of a brand's stack: the stage's EventBridge bus in AWS (other
// teams subscribe with rules of their own), in memory locally and in tests.

import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { CustomerEvent } from '../events/event';
import { awsRegion, eventBusName } from '../config';
import { log } from '../log';

export interface EventBus {
  /** Publishes every event or throws (a partial failure throws too: the record is retried, ids are stable). */
  publish(events: CustomerEvent[]): Promise<void>;
}

/** EventBridge's limit on the entries of one PutEvents call. */
const ENTRIES_PER_CALL = 10;
export const EVENT_SOURCE = 'loyalty-customers';

export class EventBridgeBus implements EventBus {
  constructor(
    private readonly busName: string,
    private readonly client = new EventBridgeClient({ region: awsRegion() }),
  ) {}

  async publish(events: CustomerEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += ENTRIES_PER_CALL) {
      const entries: PutEventsRequestEntry[] = events.slice(start, start + ENTRIES_PER_CALL).map((event) => ({
        EventBusName: this.busName,
        Source: EVENT_SOURCE,
        DetailType: event.type,
        Detail: JSON.stringify(event),
        Time: new Date(event.occurredAt),
      }));
      const result = await this.client.send(new PutEventsCommand({ Entries: entries }));
      if (result.FailedEntryCount) {
        const failed = result.Entries?.find((entry) => entry.ErrorCode);
        throw new Error(`EventBridge refused ${result.FailedEntryCount} events: ${failed?.ErrorCode} ${failed?.ErrorMessage ?? ''}`);
      }
    }
  }
}

/** Locally: one log line per event, and kept for tests. */
export class MemoryBus implements EventBus {
  readonly published: CustomerEvent[] = [];

  async publish(events: CustomerEvent[]): Promise<void> {
    for (const event of events) {
      this.published.push(event);
      log.info('event', { eventId: event.id, type: event.type, orgId: event.orgId, customerId: event.customerId, origin: event.origin });
    }
  }
}

let configured: EventBus | undefined;

/** The stage's bus: EventBridge when EVENT_BUS_NAME is set, else in memory. */
export function stageBus(): EventBus {
  const name = eventBusName();
  configured ??= name ? new EventBridgeBus(name) : new MemoryBus();
  return configured;
}
