// Reads of customers: a customer with all its profiles, and the owner of an identifier value.

import { GetCommand, QueryCommand, type GetCommandOutput, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../config';
import type { Customer, Identifier, Profile } from '../customer';
import { send } from './client';
import { isCustomerItem, isMergedProfileItem, keys } from './keys';

/** A customer with all its profiles, or undefined. One query of the customer's partition. */
export async function loadCustomer(orgId: number, customerId: number): Promise<Customer | undefined> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await send<QueryCommandOutput>(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.customerPartition(orgId, customerId) },
        ExclusiveStartKey,
      }),
    );
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  const customer = items.find(isCustomerItem) as Customer | undefined;
  if (!customer) return undefined;
  const merged = items
    .filter(isMergedProfileItem)
    .map((i) => i.profile as Profile)
    .sort((a, b) => a.createDate.localeCompare(b.createDate));
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
  };
}

/** The id of the customer who owns an identifier value, or undefined. */
export async function findOwner(orgId: number, identifier: Identifier): Promise<number | undefined> {
  const { Item } = await send<GetCommandOutput>(
    new GetCommand({ TableName: tableName(), Key: keys.identifier(orgId, identifier.type, identifier.value) }),
  );
  return Item?.customerId as number | undefined;
}
