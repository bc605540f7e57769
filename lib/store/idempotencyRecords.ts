// The idempotency record of a request sent with an `Idempotency-Key` (SPEC section 6): one item
// per org and key holding the request's hash and the response it got. A registration writes it
// inside its own transaction (see plans.ts), so a retry either finds it or finds nothing
// written at all; a request refused by the identity rules (409) writes it alone. A request
// refused by validation writes none, so that its key stays free. TTL removes it after a day.

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  PutCommand,
  type BatchGetCommandOutput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
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
  /**
   * The customers a refusal's response names (8006, 8052, 3009, 8901): it is replayed only while
   * they are live, never after one is erased (SPEC section 12).
   */
  names?: number[];
}

const DEFAULT_TTL_SECONDS = 24 * 60 * 60;

function expiresAtOf(key: RecordKey, now: number): number {
  return Math.floor(now / 1000) + (key.ttlSeconds ?? DEFAULT_TTL_SECONDS);
}

/** The Put that claims the record, for a transaction; it fails while an unexpired one exists. */
export function putIdempotencyRecord(key: RecordKey, response: StoredResponse, now = Date.now(), names?: number[]): TransactItem {
  const nowSeconds = Math.floor(now / 1000);
  return {
    Put: {
      TableName: tableName(),
      Item: {
        ...keys.idempotency(key.orgId, key.key),
        entity: Entity.idempotency,
        requestHash: key.requestHash,
        response,
        expiresAt: expiresAtOf(key, now),
        ...(names && names.length > 0 ? { names } : {}),
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
  return {
    requestHash: item.requestHash,
    response: { statusCode: Number(response.statusCode), body: String(response.body) },
    expiresAt,
    ...(Array.isArray(item.names) && item.names.length > 0 ? { names: item.names.map(Number) } : {}),
  };
}

/**
 * How a customer lists the records written in its own transactions (its registration, merges
 * into it, its changes, bulk items and import lines), so that an erase deletes them without a
 * scan: `<expiresAt>|<key>`, the expiry first so that a listed record past it is skipped (its
 * key may have been claimed again since, for someone else).
 */
export function recordEntry(key: RecordKey, now = Date.now()): string {
  return `${expiresAtOf(key, now)}|${key.key}`;
}

/** The keys of the listed records not yet expired. */
export function liveRecordKeys(entries: Iterable<string>, now = Date.now()): string[] {
  return liveEntries(entries, now).map((entry) => entry.slice(entry.indexOf('|') + 1));
}

/** The listed entries not yet expired. */
export function liveEntries(entries: Iterable<string>, now = Date.now()): string[] {
  const nowSeconds = Math.floor(now / 1000);
  return [...entries].filter((entry) => Number(entry.slice(0, entry.indexOf('|'))) >= nowSeconds);
}

/** The Delete of a record a customer lists, for an erase's transaction. */
export function deleteIdempotencyRecord(orgId: number, key: string): TransactItem {
  return { Delete: { TableName: tableName(), Key: keys.idempotency(orgId, key) } };
}

/**
 * Deletes a refusal's record that names a customer no longer live, so that the request it was
 * for runs again as a new one; only while it is the record read (another may have replaced it).
 */
export async function dropStaleRecord(orgId: number, key: string, record: IdempotencyRecord): Promise<void> {
  try {
    await send(
      new DeleteCommand({
        TableName: tableName(),
        Key: keys.idempotency(orgId, key),
        ConditionExpression: 'requestHash = :hash AND expiresAt = :expiresAt',
        ExpressionAttributeValues: { ':hash': record.requestHash, ':expiresAt': record.expiresAt },
      }),
      ['ConditionalCheckFailedException'],
    );
  } catch (error) {
    if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
  }
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
  names?: number[],
): Promise<IdempotencyRecord | undefined> {
  const put = putIdempotencyRecord(key, response, now, names).Put!;
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
