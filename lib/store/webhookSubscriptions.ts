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
//
// On the local stage only, a subscription may be delivered elsewhere for a while: the item
// `npm run webhook-receiver` holds while it runs, read (strongly consistent) before each local
// delivery, so that it takes effect at once, whatever the configuration's cache holds:
//
//   pk ORG#<org>#WEBHOOK#<subscription id>, sk LOCALTARGET
//   entity, orgId, subscriptionId, url, owner (the holder's token), pid, expiresAt (epoch seconds)
//
// The holder renews it well within LOCAL_TARGET_LEASE_SECONDS and deletes it when it stops; one
// killed outright leaves an item that counts for no more than the lease. Another holder's
// unexpired item is not taken over. The sender in AWS never reads it (lib/webhooks/ports.ts),
// and the receiver writes it only into DynamoDB Local (scripts/stage.ts).

import { DeleteCommand, GetCommand, PutCommand, type DeleteCommandOutput, type GetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
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

/** How long a local target counts after its holder last renewed it. */
export const LOCAL_TARGET_LEASE_SECONDS = 30;

export interface LocalTarget {
  orgId: number;
  subscriptionId: string;
  url: string;
  /** A token of the process holding it. */
  owner: string;
  pid: number;
  /** Epoch seconds after which it no longer counts. */
  expiresAt: number;
}

/** Another holder's unexpired target: the subscription is not taken over. */
export class LocalTargetHeldError extends Error {
  constructor(readonly held: LocalTarget) {
    super(
      `org ${held.orgId} subscription ${held.subscriptionId} is already delivered to ${held.url} by another receiver (pid ${held.pid}); stop it first`,
    );
  }
}

function localTargetOf(item: Record<string, unknown>): LocalTarget {
  return {
    orgId: item.orgId as number,
    subscriptionId: item.subscriptionId as string,
    url: item.url as string,
    owner: item.owner as string,
    pid: item.pid as number,
    expiresAt: item.expiresAt as number,
  };
}

/** The subscription's local target, unless there is none or it has expired. */
export async function localTarget(orgId: number, subscriptionId: string, at = new Date()): Promise<LocalTarget | undefined> {
  const { Item: item } = await send<GetCommandOutput>(
    new GetCommand({ TableName: tableName(), Key: keys.localWebhookTarget(orgId, subscriptionId), ConsistentRead: true }),
  );
  if (!item) return undefined;
  const target = localTargetOf(item);
  return target.expiresAt > at.getTime() / 1000 ? target : undefined;
}

/**
 * Writes (or renews) the holder's local target for LOCAL_TARGET_LEASE_SECONDS from `at`; throws
 * a LocalTargetHeldError when another holder's has not expired.
 */
export async function holdLocalTarget(target: Omit<LocalTarget, 'expiresAt'>, at = new Date()): Promise<void> {
  const now = Math.floor(at.getTime() / 1000);
  try {
    await send(
      new PutCommand({
        TableName: tableName(),
        Item: {
          ...keys.localWebhookTarget(target.orgId, target.subscriptionId),
          entity: Entity.localWebhookTarget,
          ...target,
          expiresAt: now + LOCAL_TARGET_LEASE_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #owner = :owner OR expiresAt <= :now',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': target.owner, ':now': now },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
      ['ConditionalCheckFailedException'],
    );
  } catch (error) {
    const held = (error as { name?: string; Item?: Record<string, unknown> }).Item;
    if ((error as { name?: string }).name === 'ConditionalCheckFailedException' && held) {
      throw new LocalTargetHeldError(localTargetOf(unmarshall(held as never)));
    }
    throw error;
  }
}

/** Deletes the holder's local target (another holder's is left alone); whether there was one to delete. */
export async function releaseLocalTarget(orgId: number, subscriptionId: string, owner: string): Promise<boolean> {
  try {
    await send<DeleteCommandOutput>(
      new DeleteCommand({
        TableName: tableName(),
        Key: keys.localWebhookTarget(orgId, subscriptionId),
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': owner },
      }),
      ['ConditionalCheckFailedException'],
    );
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}
