import { GetCommand, QueryCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { tableName } from '../config';
import { ApiError } from '../errors';
import { identifierKeyOf, sourceAccountOf, uniqueIdentifiers, type Identifier, type Profile, type Registration } from '../registration/model';
import { documentClient } from './client';
import { keys, PROFILE_SK_PREFIX } from './keys';

/**
 * The DynamoDB adapter for customers. It turns a registration plan into one
 * TransactWriteItems, and a cancelled transaction back into facts the domain decides on
 * (who owns which identifier, which source accounts are taken) without a second read.
 *
 * Items:
 * - customer: the customer with the profiles it was created with (`sourceAccounts` lists them);
 * - merged profile: one item per profile added later, keyed by source account, so a second
 *   profile in one source account cannot be written;
 * - identifier: one item per identifier value of the org, holding its customer's id and the
 *   source accounts the customer had profiles in when the identifier was claimed. Profiles are
 *   never removed, so that list stays true, and a cancelled create tells at once (without a
 *   read) that a merge would hit one of those source accounts: 8006.
 */

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** What each item of a transaction stands for, so a cancellation reason can be read back. */
export type ItemRole =
  | { kind: 'customer' }
  | { kind: 'identifier'; key: string }
  | { kind: 'profile'; customerId: number; sourceAccount: string }
  | { kind: 'other'; name: string };

export interface PlannedTransaction {
  input: TransactWriteCommandInput;
  roles: ItemRole[];
}

/** Extra items a caller adds to a registration's transaction (the idempotency record). */
export interface ExtraItem {
  item: TransactItem;
  name: string;
}

export interface StoredCustomer {
  orgId: number;
  id: number;
  loyaltyType: Registration['loyaltyType'];
  profiles: Profile[];
  sourceAccounts: string[];
  extendedFields: Registration['extendedFields'];
  enrollments: Registration['enrollments'];
  createDate: string;
  associatedWith: string;
  endPointsEnabled: string[];
  activity: string;
}

export interface Cancellation {
  /** identifier key -> owning customer id, for identifiers whose put or check failed. */
  owners: Map<string, number>;
  customerIdTaken: boolean;
  /** customer id -> source accounts in which that customer is known to have a profile. */
  takenSourceAccounts: Map<number, Set<string>>;
  /** Another transaction was working on the same items; try again. */
  conflict: boolean;
  /** DynamoDB throttled an item of the transaction; try again after a pause. */
  throttled: boolean;
  /** Extra items whose condition failed, by name, with the item found. */
  extras: Map<string, Record<string, unknown> | undefined>;
}

const ALL_OLD = 'ALL_OLD' as const;

/** The one transaction that creates a customer with all its identifiers. */
export function planCreateCustomer(registration: Registration, customerId: number, extras: ExtraItem[] = []): PlannedTransaction {
  const table = tableName();
  const { orgId } = registration;
  const customer: StoredCustomer & { entity: string } = {
    entity: 'customer',
    orgId,
    id: customerId,
    loyaltyType: registration.loyaltyType,
    profiles: registration.profiles,
    sourceAccounts: registration.profiles.map(sourceAccountOf),
    extendedFields: registration.extendedFields,
    enrollments: registration.enrollments,
    createDate: registration.createDate,
    associatedWith: registration.associatedWith,
    endPointsEnabled: registration.endPointsEnabled,
    activity: 'ACTIVE',
  };
  const items: TransactItem[] = [
    {
      Put: {
        TableName: table,
        Item: { ...keys.customer(orgId, customerId), ...customer },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
  ];
  const roles: ItemRole[] = [{ kind: 'customer' }];
  for (const identifier of uniqueIdentifiers(registration.profiles)) {
    items.push(putIdentifier(table, orgId, identifier, customerId, customer.sourceAccounts));
    roles.push({ kind: 'identifier', key: identifierKeyOf(identifier) });
  }
  return withExtras({ input: { TransactItems: items }, roles }, extras);
}

/**
 * The transaction that adds profiles to an existing customer: it re-checks that the known
 * identifiers still belong to that customer, claims the new identifiers, and writes one item
 * per profile that exists only if the customer has no profile added in that source account
 * yet. (The source accounts the identifiers recorded were checked before: see decide.ts.)
 */
export function planMergeProfiles(
  orgId: number,
  customer: { id: number; knownSourceAccounts: string[] },
  profiles: Profile[],
  known: Identifier[],
  unknown: Identifier[],
  extras: ExtraItem[] = [],
): PlannedTransaction {
  const table = tableName();
  const customerId = customer.id;
  const sourceAccounts = profiles.map(sourceAccountOf);
  const items: TransactItem[] = [];
  const roles: ItemRole[] = [];
  for (const identifier of known) {
    items.push({
      ConditionCheck: {
        TableName: table,
        Key: keys.identifier(orgId, identifier.type, identifier.value),
        ConditionExpression: 'customerId = :owner',
        ExpressionAttributeValues: { ':owner': customerId },
        ReturnValuesOnConditionCheckFailure: ALL_OLD,
      },
    });
    roles.push({ kind: 'identifier', key: identifierKeyOf(identifier) });
  }
  for (const identifier of unknown) {
    items.push(putIdentifier(table, orgId, identifier, customerId, [...new Set([...customer.knownSourceAccounts, ...sourceAccounts])]));
    roles.push({ kind: 'identifier', key: identifierKeyOf(identifier) });
  }
  profiles.forEach((profile, i) => {
    items.push({
      Put: {
        TableName: table,
        Item: { ...keys.mergedProfile(orgId, customerId, sourceAccounts[i]), entity: 'profile', profile },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: ALL_OLD,
      },
    });
    roles.push({ kind: 'profile', customerId, sourceAccount: sourceAccounts[i] });
  });
  return withExtras({ input: { TransactItems: items }, roles }, extras);
}

function putIdentifier(table: string, orgId: number, identifier: Identifier, customerId: number, sourceAccounts: string[]): TransactItem {
  return {
    Put: {
      TableName: table,
      Item: {
        ...keys.identifier(orgId, identifier.type, identifier.value),
        entity: 'identifier',
        customerId,
        customerSourceAccounts: sourceAccounts,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: ALL_OLD,
    },
  };
}

function withExtras(plan: PlannedTransaction, extras: ExtraItem[]): PlannedTransaction {
  for (const extra of extras) {
    plan.input.TransactItems!.push(extra.item);
    plan.roles.push({ kind: 'other', name: extra.name });
  }
  return plan;
}

/** Runs a planned transaction; a cancellation comes back as facts, anything else throws. */
export async function runTransaction(plan: PlannedTransaction): Promise<{ ok: true } | { ok: false; cancellation: Cancellation }> {
  try {
    await documentClient().send(new TransactWriteCommand(plan.input));
    return { ok: true };
  } catch (error) {
    if ((error as { name?: string }).name !== 'TransactionCanceledException') throw toStoreError(error);
    return { ok: false, cancellation: readCancellation(plan, error as CancellationError) };
  }
}

interface CancellationError {
  CancellationReasons?: { Code?: string; Message?: string; Item?: Record<string, AttributeValue> }[];
}

export function readCancellation(plan: PlannedTransaction, error: CancellationError): Cancellation {
  const cancellation: Cancellation = {
    owners: new Map(),
    customerIdTaken: false,
    takenSourceAccounts: new Map(),
    conflict: false,
    throttled: false,
    extras: new Map(),
  };
  const taken = (customerId: number, sourceAccount: string) => {
    const set = cancellation.takenSourceAccounts.get(customerId) ?? new Set<string>();
    set.add(sourceAccount);
    cancellation.takenSourceAccounts.set(customerId, set);
  };
  const reasons = error.CancellationReasons ?? [];
  reasons.forEach((reason, index) => {
    const role = plan.roles[index];
    if (reason.Code === 'TransactionConflict') cancellation.conflict = true;
    else if (reason.Code === 'ThrottlingError' || reason.Code === 'ProvisionedThroughputExceeded') cancellation.throttled = true;
    else if (reason.Code && reason.Code !== 'None' && reason.Code !== 'ConditionalCheckFailed') {
      // Anything else (a ValidationError, an item too large) would fail again unchanged.
      throw new Error(`transaction cancelled for item ${index}: ${reason.Code} ${reason.Message ?? ''}`);
    }
    if (reason.Code !== 'ConditionalCheckFailed' || !role) return;
    const old = reason.Item ? unmarshall(reason.Item) : undefined;
    switch (role.kind) {
      case 'customer':
        // The new customer's id was drawn twice.
        cancellation.customerIdTaken = true;
        break;
      case 'identifier':
        if (old && typeof old.customerId === 'number') {
          cancellation.owners.set(role.key, old.customerId);
          for (const sa of (old.customerSourceAccounts as string[] | undefined) ?? []) taken(old.customerId, sa);
        }
        break;
      case 'profile':
        taken(role.customerId, role.sourceAccount);
        break;
      case 'other':
        cancellation.extras.set(role.name, old);
        break;
    }
  });
  return cancellation;
}

/** Throttling, timeouts and outages the SDK gave up retrying become a 503; bugs stay bugs. */
export function toStoreError(error: unknown): unknown {
  const name = (error as { name?: string }).name ?? '';
  const retryable = (error as { $retryable?: unknown }).$retryable !== undefined;
  const unavailable = [
    'ProvisionedThroughputExceededException',
    'ThrottlingException',
    'RequestLimitExceeded',
    'InternalServerError',
    'ServiceUnavailable',
    'TransactionInProgressException',
    'TimeoutError',
    'RequestTimeout',
  ];
  if (retryable || unavailable.includes(name) || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 503) {
    return ApiError.of(503, 'the customer table is unavailable; retry later').withHeaders({ 'Retry-After': '1' });
  }
  return error;
}

/** A customer with all its profiles, or undefined. One query of the customer's partition. */
export async function loadCustomer(orgId: number, customerId: number): Promise<StoredCustomer | undefined> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  try {
    do {
      const page = await documentClient().send(new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.customerPartition(orgId, customerId) },
        ExclusiveStartKey,
      }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  } catch (error) {
    throw toStoreError(error);
  }
  const customer = items.find((i) => i.sk === 'CUSTOMER') as (StoredCustomer & { pk: string }) | undefined;
  if (!customer) return undefined;
  const merged = items
    .filter((i) => String(i.sk).startsWith(PROFILE_SK_PREFIX))
    .map((i) => i.profile as Profile)
    .sort((a, b) => a.createDate.localeCompare(b.createDate));
  return {
    orgId: customer.orgId,
    id: customer.id,
    loyaltyType: customer.loyaltyType,
    profiles: [...customer.profiles, ...merged],
    sourceAccounts: [...customer.sourceAccounts, ...merged.map(sourceAccountOf)],
    extendedFields: customer.extendedFields ?? {},
    enrollments: customer.enrollments ?? [],
    createDate: customer.createDate,
    associatedWith: customer.associatedWith,
    endPointsEnabled: customer.endPointsEnabled ?? [],
    activity: customer.activity,
  };
}

/** The id of the customer who owns an identifier value, or undefined. */
export async function findOwner(orgId: number, identifier: Identifier): Promise<number | undefined> {
  try {
    const { Item } = await documentClient().send(new GetCommand({
      TableName: tableName(),
      Key: keys.identifier(orgId, identifier.type, identifier.value),
    }));
    return Item?.customerId as number | undefined;
  } catch (error) {
    throw toStoreError(error);
  }
}
