// The per-org rate window: one item per org and minute whose `requests` counts the requests
// reserved in that minute (see lib/rateLimit.ts for how instances reserve from it).

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type UpdateCommandOutput } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../config';
import { send } from './client';
import { Entity, keys } from './keys';

/** Window items outlive their minute a little, then TTL removes them. */
const WINDOW_TTL_SECONDS = 120;

export type Reserved = { reserved: number; total: number } | { left: number } | { full: true };

/**
 * Adds `block` to the window's count if it stays within the limit. When it would not, the
 * count found says whether the window is full or how many are left.
 */
export async function reserveInWindow(orgId: number, windowStart: number, reset: number, limit: number, block: number): Promise<Reserved> {
  try {
    const result = await send<UpdateCommandOutput>(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.rateWindow(orgId, windowStart),
        UpdateExpression: 'ADD #count :block SET expiresAt = if_not_exists(expiresAt, :expires), entity = :entity',
        ConditionExpression: 'attribute_not_exists(#count) OR #count <= :most',
        ExpressionAttributeNames: { '#count': 'requests' },
        ExpressionAttributeValues: { ':block': block, ':most': limit - block, ':expires': reset + WINDOW_TTL_SECONDS, ':entity': Entity.rateWindow },
        ReturnValues: 'UPDATED_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
      ['ConditionalCheckFailedException'],
    );
    return { reserved: block, total: Number(result.Attributes?.requests ?? block) };
  } catch (error) {
    if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    const item = (error as { Item?: Record<string, AttributeValue> }).Item;
    const counted = item?.requests?.N === undefined ? limit : Number(item.requests.N);
    const left = limit - counted;
    return left > 0 && left < block ? { left } : { full: true };
  }
}
