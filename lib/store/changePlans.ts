// The transactions that change a registered customer (SPEC sections 11 and 12), built without
// sending them, like plans.ts builds registrations.
//
// Every write to a customer's aggregate goes through its customer item: a change or an erase
// is conditioned on the version it read (and sets the next), a merge (plans.ts) raises the
// version and requires the customer to be ACTIVE. So a change never applies over a state it did
// not see, and nothing merges into a customer that is being erased or is erased. Identifier
// items are claimed with `attribute_not_exists` and released only while they still name this
// customer, in the same transaction, so a value is never held twice and never left pointing at
// nobody.
//
// Item layout touched here: the customer item (its first profiles, customer-level parts,
// `version`, `changedAt`, `writtenBy`), merged profile items (`PROFILE#<source account>`, one each) and
// identifier items (`customerId`, `customerSourceAccounts`).

import { randomUUID } from 'node:crypto';
import { tableName } from '../config';
import {
  identifierKeyOf,
  identifierTypesOf,
  sourceAccountOf,
  uniqueIdentifiers,
  type Customer,
  type Identifier,
  type VersionedCustomer,
} from '../customer';
import { Entity, keys } from './keys';
import { deleteIdempotencyRecord, liveEntries, liveRecordKeys, putIdempotencyRecord, recordEntry } from './idempotencyRecords';
import {
  changedBy,
  changeTime,
  MAX_TRANSACTION_ITEMS,
  type ItemRole,
  type PlannedTransaction,
  type RecordToClaim,
  type TransactItem,
} from './plans';

const ALL_OLD = 'ALL_OLD' as const;

/** What a change of a customer writes: the customer as it will be, the values it claims and releases. */
export interface CustomerChangeWrite {
  /** As read: its version is the condition, its profiles say where each profile lives. */
  before: VersionedCustomer;
  /** The same customer with the change applied (profiles in the same order and places). */
  after: Customer;
  claim: Identifier[];
  release: Identifier[];
}

/** The condition that the customer item is as read: live, at the version read. */
function versionCondition(version: number): { expression: string; values: Record<string, unknown> } {
  return version === 0
    ? { expression: 'activity = :active AND attribute_not_exists(version)', values: { ':active': 'ACTIVE' } }
    : { expression: 'activity = :active AND version = :version', values: { ':active': 'ACTIVE', ':version': version } };
}

/**
 * One transaction: the customer item rewritten at the next version, each merged profile item
 * that changed, the claimed values put, the released ones deleted, the record claimed.
 */
