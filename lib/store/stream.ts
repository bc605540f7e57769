// The table's stream read back as changes of customers (SPEC section 10: the stream is the
// outbox). Decoding keys and images is the store's: the event rules above see only what
// changed, never a key.

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Customer, Origin, Profile, UnmergeSummary } from '../customer';
import type { ErasedSummary } from './changePlans';
import type { RequestStamp } from '../requestContext';
import { requestIdOf, type MergeSummary } from './plans';
import { customerOfPartition, Entity, isCustomerItem, isMergedProfileItem, sourceAccountOfProfileKey } from './keys';

/**
 * A stream record as Lambda hands it over (the parts read here). Locally (`npm start`),
 * serverless-offline-dynamodb-streams passes on what the SDK read from DynamoDB Local: the
 * creation time as a Date (an ISO string once through JSON), and an empty map as `{}`.
 */
export interface StreamRecord {
  eventID?: string;
  eventName?: 'INSERT' | 'MODIFY' | 'REMOVE' | string;
  dynamodb?: {
    /** Epoch seconds from Lambda; a Date or ISO string locally. */
    ApproximateCreationDateTime?: number | Date | string;
    Keys?: Record<string, unknown>;
    NewImage?: Record<string, unknown>;
    OldImage?: Record<string, unknown>;
    SequenceNumber?: string;
  };
}

/** A customer item as stored, with what the stream adds. */
export type StoredCustomer = Omit<Customer, 'profiles'> & {
  profiles: Profile[];
  origin?: Origin;
  version?: number;
  /** When the last write to the item was made (ISO 8601, milliseconds). */
  changedAt?: string;
  profileCount?: number;
  /** What the last merge added (lib/store/plans.ts). */
  lastMerge?: MergeSummary;
  /** What an erase removed (lib/store/changePlans.ts). */
  erased?: ErasedSummary;
  /** The till and request the last write was made for (lib/requestContext.ts). */
  changedBy?: RequestStamp;
  /** The request that created the customer. */
  requestId?: string;
  /** What the last unmerge split out of the customer, or into it (lib/store/mergePlans.ts). */
  lastUnmerge?: UnmergeSummary;
  mergedInto?: number;
};

export type CustomerChange =
  | {
      kind: 'customer';
      change: 'insert' | 'modify' | 'remove';
      orgId: number;
      customerId: number;
      before?: StoredCustomer;
      after?: StoredCustomer;
      at: Date;
      recordId: string;
    }
  | {
      kind: 'profile';
      change: 'insert' | 'modify' | 'remove';
      orgId: number;
      customerId: number;
      sourceAccount: string;
      profile: Profile;
      /** A modified profile as it was before (an update or identifier change through it). */
      previous?: Profile;
      /** The customer's version the change wrote on the profile item. */
      version?: number;
      /** When the change was written on the profile item. */
      changedAt?: string;
      changedBy?: RequestStamp;
      origin?: Origin;
      at: Date;
      recordId: string;
    };

/** The customer change a stream record holds, or undefined for items that are not customers' (orgs, identifiers, counters, records). */
export function changeOf(record: StreamRecord): CustomerChange | undefined {
  const data = record.dynamodb;
  if (!data?.Keys) return undefined;
  const keys = unmarshall(typed(data.Keys));
  const owner = customerOfPartition(keys.pk);
  if (!owner) return undefined;
  const change = record.eventName === 'INSERT' ? 'insert' : record.eventName === 'REMOVE' ? 'remove' : 'modify';
  const after = data.NewImage ? unmarshall(typed(data.NewImage)) : undefined;
  const before = data.OldImage ? unmarshall(typed(data.OldImage)) : undefined;
  const at = timeOf(data.ApproximateCreationDateTime);
  const recordId = record.eventID ?? data.SequenceNumber ?? '';
  if (isCustomerItem(keys)) {
    return {
      kind: 'customer',
      change,
      ...owner,
      before: withRequestId(before) as StoredCustomer,
      after: withRequestId(after) as StoredCustomer,
      at,
      recordId,
    };
  }
  if (isMergedProfileItem(keys)) {
    const image = (after ?? before)!;
    if (image.entity !== Entity.mergedProfile) return undefined;
    return {
      kind: 'profile',
      change,
      ...owner,
      sourceAccount: sourceAccountOfProfileKey(keys.sk as string),
      profile: image.profile as Profile,
      ...(change === 'modify' && before ? { previous: before.profile as Profile } : {}),
      ...(typeof after?.version === 'number' ? { version: after.version } : {}),
      ...(typeof after?.changedAt === 'string' ? { changedAt: after.changedAt } : {}),
      ...(after?.changedBy ? { changedBy: after.changedBy as RequestStamp } : {}),
      ...(image.origin ? { origin: image.origin as Origin } : {}),
      at,
      recordId,
    };
  }
  return undefined;
}

/** The request id a new customer item records compactly (plans.ts), as text. */
function withRequestId(image: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!image || image.requestId === undefined) return image;
  const requestId = requestIdOf(image.requestId);
  return { ...image, requestId };
}

function timeOf(value: number | Date | string | undefined): Date {
  if (value instanceof Date || typeof value === 'string') return new Date(value);
  return new Date((value ?? 0) * 1000);
}

/** An image with DynamoDB Local's untyped empty maps (`{}`) typed as the maps they are (`{"M": {}}`), at any depth. */
function typed(image: Record<string, unknown>): Record<string, AttributeValue> {
  const value = (attribute: Record<string, unknown>): unknown => {
    if (Object.keys(attribute).length === 0) return { M: {} };
    if (attribute.M) return { M: typed(attribute.M as Record<string, unknown>) };
    if (attribute.L) return { L: (attribute.L as Record<string, unknown>[]).map(value) };
    return attribute;
  };
  return Object.fromEntries(
    Object.entries(image).map(([name, attribute]) => [name, value(attribute as Record<string, unknown>)]),
  ) as Record<string, AttributeValue>;
}
