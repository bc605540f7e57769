// The state of webhook subscriptions that the org file cannot hold: a receiver that answered
// 410 Gone disables its subscription (SPEC section 10). One item per disabled subscription,
// written by the sender and read before each delivery:
//
//   pk ORG#<org>#WEBHOOK#<subscription id>, sk WEBHOOK
//   entity, orgId, subscriptionId, url (the URL that answered 410), reason, disabledAt (ISO 8601)
//
// The subscription itself stays in the org's configuration, so loading the org file again does
// not enable it again: the mark holds the URL that answered 410, and a mark for another URL
// than the subscription's current one does not count. Changing the url (or the id) in the file
// and loading it is how an operator enables a subscription again. The read is strongly
// consistent (1 read unit instead of 0.5), so the delivery after a 410 already sees the mark.

import { GetCommand, PutCommand, type GetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../config';
import { send } from './client';
import { Entity, keys } from './keys';

export interface DisabledSubscription {
  orgId: number;
  subscriptionId: string;
  /** The URL that answered 410. */
  url: string;
  reason: string;
  disabledAt: string;
}

/** The subscription's mark, whatever URL it was written for. */
export async function disabledSubscription(orgId: number, subscriptionId: string): Promise<DisabledSubscription | undefined> {
  const { Item: item } = await send<GetCommandOutput>(
    new GetCommand({ TableName: tableName(), Key: keys.webhookSubscription(orgId, subscriptionId), ConsistentRead: true }),
  );
  if (!item) return undefined;
  return {
    orgId: item.orgId as number,
    subscriptionId: item.subscriptionId as string,
    url: item.url as string,
    reason: item.reason as string,
    disabledAt: item.disabledAt as string,
  };
}

/** Whether the subscription is disabled at this URL: a mark written for another URL does not count. */
export async function isSubscriptionDisabled(orgId: number, subscriptionId: string, url: string): Promise<boolean> {
  return (await disabledSubscription(orgId, subscriptionId))?.url === url;
}

/** Disables the subscription at this URL (replacing any earlier mark). */
export async function disableSubscription(
  orgId: number,
  subscriptionId: string,
  url: string,
  reason: string,
  at = new Date(),
): Promise<void> {
  await send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        ...keys.webhookSubscription(orgId, subscriptionId),
        entity: Entity.webhookSubscription,
        orgId,
        subscriptionId,
        url,
        reason,
        disabledAt: at.toISOString(),
      },
    }),
  );
}
