// Registrations as DynamoDB transactions, built without sending them (transactions.ts sends),
// so that unit tests can check each item and condition exactly. A plan also records what each
// of its items stands for, to read a cancellation back into facts (who owns which identifier,
// which source accounts are taken) without a second read.

import { randomUUID } from 'node:crypto';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../config';
import { requestStamp, type RequestStamp } from '../requestContext';
import {
  identifierKeyOf,
  identifierTypesOf,
  sourceAccountOf,
  uniqueIdentifiers,
  type Identifier,
  type Origin,
  type Profile,
  type Registration,
} from '../customer';
import { putIdempotencyRecord, recordEntry, type RecordKey, type StoredResponse } from './idempotencyRecords';
import { Entity, keys } from './keys';
import type { IdentifierRecord } from './records';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** What each item of a transaction stands for, so a cancellation reason can be read back. */
export type ItemRole =
  | { kind: 'customer'; customerId: number }
  | { kind: 'identifier'; key: string }
  | { kind: 'profile'; customerId: number; sourceAccount: string }
  | { kind: 'idempotencyRecord' }
  /** The customer item, conditioned on being live (a merge) or on the version read (a change, an erase). */
  | { kind: 'customerVersion'; customerId: number }
  /** A merge's customer item: live, with room for the profiles it adds (`profileCount`). */
  | { kind: 'customerRoom'; customerId: number }
  /** A merged profile item changed or deleted along with its customer. */
  | { kind: 'mergedProfileChange'; customerId: number }
  /** An identifier item deleted only while it still names the customer. */
  | { kind: 'release'; key: string }
  /** An idempotency record of the customer's own requests, deleted by its erase. */
  | { kind: 'recordDeletion' };

export interface PlannedTransaction {
  /** The request; its ClientRequestToken makes every re-send of it one transaction. */
  input: TransactWriteCommandInput & { ClientRequestToken: string };
  roles: ItemRole[];
}

/** An idempotency record to claim in the same transaction, with the response it will hold. */
export interface RecordToClaim {
  key: RecordKey;
  response: StoredResponse;
}

/** DynamoDB's limit on the items of one transaction. */
export const MAX_TRANSACTION_ITEMS = 100;

/**
 * The most distinct identifiers a request of `profileCount` profiles may hold: its largest
 * transaction, a merge, writes an item per identifier (a card whose number is still to be
 * drawn too) and per profile, plus the customer item and the idempotency record, and must fit
 * one transaction.
 */
export function mostIdentifiers(profileCount: number): number {
  return MAX_TRANSACTION_ITEMS - Math.max(1, profileCount) - 2;
}

/** The identifier items a registration's transaction writes, a card still to be drawn included. */
export function identifierItemCount(profiles: Profile[]): number {
  return uniqueIdentifiers(profiles).length + profiles.filter((p) => p.card?.generated).length;
}

const ALL_OLD = 'ALL_OLD' as const;

/**
 * The time a write records on the items it changes (`changedAt`): events carry it as
 * `occurredAt`, to the millisecond, where the stream's own time is rounded. Read through
 * `Date.now` so that a plan built in a test is exact.
 */
export function changeTime(): string {
  return new Date(Date.now()).toISOString();
}

/**
 * The till and request the write is made for, as the item records it (`changedBy`): the history
 * tells it. Nothing outside a request (tools, tests of plans).
 */
