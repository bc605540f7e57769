import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { defaultRateLimitPerMinute, tableName } from './config';
import { ApiError } from './errors';
import type { OrgConfig } from './org';
import { documentClient } from './store/client';
import { toStoreError } from './store/customers';
import { keys } from './store/keys';

/**
 * The per-org limit on POST /v2/customers (SPEC section 6): a fixed one-minute window counted
 * in one DynamoDB item per org and window, so every Lambda instance shares it. The increment
 * is conditional on the count being under the limit, so concurrent requests never overshoot.
 */

const WINDOW_MS = 60_000;
/** Window items outlive their minute a little, then TTL removes them. */
const WINDOW_TTL_SECONDS = 120;

export interface RateDecision {
  limit: number;
  remaining: number;
  /** Epoch seconds when the current window ends. */
  reset: number;
  headers: Record<string, string>;
}

export function limitOf(org: OrgConfig): number {
  return org.rateLimitPerMinute ?? defaultRateLimitPerMinute();
}

/** Counts one request for the org; throws 429 (with the rate headers) when over the limit. */
export async function takeRequest(org: OrgConfig, now = Date.now()): Promise<RateDecision> {
  const limit = limitOf(org);
  const windowStart = Math.floor(now / WINDOW_MS) * WINDOW_MS;
  const reset = Math.ceil((windowStart + WINDOW_MS) / 1000);
  try {
    const result = await documentClient().send(new UpdateCommand({
      TableName: tableName(),
      Key: keys.rateWindow(org.orgId, windowStart),
      UpdateExpression: 'ADD #count :one SET expiresAt = if_not_exists(expiresAt, :expires), entity = :entity',
      ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
      ExpressionAttributeNames: { '#count': 'requests' },
      ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':expires': reset + WINDOW_TTL_SECONDS, ':entity': 'rateWindow' },
      ReturnValues: 'UPDATED_NEW',
    }));
    const count = Number(result.Attributes?.requests ?? 1);
    return decision(limit, Math.max(0, limit - count), reset);
  } catch (error) {
    if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw toStoreError(error);
    const over = decision(limit, 0, reset);
    const retryAfter = Math.max(1, reset - Math.floor(now / 1000));
    throw ApiError.of(429, `rate limit of ${limit} requests per minute reached; retry after ${retryAfter} s`)
      .withHeaders({ ...over.headers, 'Retry-After': String(retryAfter) });
  }
}

function decision(limit: number, remaining: number, reset: number): RateDecision {
  return {
    limit,
    remaining,
    reset,
    headers: {
      'X-RateLimit-Limit': String(limit),
      'X-RateLimit-Remaining': String(remaining),
      'X-RateLimit-Reset': String(reset),
    },
  };
}
