// Every key of the single table and every item's entity tag are spelled here and nowhere else.
// `pk` / `sk` are the table's keys; `expiresAt` (epoch seconds) is its TTL attribute.

export interface Key {
  pk: string;
  sk: string;
}

/** The `entity` attribute of each kind of item. */
export const Entity = {
  org: 'org',
  till: 'till',
  customer: 'customer',
  mergedProfile: 'profile',
  identifier: 'identifier',
  rateWindow: 'rateWindow',
  idempotency: 'idempotency',
  /** A webhook subscription's mark: disabled by a receiver's 410 (lib/store/webhookSubscriptions.ts). */
  webhookSubscription: 'webhookSubscription',
  /** Where the local stage delivers a subscription for now (`npm run webhook-receiver`; lib/store/webhookSubscriptions.ts). */
  localWebhookTarget: 'localWebhookTarget',
  /** An entry of a customer's history (SPEC section 15), written from the table's stream. */
  historyEntry: 'historyEntry',
} as const;
export type Entity = (typeof Entity)[keyof typeof Entity];

const CUSTOMER_SK = 'CUSTOMER';
const MERGED_PROFILE_SK_PREFIX = 'PROFILE#';

const HISTORY_SK_PREFIX = 'E#';
/** A version never reaches 10^12: one write a millisecond for thirty years. */
const SEQUENCE_DIGITS = 12;

function historyPartition(orgId: number, customerId: number): string {
  return `ORG#${orgId}#HISTORY#${customerId}`;
}

/** Whether a sort key can be a history entry's: what a page's cursor must hold. */
export function isHistorySortKey(sk: string): boolean {
  return /^E#\d{12}#[\x20-\x7e]{1,300}$/.test(sk);
}

function customerPartition(orgId: number, customerId: number): string {
  return `ORG#${orgId}#CUSTOMER#${customerId}`;
}

export const keys = {
  org: (orgId: number): Key => ({ pk: `ORG#${orgId}`, sk: 'CONFIG' }),
  till: (username: string): Key => ({ pk: `TILL#${username}`, sk: 'TILL' }),
  customer: (orgId: number, customerId: number): Key => ({ pk: customerPartition(orgId, customerId), sk: CUSTOMER_SK }),
  /** A profile added to an existing customer; the key makes it one per source account. */
  mergedProfile: (orgId: number, customerId: number, sourceAccount: string): Key => ({
    pk: customerPartition(orgId, customerId),
    sk: `${MERGED_PROFILE_SK_PREFIX}${sourceAccount}`,
  }),
  /** The partition holding a customer's item and its merged profiles. */
  customerPartition,
  identifier: (orgId: number, type: string, value: string): Key => ({ pk: `ORG#${orgId}#ID#${type}#${value}`, sk: 'ID' }),
  rateWindow: (orgId: number, windowStart: number): Key => ({ pk: `ORG#${orgId}#RATE#${windowStart}`, sk: 'RATE' }),
  idempotency: (orgId: number, key: string): Key => ({ pk: `ORG#${orgId}#IDEMPOTENCY#${key}`, sk: 'IDEMPOTENCY' }),
  /** The state of one of an org's webhook subscriptions, by the subscription's id in the org file. */
  webhookSubscription: (orgId: number, subscriptionId: string): Key => ({ pk: `ORG#${orgId}#WEBHOOK#${subscriptionId}`, sk: 'WEBHOOK' }),
  /** The local stage's delivery target of a subscription, beside its mark. */
  localWebhookTarget: (orgId: number, subscriptionId: string): Key => ({
    pk: `ORG#${orgId}#WEBHOOK#${subscriptionId}`,
    sk: 'LOCALTARGET',
  }),
  /**
   * An entry of a customer's history: its own partition (a customer read never reads it), sorted
   * by the customer's version after the change, so that a page newest first is one query.
   */
  historyEntry: (orgId: number, customerId: number, sequence: number, discriminator: string): Key => ({
    pk: historyPartition(orgId, customerId),
    sk: `${HISTORY_SK_PREFIX}${String(sequence).padStart(SEQUENCE_DIGITS, '0')}#${discriminator}`,
  }),
  historyPartition: (orgId: number, customerId: number): string => historyPartition(orgId, customerId),
  /** The prefix of every key of an org's data, for tests and tools that look at one org. */
  orgPrefix: (orgId: number): string => `ORG#${orgId}#`,
  /** An import job run by the CLI: the file it is for and the lock of the importer running it (lib/store/importLocks.ts). */
  importJob: (orgId: number, job: string): Key => ({ pk: `ORG#${orgId}#IMPORTJOB#${job}`, sk: 'IMPORTJOB' }),
};

/** Whether an item of a customer's partition is the customer item or a merged profile. */
export function isCustomerItem(item: { sk?: unknown }): boolean {
  return item.sk === CUSTOMER_SK;
}

export function isMergedProfileItem(item: { sk?: unknown }): boolean {
  return typeof item.sk === 'string' && item.sk.startsWith(MERGED_PROFILE_SK_PREFIX);
}

/** The org and customer of a customer partition key, or undefined for any other key. */
export function customerOfPartition(pk: unknown): { orgId: number; customerId: number } | undefined {
  if (typeof pk !== 'string') return undefined;
  const match = /^ORG#(\d+)#CUSTOMER#(\d+)$/.exec(pk);
  return match ? { orgId: Number(match[1]), customerId: Number(match[2]) } : undefined;
}

/** The source account of a merged profile's sort key. */
export function sourceAccountOfProfileKey(sk: string): string {
  return sk.slice(MERGED_PROFILE_SK_PREFIX.length);
}
