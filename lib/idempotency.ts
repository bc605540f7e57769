import { createHash } from 'node:crypto';
import { tableName } from './config';
import { ApiError } from './errors';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from './store/client';
import { toStoreError, type Cancellation, type ExtraItem } from './store/customers';
import { keys } from './store/keys';

/**
 * `Idempotency-Key` (SPEC section 6). The record of a registration's response is written in
 * the same transaction as the registration itself, so a retry either finds the record (and
 * replays it) or finds nothing written at all. A rejected request writes nothing, so its key
 * stays free.
 */

const TTL_SECONDS = 24 * 60 * 60;
export const IDEMPOTENCY_RECORD = 'idempotency';

export interface StoredResponse {
  statusCode: number;
  body: string;
}

/** A replay of an earlier response; the route answers with it and `Idempotent-Replayed: true`. */
export class Replay extends Error {
  constructor(readonly response: StoredResponse) {
    super('idempotent replay');
  }
}

export interface IdempotencyKey {
  orgId: number;
  key: string;
  requestHash: string;
}

/** Reads the header; undefined when the request has none. */
export function readIdempotencyKey(orgId: number, header: string | undefined, requestText: string): IdempotencyKey | undefined {
  if (header === undefined) return undefined;
  if (header.length < 1 || header.length > 128) {
    throw ApiError.of(400, 'Idempotency-Key must be 1 to 128 characters', '/headers/Idempotency-Key');
  }
  return { orgId, key: header, requestHash: createHash('sha256').update(requestText).digest('hex') };
}

/** The record item that goes into the registration's transaction. */
export function idempotencyRecord(key: IdempotencyKey, response: StoredResponse, now = Date.now()): ExtraItem {
  const nowSeconds = Math.floor(now / 1000);
  return {
    name: IDEMPOTENCY_RECORD,
    item: {
      Put: {
        TableName: tableName(),
        Item: {
          ...keys.idempotency(key.orgId, key.key),
          entity: 'idempotency',
          requestHash: key.requestHash,
          response,
          expiresAt: nowSeconds + TTL_SECONDS,
        },
        // TTL deletes lazily: an expired record counts as absent.
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
        ExpressionAttributeValues: { ':now': nowSeconds },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    },
  };
}

/** When the record already exists: replay it for the same request, 422 for another. */
export function onExistingRecord(key: IdempotencyKey, cancellation: Cancellation): void {
  answerFromRecord(key, cancellation.extras.get(IDEMPOTENCY_RECORD));
}

/**
 * Before a request with a key is rejected: a copy of it may have committed while this one's
 * transaction conflicted with it, so the record is read (strongly consistent) and replayed.
 */
export async function replayIfRecorded(key: IdempotencyKey, now = Date.now()): Promise<void> {
  let item: Record<string, unknown> | undefined;
  try {
    ({ Item: item } = await documentClient().send(new GetCommand({
      TableName: tableName(),
      Key: keys.idempotency(key.orgId, key.key),
      ConsistentRead: true,
    })));
  } catch (error) {
    throw toStoreError(error);
  }
  if (item && Number(item.expiresAt) >= Math.floor(now / 1000)) answerFromRecord(key, item);
}

function answerFromRecord(key: IdempotencyKey, existing: Record<string, unknown> | undefined): void {
  if (!existing) return;
  if (existing.requestHash !== key.requestHash) {
    throw ApiError.of(422, 'Idempotency-Key was used with a different request', '/headers/Idempotency-Key');
  }
  throw new Replay(existing.response as StoredResponse);
}
