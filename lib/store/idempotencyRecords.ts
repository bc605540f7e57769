// The idempotency record of a request sent with an `Idempotency-Key` (SPEC section 6): one item
// per org and key holding the request's hash and the response it got. A registration writes it
// inside its own transaction (see plans.ts), so a retry either finds it or finds nothing
// written at all; a request refused by the identity rules (409) writes it alone. A request
// refused by validation writes none, so that its key stays free. TTL removes it after a day.

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, PutCommand, type BatchGetCommandOutput, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { tableName } from '../config';
import { setTimeout as sleep } from 'node:timers/promises';
import { send } from './client';
import { unavailable } from './storeError';
import { Entity, keys } from './keys';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface StoredResponse {
  statusCode: number;
  body: string;
}

/** Which record a request claims: its org, its key, and the hash of the request sent with it. */
export interface RecordKey {
  orgId: number;
  key: string;
  requestHash: string;
  /** How long the record is kept; a day unless told (an import keeps its records 30 days). */
  ttlSeconds?: number;
}

/** A record found in the table. */
export interface IdempotencyRecord {
  requestHash: string;
  response: StoredResponse;
  /** Epoch seconds after which the record counts as absent. */
  expiresAt: number;
}

const DEFAULT_TTL_SECONDS = 24 * 60 * 60;

/** The Put that claims the record, for a transaction; it fails while an unexpired one exists. */
export function putIdempotencyRecord(key: RecordKey, response: StoredResponse, now = Date.now()): TransactItem {
  const nowSeconds = Math.floor(now / 1000);
  return {
    Put: {
      TableName: tableName(),
      Item: {
        ...keys.idempotency(key.orgId, key.key),
        entity: Entity.idempotency,
        requestHash: key.requestHash,
        response,
        expiresAt: nowSeconds + (key.ttlSeconds ?? DEFAULT_TTL_SECONDS),
      },
      // TTL deletes lazily: an expired record counts as absent.
      ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
      ExpressionAttributeValues: { ':now': nowSeconds },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** The record as stored, from the item a read or a cancellation returned. */
export function recordOf(item: Record<string, unknown> | undefined, now = Date.now()): IdempotencyRecord | undefined {
  if (!item || typeof item.requestHash !== 'string') return undefined;
  const expiresAt = Number(item.expiresAt);
  if (expiresAt < Math.floor(now / 1000)) return undefined;
  const response = item.response as StoredResponse;
  return { requestHash: item.requestHash, response: { statusCode: Number(response.statusCode), body: String(response.body) }, expiresAt };
}

/**
 * Claims the record on its own, for a request that writes nothing else (one refused by the
 * rules). Undefined when it was claimed; the record in place when a twin request got there
 * first, so that this one replays it (or answers 422).
 */
export async function claimIdempotencyRecord(
  key: RecordKey,
  response: StoredResponse,
  now = Date.now(),
): Promise<IdempotencyRecord | undefined> {
  const put = putIdempotencyRecord(key, response, now).Put!;
  // A record that expired between DynamoDB's check and ours is claimed on the next try.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await send(new PutCommand(put as never), ['ConditionalCheckFailedException']);
      return undefined;
    } catch (error) {
      const item = (error as { Item?: Record<string, AttributeValue> }).Item;
      const found = recordOf(item ? unmarshall(item) : undefined, now);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * The records of up to 100 keys of an org, by key, in one BatchGetItem (strongly consistent),
 * for a bulk add that replays its finished items. Keys DynamoDB left unprocessed are asked again.
 */
export async function readIdempotencyRecords(
  orgId: number,
  recordKeys: readonly string[],
  now = Date.now(),
): Promise<Map<string, IdempotencyRecord>> {
  const found = new Map<string, IdempotencyRecord>();
  const table = tableName();
  const keyOfPk = new Map(recordKeys.map((key) => [keys.idempotency(orgId, key).pk, key]));
  let wanted: Record<string, unknown>[] = recordKeys.map((key) => ({ ...keys.idempotency(orgId, key) }));
  for (let round = 0; wanted.length > 0; round++) {
    // Unprocessed keys are what a throttled table leaves: asked again after a pause, then 503.
    if (round > 0) await sleep(Math.min(1000, 25 * 2 ** round));
    if (round > 5) throw unavailable();
    const page = await send<BatchGetCommandOutput>(
      new BatchGetCommand({ RequestItems: { [table]: { Keys: wanted, ConsistentRead: true } } }),
    );
    for (const item of page.Responses?.[table] ?? []) {
      const record = recordOf(item, now);
      const key = keyOfPk.get(String(item.pk));
      if (record && key !== undefined) found.set(key, record);
    }
    wanted = (page.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
  }
  return found;
}
