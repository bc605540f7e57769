// Reads of customers: a customer with all its profiles, and the owner of an identifier value.

import { GetCommand, QueryCommand, type GetCommandOutput, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../config';
import { sourceAccountOf, type Activity, type Identifier, type Profile, type VersionedCustomer } from '../customer';
import { send } from './client';
import { isCustomerItem, isMergedProfileItem, keys } from './keys';

/**
 * A customer with all its profiles (a tombstone too: see `activity`), or undefined. One query
 * of the customer's partition; `consistent` for a read that a change is conditioned on.
 */
export async function loadCustomer(
  orgId: number,
  customerId: number,
  options: { consistent?: boolean } = {},
): Promise<VersionedCustomer | undefined> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await send<QueryCommandOutput>(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.customerPartition(orgId, customerId) },
        ExclusiveStartKey,
        ...(options.consistent ? { ConsistentRead: true } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  const customer = items.find(isCustomerItem) as
    (VersionedCustomer & { version?: number; recordKeys?: Set<string>; victims?: number[] }) | undefined;
  if (!customer) return undefined;
  const mergedItems = items
    .filter(isMergedProfileItem)
    .sort((a, b) => (a.profile as Profile).createDate.localeCompare((b.profile as Profile).createDate));
  const merged = mergedItems.map((i) => i.profile as Profile);
  // Profiles an explicit merge brought, by source account: an unmerge sends each back (SPEC section 15).
  const mergedFrom = Object.fromEntries(
    mergedItems.filter((i) => typeof i.mergedFrom === 'number').map((i) => [sourceAccountOf(i.profile as Profile), i.mergedFrom as number]),
  );
  return {
    orgId: customer.orgId,
    id: customer.id,
    loyaltyType: customer.loyaltyType,
    profiles: [...customer.profiles, ...merged],
    extendedFields: customer.extendedFields ?? {},
    enrollments: customer.enrollments ?? [],
    createDate: customer.createDate,
    associatedWith: customer.associatedWith,
    endPointsEnabled: customer.endPointsEnabled ?? [],
    activity: customer.activity,
    version: customer.version ?? 0,
    profilesOnItem: customer.profiles.length,
    recordEntries: [...(customer.recordKeys ?? [])].sort(),
    ...(typeof customer.mergedInto === 'number' ? { mergedInto: customer.mergedInto } : {}),
    ...(typeof customer.mergingFrom === 'number' ? { mergingFrom: customer.mergingFrom } : {}),
    ...(customer.refreshingIdentifiers === true ? { refreshingIdentifiers: true } : {}),
    ...(Object.keys(mergedFrom).length > 0 ? { mergedFrom } : {}),
    ...(customer.victims && customer.victims.length > 0 ? { victims: [...customer.victims] } : {}),
  };
}

/** The id of the customer who owns an identifier value, or undefined. */
export async function findOwner(orgId: number, identifier: Identifier): Promise<number | undefined> {
  const { Item } = await send<GetCommandOutput>(
    new GetCommand({ TableName: tableName(), Key: keys.identifier(orgId, identifier.type, identifier.value) }),
  );
  return Item?.customerId as number | undefined;
}

/**
 * What a customer item's `activity` says (ACTIVE, ERASING, ERASED, MERGED, MERGING), or undefined for no such
 * customer. A strongly consistent read of one attribute: a registration the identity rules
 * refuse asks it of the customers its values belong to, to tell a refusal from a wait for an erase.
 */
export async function customerActivity(orgId: number, customerId: number): Promise<Activity | undefined> {
  const { Item } = await send<GetCommandOutput>(
    new GetCommand({
      TableName: tableName(),
      Key: keys.customer(orgId, customerId),
      ProjectionExpression: 'activity',
      ConsistentRead: true,
    }),
  );
  return Item?.activity as Activity | undefined;
}

/** What a refusal reads of a customer its values belong to: its activity, and whether stepped work is under way on it. */
export interface CustomerState {
  activity?: Activity;
  mergingFrom?: number;
  refreshingIdentifiers?: boolean;
}

/** A customer's state in one strongly consistent read of three attributes (undefined activity: no such customer). */
export async function customerState(orgId: number, customerId: number): Promise<CustomerState> {
  const { Item } = await send<GetCommandOutput>(
    new GetCommand({
      TableName: tableName(),
      Key: keys.customer(orgId, customerId),
      ProjectionExpression: 'activity, mergingFrom, refreshingIdentifiers',
      ConsistentRead: true,
    }),
  );
  return {
    activity: Item?.activity as Activity | undefined,
    ...(typeof Item?.mergingFrom === 'number' ? { mergingFrom: Item.mergingFrom } : {}),
    ...(Item?.refreshingIdentifiers === true ? { refreshingIdentifiers: true } : {}),
  };
}
