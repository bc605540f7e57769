/**
 * Every key of the single table is spelled here and nowhere else.
 * `pk` / `sk` are the table's keys; `expiresAt` (epoch seconds) is its TTL attribute.
 */

export interface Key {
  pk: string;
  sk: string;
}

export const keys = {
  org: (orgId: number): Key => ({ pk: `ORG#${orgId}`, sk: 'CONFIG' }),
  till: (username: string): Key => ({ pk: `TILL#${username}`, sk: 'TILL' }),
  customer: (orgId: number, customerId: number): Key => ({ pk: customerPartition(orgId, customerId), sk: 'CUSTOMER' }),
  /** A profile added to an existing customer; the key makes it one per source account. */
  mergedProfile: (orgId: number, customerId: number, sourceAccount: string): Key => ({
    pk: customerPartition(orgId, customerId),
    sk: `PROFILE#${sourceAccount}`,
  }),
  customerPartition,
  identifier: (orgId: number, type: string, value: string): Key => ({ pk: `ORG#${orgId}#ID#${type}#${value}`, sk: 'ID' }),
  rateWindow: (orgId: number, windowStart: number): Key => ({ pk: `ORG#${orgId}#RATE#${windowStart}`, sk: 'RATE' }),
  idempotency: (orgId: number, key: string): Key => ({ pk: `ORG#${orgId}#IDEMPOTENCY#${key}`, sk: 'IDEMPOTENCY' }),
};

function customerPartition(orgId: number, customerId: number): string {
  return `ORG#${orgId}#CUSTOMER#${customerId}`;
}

export const PROFILE_SK_PREFIX = 'PROFILE#';
