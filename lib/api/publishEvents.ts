// The stream publisher's use case (SPEC sections 10 and 15): a batch of the table's stream
// records, in order, becomes entries of the customers' histories, events on the stage's bus and
// webhook deliveries for the org's subscriptions.
// A record that fails stops the batch there and is reported (for a failed send: the first record
// of the send), so Lambda retries from it and the order of one customer's events holds; events
// already published for it are published again with the same ids (at least once).

import type { CustomerEvent, WebhookDelivery } from '../events/event';
import { eventsOf } from '../events/translate';
import { historyOf, isErasure, type KeyedEntry } from '../history/entries';
import { log } from '../log';
import type { OrgConfig } from '../org';
import type { EventBus } from '../ports/eventBus';
import type { DeliveryQueue } from '../ports/deliveryQueue';
import { loadCustomer } from '../store/customers';
import { deleteHistory, writeHistory } from '../store/history';
import { getOrgConfig } from '../store/orgs';
import { changeOf, type StreamRecord } from '../store/stream';
import { customerDocument } from './customerDocument';

export interface PublisherPorts {
  bus: EventBus;
  deliveries: DeliveryQueue;
  org?: (orgId: number) => Promise<OrgConfig | undefined>;
  /** The customer as GET /v2/customers/{id} shows it, for full events. */
  document?: (org: OrgConfig, customerId: number) => Promise<unknown>;
  /** Where the customers' histories are written; the table's by default. */
  history?: HistoryPort;
}

export interface HistoryPort {
  write(orgId: number, customerId: number, entries: KeyedEntry[]): Promise<unknown>;
  erase(orgId: number, customerId: number): Promise<unknown>;
}

const tableHistory: HistoryPort = { write: writeHistory, erase: deleteHistory };

export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export async function publishRecords(records: StreamRecord[], ports: PublisherPorts): Promise<BatchResponse> {
  const org = ports.org ?? getOrgConfig;
  const document = ports.document ?? defaultDocument;
  const history = ports.history ?? tableHistory;
  // The events and deliveries of the records read since the last send, sent together: ten to a
  // PutEvents or SendMessageBatch call rather than a call per record.
  let pending: { record: StreamRecord; events: CustomerEvent[]; deliveries: WebhookDelivery[] }[] = [];
  const failedAt = (record: StreamRecord, error: unknown): BatchResponse => {
    log.error('event publishing failed; the stream retries from this record', {
      sequenceNumber: record.dynamodb?.SequenceNumber,
      error: error as Error,
    });
    return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
  };
  /** Sends what is pending; on a failure, the first pending record is where the stream resumes. */
  const send = async (): Promise<BatchResponse | undefined> => {
    if (pending.length === 0) return undefined;
    try {
      await ports.bus.publish(pending.flatMap((p) => p.events));
      const deliveries = pending.flatMap((p) => p.deliveries);
      if (deliveries.length > 0) await ports.deliveries.enqueue(deliveries);
      pending = [];
      return undefined;
    } catch (error) {
      return failedAt(pending[0].record, error);
    }
  };
  for (const record of records) {
    let events: CustomerEvent[];
    let config: OrgConfig | undefined;
    try {
      const change = changeOf(record);
      if (!change) continue;
      // The history first (SPEC section 15): a failure stops here, and the retry writes the same entries.
      if (isErasure(change)) {
        // Its victims' journals too: their tombstones are erased in the same transaction, and tell it in their own records.
        await history.erase(change.orgId, change.customerId);
      } else {
        const entries = historyOf(change);
        if (entries.length > 0) await history.write(change.orgId, change.customerId, entries);
      }
      events = eventsOf(change);
      if (events.length === 0) continue;
      config = await org(change.orgId);
      if (config?.events?.full) {
        const customer = await document(config, change.customerId);
        for (const event of events) if (customer !== undefined) withDocument(event, customer);
      }
    } catch (error) {
      // What was read before this record goes out first, so the stream resumes at this one.
      return (await send()) ?? failedAt(record, error);
    }
    pending.push({ record, events, deliveries: deliveriesFor(config, events) });
  }
  return (await send()) ?? { batchItemFailures: [] };
}

/**
 * The largest event sent with its document: EventBridge takes at most 256 KB per entry and SQS per
 * message (the delivery wraps the event). A larger document would fail every retry and stop the
 * customer's stream, so that event goes out thin, saying so; the subscriber reads the customer.
 */
export const MAX_EVENT_BYTES = 200 * 1024;

function withDocument(event: CustomerEvent, customer: unknown): void {
  event.data.customer = customer;
  if (Buffer.byteLength(JSON.stringify(event)) <= MAX_EVENT_BYTES) return;
  delete event.data.customer;
  event.data.documentOmitted = true;
  log.warn('event sent without its customer document: too large', { eventId: event.id, customerId: event.customerId });
}

function deliveriesFor(org: OrgConfig | undefined, events: CustomerEvent[]): WebhookDelivery[] {
  const deliveries: WebhookDelivery[] = [];
  for (const subscription of org?.webhooks ?? []) {
    for (const event of events) {
      if (!subscription.events.includes(event.type)) continue;
      if (event.origin === 'import' && !subscription.includeImports) continue;
      deliveries.push({ orgId: event.orgId, subscriptionId: subscription.id, event });
    }
  }
  return deliveries;
}

async function defaultDocument(org: OrgConfig, customerId: number): Promise<unknown> {
  const customer = await loadCustomer(org.orgId, customerId);
  // An erased customer's events carry no document: a tombstone has no personal data to show.
  return customer && customer.activity === 'ACTIVE' ? customerDocument(customer, org) : undefined;
}
