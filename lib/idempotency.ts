// `Idempotency-Key` (SPEC section 6): which record a request claims, and what a record found
// in place means for it. The record itself is written in the registration's own transaction
// (lib/store/plans.ts), so a retry either finds it (and replays it) or finds nothing written.

import { createHash } from 'node:crypto';
import { ApiError, Code } from './errors';
import type { IdempotencyRecord, RecordKey, StoredResponse } from './store/idempotencyRecords';

const MAX_KEY_LENGTH = 128;

/** Reads the header into the record a request claims; undefined when the request has none. */
export function readIdempotencyKey(orgId: number, header: string | undefined, requestText: string): RecordKey | undefined {
  if (header === undefined) return undefined;
  if (header.length < 1 || header.length > MAX_KEY_LENGTH) {
    throw ApiError.of(Code.badRequest, `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters`, '/headers/Idempotency-Key');
  }
  return { orgId, key: header, requestHash: hashOf(requestText) };
}

function hashOf(requestText: string): string {
  return createHash('sha256').update(requestText).digest('hex');
}

/** A record found for the request's key: the response to replay, or 422 when the key was used for another request. */
export function replayOf(key: RecordKey, record: IdempotencyRecord): StoredResponse {
  if (record.requestHash !== key.requestHash) {
    throw ApiError.of(Code.idempotencyKeyReused, 'Idempotency-Key was used with a different request', '/headers/Idempotency-Key');
  }
  return record.response;
}
