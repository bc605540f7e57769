// The per-org rate window: one item per org and minute whose `requests` counts the requests
// reserved in that minute (see lib/rateLimit.ts for how instances reserve from it).
//
// A reservation must count once however often the SDK sends it (a timed-out update may have
// been applied). Each process writes, in the same update, its own attribute holding the
// sequence number of its latest reservation, and the update requires that number to be lower:
// a re-sent reservation that was applied already fails that condition and finds its own number,
// which says it counted. One attribute per process and minute is the price: a 9-character name
// (48 random bits) and a number, 11 to 14 bytes. An update costs 1 write unit per started KB of
// the item, so an org's minute served by more than about 70 instances costs 2 per update from
// then on (bench: "Rate counter with many instances").

import { randomBytes } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type UpdateCommandOutput } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../config';
import { send } from './client';
import { Entity, keys } from './keys';

/** Window items outlive their minute a little, then TTL removes them. */
const WINDOW_TTL_SECONDS = 120;

export type Reserved = { reserved: number; total: number } | { left: number } | { full: true };

/**
 * One process's reservations in the window items: its own attribute in every window item and
 * the sequence number of its latest reservation. A Lambda instance has one (lib/rateLimit.ts);
 * benchmarks and tests make several to act as several instances in one process.
 */
export class RateWindows {
  /** Short on purpose: every update pays for the size of the item, and with it every instance's attribute. */
  private readonly attribute = `i${randomBytes(6).toString('base64url')}`;
  private sequence = 0;

  /**
   * Adds `block` to the window's count if it stays within the limit. When it would not, the
   * count found says whether the window is full or how many are left. Reservations of one
   * instance must not overlap (lib/rateLimit.ts sends them one at a time).
   */
  async reserve(orgId: number, windowStart: number, reset: number, limit: number, block: number): Promise<Reserved> {
    // The condition below lets any block into an empty window: one larger than the limit would overshoot.
    if (block > limit) throw new RangeError(`a block of ${block} cannot fit a limit of ${limit}`);
    const seq = ++this.sequence;
    try {
      const result = await send<UpdateCommandOutput>(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.rateWindow(orgId, windowStart),
          UpdateExpression: 'ADD #count :block SET #me = :seq, expiresAt = if_not_exists(expiresAt, :expires), entity = :entity',
          ConditionExpression: '(attribute_not_exists(#count) OR #count <= :most) AND (attribute_not_exists(#me) OR #me < :seq)',
          ExpressionAttributeNames: { '#count': 'requests', '#me': this.attribute },
          ExpressionAttributeValues: {
            ':block': block,
            ':most': limit - block,
            ':seq': seq,
            ':expires': reset + WINDOW_TTL_SECONDS,
            ':entity': Entity.rateWindow,
          },
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
      // An earlier send of this very reservation was applied.
      if (item?.[this.attribute]?.N === String(seq)) return { reserved: block, total: counted };
      const left = limit - counted;
      return left > 0 && left < block ? { left } : { full: true };
    }
  }
}
