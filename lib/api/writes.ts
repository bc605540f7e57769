// What every write route shares around its outcome: the response an idempotency record keeps,
// the answer a replay gets, the rate headers on every answer once the request is counted, and
// what a change route's Idempotency-Key is bound to.

import { ApiError, errorBody, type Problem, type Warning } from '../errors';
import { replayOf } from '../idempotency';
import type { IdempotencyRecord, RecordKey, StoredResponse } from '../store/idempotencyRecords';
import type { Answer } from './answer';

/** The response a refusal's record keeps: its status and error body. */
export function storedRefusal(problems: Problem[], warnings: Warning[] = []): StoredResponse {
  const error = new ApiError(problems, warnings);
  return { statusCode: error.status, body: JSON.stringify(errorBody(error.problems, error.warnings)) };
}

/** The response a success's record keeps. */
export function storedSuccess(body: unknown): StoredResponse {
  return { statusCode: 200, body: JSON.stringify(body) };
}

/** The answer of a recorded response, replayed as it was. */
export function replayAnswer(response: StoredResponse, headers: Record<string, string>): Answer {
  return { status: response.statusCode, body: response.body, headers: { ...headers, 'Idempotent-Replayed': 'true' }, outcome: 'replayed' };
}

/** The answer of a request whose idempotency record was in place: its first response, or 422. */
export function replayed(key: RecordKey, record: IdempotencyRecord, headers: Record<string, string>): Answer {
  return replayAnswer(replayOf(key, record), headers);
}

/** Runs a counted request: every answer from here on, a failure too, carries the rate headers. */
export async function withRateHeaders(headers: Record<string, string>, run: () => Promise<Answer>): Promise<Answer> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ApiError) error.withHeaders(headers);
    throw error;
  }
}

/** What a change route's Idempotency-Key is bound to: the route, the customer, the query and the body as sent. */
export function requestText(route: string, request: { id?: string; query: object; bodyText: string }): string {
  return JSON.stringify([route, request.id ?? '', request.query, request.bodyText]);
}