export function planCustomerChange(write: CustomerChangeWrite, record?: RecordToClaim, token: string = randomUUID()): PlannedTransaction {
  const table = tableName();
  const { before, after } = write;
  const { orgId, id: customerId } = before;
  const next = before.version + 1;
  const at = changeTime();
  const condition = versionCondition(before.version);
  const listed = listedRecords(before, record);
  const by = changedBy();
  const items: TransactItem[] = [
    {
      Update: {
        TableName: table,
        Key: keys.customer(orgId, customerId),
        UpdateExpression:
          'SET profiles = :profiles, extendedFields = :extendedFields, loyaltyType = :loyaltyType, enrollments = :enrollments, version = :next, changedAt = :at, writtenBy = :token' +
          by.expression +
          listed.expression,
        ConditionExpression: condition.expression,
        ExpressionAttributeValues: {
          ...listed.values,
          ...by.values,
          ...condition.values,
          ':profiles': after.profiles.slice(0, before.profilesOnItem),
          ':extendedFields': after.extendedFields,
          ':loyaltyType': after.loyaltyType,
          ':enrollments': after.enrollments,
          ':next': next,
          ':at': at,
          ':token': token,
        },
        ReturnValuesOnConditionCheckFailure: ALL_OLD,
      },
    },
  ];
  const roles: ItemRole[] = [{ kind: 'customerVersion', customerId }];
  for (let i = before.profilesOnItem; i < after.profiles.length; i++) {
    if (JSON.stringify(after.profiles[i]) === JSON.stringify(before.profiles[i])) continue;
    items.push({
      Update: {
        TableName: table,
        Key: keys.mergedProfile(orgId, customerId, sourceAccountOf(after.profiles[i])),
        // The customer's new version and the time on the profile too: the event it makes (lib/events).
        UpdateExpression: `SET profile = :profile, version = :next, changedAt = :at${by.expression}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':profile': after.profiles[i], ':next': next, ':at': at, ...by.values },
      },
    });
    roles.push({ kind: 'mergedProfileChange', customerId });
  }
  const customerSourceAccounts = after.profiles.map(sourceAccountOf);
  for (const identifier of write.claim) {
    items.push({
      Put: {
        TableName: table,
        Item: {
          ...keys.identifier(orgId, identifier.type, identifier.value),
          entity: Entity.identifier,
          customerId,
          customerSourceAccounts,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: ALL_OLD,
      },
    });
    roles.push({ kind: 'identifier', key: identifierKeyOf(identifier) });
  }
  for (const identifier of write.release) {
    items.push(releaseIdentifier(table, orgId, customerId, identifier));
    roles.push({ kind: 'release', key: identifierKeyOf(identifier) });
  }
  if (record) {
    items.push(putIdempotencyRecord(record.key, record.response));
    roles.push({ kind: 'idempotencyRecord' });
  }
  return { input: { TransactItems: items, ClientRequestToken: token }, roles };
}

/**
 * The records the customer item lists after a change: those not yet expired (the change read
 * them, and is conditioned on that read), and the change's own. Nothing when that is what it
 * lists already.
 */
function listedRecords(before: VersionedCustomer, record?: RecordToClaim): { expression: string; values: Record<string, unknown> } {
  const was = before.recordEntries ?? [];
  const next = [...liveEntries(was), ...(record ? [recordEntry(record.key)] : [])];
  if (next.length === was.length && next.every((entry) => was.includes(entry))) return { expression: '', values: {} };
  // A set cannot be empty: no record left is no attribute.
  return next.length === 0
    ? { expression: ' REMOVE recordKeys', values: {} }
    : { expression: ', recordKeys = :recordKeys', values: { ':recordKeys': new Set(next) } };
}

/** Deletes an identifier item only while it still names the customer. */
function releaseIdentifier(table: string, orgId: number, customerId: number, identifier: Identifier): TransactItem {
  return {
    Delete: {
      TableName: table,
      Key: keys.identifier(orgId, identifier.type, identifier.value),
      ConditionExpression: 'customerId = :owner',
      ExpressionAttributeValues: { ':owner': customerId },
      ReturnValuesOnConditionCheckFailure: ALL_OLD,
    },
  };
}

/**
 * What an erase removed, as its event names it (SPEC section 10): source accounts and identifier
 * types, no values. Kept on the tombstone (the marking step of a stepped erase records it first,
 * so a resumed erase still names what earlier steps deleted).
 */
export interface ErasedSummary {
  sourceAccounts: string[];
  identifierTypes: string[];
}

export function erasedSummary(customer: VersionedCustomer): ErasedSummary {
  return { sourceAccounts: customer.profiles.map(sourceAccountOf), identifierTypes: identifierTypesOf(customer.profiles) };
}

/**
 * What erasing a customer deletes: its identifier items, the idempotency records of its own
 * requests (their stored answers hold its id, card numbers and generated values) and its merged
 * profile items.
 */
export interface ErasureParts {
  identifiers: Identifier[];
  /** Keys of the idempotency records the customer lists, not yet expired. */
  records: string[];
  /** Source accounts of the merged profile items. */
  mergedProfiles: string[];
  /** Customers explicitly merged into this one: their tombstones keep customer-level parts, erased too. */
  victims?: number[];
}

/** The identifier items, listed records and merged profile items of a customer as read. */
export function erasureParts(customer: VersionedCustomer, now = Date.now()): ErasureParts {
  return {
    identifiers: uniqueIdentifiers(customer.profiles),
    records: liveRecordKeys(customer.recordEntries ?? [], now),
    mergedProfiles: customer.profiles.slice(customer.profilesOnItem).map(sourceAccountOf),
    ...(customer.victims && customer.victims.length > 0 ? { victims: customer.victims } : {}),
  };
}

function partCount(parts: ErasureParts): number {
  return parts.identifiers.length + parts.records.length + parts.mergedProfiles.length + (parts.victims?.length ?? 0);
}

/** Whether erasing these parts, the tombstone and a record fit one transaction of `size` items. */
export function fitsOneErasure(parts: ErasureParts, size = MAX_TRANSACTION_ITEMS): boolean {
  return 1 + partCount(parts) + 1 <= size;
}

/**
 * The last (often the only) transaction of an erase: the customer item becomes a tombstone (id,
 * erasedAt, enrollments and points, loyalty type, no personal data), and the given identifier
 * and merged profile items are deleted. Conditioned on the version read, so a merge or change
 * that landed after the read makes it fail and be planned again.
 */
export function planErasure(
  customer: VersionedCustomer,
  parts: ErasureParts,
  erasedAt: string,
  record?: RecordToClaim,
  token: string = randomUUID(),
): PlannedTransaction {
  const table = tableName();
  const { orgId, id: customerId } = customer;
  const erasing = customer.activity === 'ERASING';
  const condition = erasing
    ? { expression: 'activity = :erasing AND version = :version', values: { ':erasing': 'ERASING', ':version': customer.version } }
    : versionCondition(customer.version);
  const items: TransactItem[] = [
    {
      Update: {
        TableName: table,
        Key: keys.customer(orgId, customerId),
        // A stepped erase keeps the summary its marking step recorded, when all profiles were there.
        UpdateExpression: `SET activity = :erased, erasedAt = :erasedAt, changedAt = :erasedAt, profiles = :none, extendedFields = :empty, erased = ${
          erasing ? 'if_not_exists(erased, :erasedParts)' : ':erasedParts'
        }, version = :next, writtenBy = :token REMOVE recordKeys, lastMerge, lastUnmerge, victims`,
        ConditionExpression: condition.expression,
        ExpressionAttributeValues: {
          ...condition.values,
          ':erased': 'ERASED',
          ':erasedAt': erasedAt,
          ':erasedParts': erasedSummary(customer),
          ':none': [],
          ':empty': {},
          ':next': customer.version + 1,
          ':token': token,
        },
        ReturnValuesOnConditionCheckFailure: ALL_OLD,
      },
    },
  ];
  const roles: ItemRole[] = [{ kind: 'customerVersion', customerId }];
  items.push(...deletions(table, orgId, customerId, parts, roles));
  if (record) {
    items.push(putIdempotencyRecord(record.key, record.response));
    roles.push({ kind: 'idempotencyRecord' });
  }
  return { input: { TransactItems: items, ClientRequestToken: token }, roles };
}

/**
 * The first step of erasing a customer too large for one transaction: mark it ERASING (at the
 * version read), after which nothing merges into it or changes it, so the parts read next are
 * all there will be.
 */
export function planMarkErasing(customer: VersionedCustomer, token: string = randomUUID()): PlannedTransaction {
  const condition = versionCondition(customer.version);
  return {
    input: {
      TransactItems: [
        {
          Update: {
            TableName: tableName(),
            Key: keys.customer(customer.orgId, customer.id),
            UpdateExpression: 'SET activity = :erasing, erased = :erasedParts, version = :next, changedAt = :at, writtenBy = :token',
            ConditionExpression: condition.expression,
            ExpressionAttributeValues: {
              ...condition.values,
              ':erasing': 'ERASING',
              ':erasedParts': erasedSummary(customer),
              ':next': customer.version + 1,
              ':at': changeTime(),
              ':token': token,
            },
            ReturnValuesOnConditionCheckFailure: ALL_OLD,
          },
        },
      ],
      ClientRequestToken: token,
    },
    roles: [{ kind: 'customerVersion', customerId: customer.id }],
  };
}

/**
 * A middle step of a stepped erase: deletes some of the parts of a customer marked ERASING.
 * Identifier items go before merged profile items (erasureSteps orders them), so a step that
 * is interrupted leaves every identifier still listed by a profile that is still there, and a
 * rerun finds it.
 */
export function planErasureStep(customer: VersionedCustomer, parts: ErasureParts, token: string = randomUUID()): PlannedTransaction {
  const roles: ItemRole[] = [];
  const items = deletions(tableName(), customer.orgId, customer.id, parts, roles);
  return { input: { TransactItems: items, ClientRequestToken: token }, roles };
}

/**
 * Splits a large erasure's parts into steps of at most `size` items, identifiers first, then
 * records, then merged profiles; the last step is left for the tombstone. (The customer item
 * lists its records until the tombstone, so a resumed erase deletes any not yet deleted.)
 */
export function erasureSteps(parts: ErasureParts, size = MAX_TRANSACTION_ITEMS): { steps: ErasureParts[]; last: ErasureParts } {
  const all: Array<{ identifier?: Identifier; record?: string; mergedProfile?: string; victim?: number }> = [
    ...parts.identifiers.map((identifier) => ({ identifier })),
    ...parts.records.map((record) => ({ record })),
    ...parts.mergedProfiles.map((mergedProfile) => ({ mergedProfile })),
  ];
  // The victims' tombstones go with the tombstone, in the last step: the survivor lists them until then.
  const victims = parts.victims ?? [];
  const toParts = (chunk: typeof all, last = false): ErasureParts => ({
    identifiers: chunk.flatMap((c) => (c.identifier ? [c.identifier] : [])),
    records: chunk.flatMap((c) => (c.record ? [c.record] : [])),
    mergedProfiles: chunk.flatMap((c) => (c.mergedProfile ? [c.mergedProfile] : [])),
    ...(last && victims.length > 0 ? { victims } : {}),
  });
  // The last transaction also holds the tombstone and a record.
  const lastSize = size - 2 - victims.length;
  const steps: ErasureParts[] = [];
  let rest = all;
  while (rest.length > lastSize) {
    steps.push(toParts(rest.slice(0, size)));
    rest = rest.slice(size);
  }
  return { steps, last: toParts(rest, true) };
}

function deletions(table: string, orgId: number, customerId: number, parts: ErasureParts, roles: ItemRole[]): TransactItem[] {
  const items: TransactItem[] = [];
  for (const identifier of parts.identifiers) {
    items.push(releaseIdentifier(table, orgId, customerId, identifier));
    roles.push({ kind: 'release', key: identifierKeyOf(identifier) });
  }
  for (const key of parts.records) {
    items.push(deleteIdempotencyRecord(orgId, key));
    roles.push({ kind: 'recordDeletion' });
  }
  for (const sourceAccount of parts.mergedProfiles) {
    items.push({ Delete: { TableName: table, Key: keys.mergedProfile(orgId, customerId, sourceAccount) } });
    roles.push({ kind: 'mergedProfileChange', customerId });
  }
  for (const victim of parts.victims ?? []) {
    // A tombstone of a merge keeps the victim's customer-level parts for an unmerge: erased with its survivor.
    items.push({
      Update: {
        TableName: table,
        Key: keys.customer(orgId, victim),
        UpdateExpression: 'SET activity = :erased, extendedFields = :empty, profiles = :none REMOVE recordKeys, lastMerge, lastUnmerge',
        ConditionExpression: 'activity = :merged',
        ExpressionAttributeValues: { ':erased': 'ERASED', ':empty': {}, ':none': [], ':merged': 'MERGED' },
      },
    });
    roles.push({ kind: 'mergedProfileChange', customerId: victim });
  }
  return items;
}