export function changedBy(): { expression: string; values: Record<string, unknown>; attribute: { changedBy?: RequestStamp } } {
  const stamp = requestStamp();
  return stamp
    ? { expression: ', changedBy = :changedBy', values: { ':changedBy': stamp }, attribute: { changedBy: stamp } }
    : { expression: '', values: {}, attribute: {} };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The request a new customer item is made for: a UUID (Lambda's request ids) as the base64url of
 * its 16 bytes, 22 characters; anything else as it is after a `~`, which base64url never holds.
 * Text, so that it reads back the same from Lambda's stream event and from DynamoDB Local's.
 */
function createdFor(): { requestId?: string } {
  const id = requestStamp()?.requestId;
  if (!id) return {};
  return { requestId: UUID.test(id) ? Buffer.from(id.replace(/-/g, ''), 'hex').toString('base64url') : `~${id}` };
}

/** The request id a customer item records (createdFor's), as it was. */
export function requestIdOf(stored: unknown): string | undefined {
  if (typeof stored !== 'string') return undefined;
  if (stored.startsWith('~')) return stored.slice(1);
  const hex = Buffer.from(stored, 'base64url').toString('hex');
  if (hex.length !== 32) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * What an event says a merge added, kept on the customer item by the merge itself: the merge's
 * stream record is the customer item's (it carries the customer's new version, the event's
 * `sequence`), and its profile items cannot know that version. No names or values.
 */
export interface MergeSummary {
  sourceAccounts: string[];
  identifierTypes: string[];
  /** Unset: `api`. */
  origin?: Origin;
  /** The identifiers that matched the customer: the reason for the merge, for its history (SPEC section 15). */
  matchedBy?: Identifier[];
  /** The till of the profiles added. */
  till?: string;
  /** An explicit merge: the customer merged in. */
  victimId?: number;
}

/** The one transaction that creates a customer with all its identifiers. */
export function planCreateCustomer(
  registration: Registration,
  customerId: number,
  record?: RecordToClaim,
  token: string = randomUUID(),
): PlannedTransaction {
  const table = tableName();
  const { orgId } = registration;
  const customer = {
    ...keys.customer(orgId, customerId),
    entity: Entity.customer,
    orgId,
    id: customerId,
    loyaltyType: registration.loyaltyType,
    profiles: registration.profiles,
    extendedFields: registration.extendedFields,
    enrollments: registration.enrollments,
    createDate: registration.createDate,
    associatedWith: registration.associatedWith,
    endPointsEnabled: registration.endPointsEnabled,
    activity: 'ACTIVE',
    // Every later write raises the version (the events' `sequence`); every merge adds to the
    // count and is conditioned on it (maxProfilesPerCustomer, SPEC section 13).
    version: 1,
    profileCount: registration.profiles.length,
    changedAt: changeTime(),
    // The request it was made for, in 22 characters: a registration's item stays within its 1 KB
    // write unit (the till is the profiles' createdBy). Read back by lib/store/stream.ts.
    ...createdFor(),
    // Read by the event publisher from the table's stream; absent means `api`.
    ...(registration.origin ? { origin: registration.origin } : {}),
    // The record this transaction claims, listed so that an erase finds it (SPEC section 12).
    ...(record ? { recordKeys: new Set([recordEntry(record.key)]) } : {}),
  };
  const items: TransactItem[] = [{ Put: { TableName: table, Item: customer, ConditionExpression: 'attribute_not_exists(pk)' } }];
  const roles: ItemRole[] = [{ kind: 'customer', customerId }];
  const sourceAccounts = registration.profiles.map(sourceAccountOf);
  for (const identifier of uniqueIdentifiers(registration.profiles)) {
    items.push(putIdentifier(table, orgId, identifier, { customerId, customerSourceAccounts: sourceAccounts }));
    roles.push({ kind: 'identifier', key: identifierKeyOf(identifier) });
  }
  return withRecord({ input: { TransactItems: items, ClientRequestToken: token }, roles }, record);
}

/** What a merge adds to an existing customer. */
export interface MergePlan {
  customerId: number;
  /** Source accounts the customer is known to have profiles in (from its identifier items). */
  knownSourceAccounts: string[];
  profiles: Profile[];
  /** Identifiers of the request that belong to the customer already: re-checked. */
  known: Identifier[];
  /** Identifiers of the request that nobody holds yet: claimed. */
  unknown: Identifier[];
  /** Unset: `api`. */
  origin?: Origin;
  /** The org's maxProfilesPerCustomer: the customer item must have room for the profiles added. */
  maxProfiles?: number;
}

/**
 * The transaction that adds profiles to an existing customer: it requires the customer to be
 * live and raises its version (so that an erase or a change that read the customer before this
 * merge fails and reads again, and nothing merges into a customer being erased), re-checks that
 * the known identifiers still belong to that customer (adding the new source accounts to them),
 * claims the new identifiers, and writes one item per profile that exists only if the customer
 * has no profile added in that source account yet. (The source accounts the identifiers
 * recorded were checked before: see decide.ts.)
 *
 * The customer item holds the customer's profile count, which every merge raises: with an org
 * maximum, the merge requires room for its profiles on that count, so no sequence or race of
 * merges passes it. The item is written by the merge anyway: the guard costs no unit and no read.
 */
export function planMergeProfiles(
  orgId: number,
  merge: MergePlan,
  record?: RecordToClaim,
  token: string = randomUUID(),
): PlannedTransaction {
  const table = tableName();
  const { customerId, profiles } = merge;
  const sourceAccounts = profiles.map(sourceAccountOf);
  const summary: MergeSummary = {
    sourceAccounts,
    identifierTypes: identifierTypesOf(profiles),
    ...(merge.origin ? { origin: merge.origin } : {}),
    matchedBy: merge.known.map(({ type, value }) => ({ type, value })),
    ...(profiles[0]?.createdBy ? { till: profiles[0].createdBy } : {}),
  };
  const room = merge.maxProfiles === undefined ? undefined : merge.maxProfiles - profiles.length;
  const by = changedBy();
  const items: TransactItem[] = [
    {
      Update: {
        TableName: table,
        Key: keys.customer(orgId, customerId),
        UpdateExpression:
          'SET version = if_not_exists(version, :zero) + :one, profileCount = if_not_exists(profileCount, :zero) + :added, changedAt = :at, lastMerge = :merge' +
          by.expression +
          (record ? ' ADD recordKeys :record' : ''),
        ConditionExpression: room === undefined ? 'activity = :active' : 'activity = :active AND profileCount <= :room',
        ExpressionAttributeValues: {
          ':active': 'ACTIVE',
          ':zero': 0,
          ':one': 1,
          ':added': profiles.length,
          ':at': changeTime(),
          ':merge': summary,
          ...by.values,
          ...(room === undefined ? {} : { ':room': room }),
          ...(record ? { ':record': new Set([recordEntry(record.key)]) } : {}),
        },
        ReturnValuesOnConditionCheckFailure: ALL_OLD,
      },
    },
  ];
  const roles: ItemRole[] = [{ kind: 'customerRoom', customerId }];
  for (const identifier of merge.known) {
    // The re-check that the identifier still belongs to the customer also records the new
    // source accounts on it, so that later requests through it know them (8006 at once, and
    // maxProfilesPerCustomer) without a read; it costs what a ConditionCheck costs.
    items.push({
      Update: {
        TableName: table,
        Key: keys.identifier(orgId, identifier.type, identifier.value),
        UpdateExpression: 'SET customerSourceAccounts = list_append(if_not_exists(customerSourceAccounts, :none), :added)',
        ConditionExpression: 'customerId = :owner',
        ExpressionAttributeValues: { ':owner': customerId, ':added': sourceAccounts, ':none': [] },
        ReturnValuesOnConditionCheckFailure: ALL_OLD,
      },
    });
    roles.push({ kind: 'identifier', key: identifierKeyOf(identifier) });
  }
  const customerSourceAccounts = [...new Set([...merge.knownSourceAccounts, ...sourceAccounts])];
  for (const identifier of merge.unknown) {
    items.push(putIdentifier(table, orgId, identifier, { customerId, customerSourceAccounts }));
    roles.push({ kind: 'identifier', key: identifierKeyOf(identifier) });
  }
  profiles.forEach((profile, i) => {
    items.push({
      Put: {
        TableName: table,
        // `writtenBy` lets a re-sent transaction recognise its own earlier success.
        Item: {
          ...keys.mergedProfile(orgId, customerId, sourceAccounts[i]),
          entity: Entity.mergedProfile,
          profile,
          writtenBy: token,
          ...(merge.origin ? { origin: merge.origin } : {}),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: ALL_OLD,
      },
    });
    roles.push({ kind: 'profile', customerId, sourceAccount: sourceAccounts[i] });
  });
  return withRecord({ input: { TransactItems: items, ClientRequestToken: token }, roles }, record);
}

function putIdentifier(table: string, orgId: number, identifier: Identifier, record: IdentifierRecord): TransactItem {
  return {
    Put: {
      TableName: table,
      Item: { ...keys.identifier(orgId, identifier.type, identifier.value), entity: Entity.identifier, ...record },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: ALL_OLD,
    },
  };
}

/** Adds the idempotency record's Put to a planned transaction, last. */
export function withRecord(plan: PlannedTransaction, record: RecordToClaim | undefined): PlannedTransaction {
  if (record) {
    plan.input.TransactItems!.push(putIdempotencyRecord(record.key, record.response));
    plan.roles.push({ kind: 'idempotencyRecord' });
  }
  return plan;
}
