// The events the service tells the rest of a brand's stack (SPEC section 10): a versioned
// envelope around thin data, or the customer document when the org opts in to full events.

import type { Origin } from '../customer';

export type { Origin };

export const EVENT_TYPES = [
  'customer.created',
  'customer.merged',
  'customer.updated',
  'customer.identifiers_changed',
  'customer.erased',
  'customer.unmerged',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const EVENT_VERSION = 1;

export interface CustomerEvent {
  /** Stable for one change: a redelivered stream record gives the same id (the webhook-id). */
  id: string;
  type: EventType;
  version: typeof EVENT_VERSION;
  orgId: number;
  customerId: number;
  /** When the change was written, to the millisecond, as the write recorded it on the item (ISO 8601). */
  occurredAt: string;
  origin: Origin;
  /** The customer's version after the change: strictly increasing per customer, to order its events by. */
  sequence: number;
  data: EventData;
}

/** Thin data: what changed, without names or identifier values. */
export interface ThinData {
  /** The source accounts affected, `SOURCE` or `SOURCE#account`. */
  sourceAccounts: string[];
  /** The identifier types affected. */
  identifierTypes: string[];
  /** `customer.merged` of an explicit merge (SPEC section 15): the customer merged in. */
  victimId?: number;
  /** `customer.unmerged`: the customer the profile left and the one it went to. */
  fromId?: number;
  toId?: number;
  /** With full events: the customer as GET /v2/customers/{id} returns it. */
  customer?: unknown;
  /** With full events: true when the document was left out, the event being too large with it (read the customer). */
  documentOmitted?: true;
}

export type EventData = ThinData;

/** One webhook to deliver: the subscription is looked up when sending, so secrets stay in the org's configuration. */
export interface WebhookDelivery {
  orgId: number;
  subscriptionId: string;
  event: CustomerEvent;
}
