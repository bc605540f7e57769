// `POST /v2/customers`: validate, read, count against the org's rate limit, register (SPEC
// sections 3 and 6), idempotently when asked, and turn the registration's outcome into the
// answer: the response, a replay, a 422 or a rejection. A request refused before it is
// counted costs no DynamoDB request at all.

import type { Caller } from '../auth';
import { ApiError, errorBody, statusList } from '../errors';
import { replayOf, readIdempotencyKey } from '../idempotency';
import { takeRequest } from '../rateLimit';
import { readRegistration } from '../registration/read';
import { registerCustomer, type Registered, type RegisterOptions, type Rejected } from '../registration/register';
import { checkAddCustomerBody } from '../schemas/validate';
import type { StoredResponse } from '../store/idempotencyRecords';
import { answer, type Answer } from './answer';

export interface AddCustomerRequest {
  /** The parsed JSON body. */
  body: unknown;
  /** The body as sent, which with the query is what an Idempotency-Key is bound to. */
  bodyText: string;
  query: { source?: string; accountId?: string };
  caller: Caller;
  /** `Idempotency-Key` header, if sent. */
  idempotencyKey?: string;
}

export interface AddCustomerResponse {
  createdId: number;
  warnings: ReturnType<typeof statusList>;
  sideEffects: Registered['sideEffects'];
}

export async function addCustomer(request: AddCustomerRequest): Promise<Answer> {
  const { org, till } = request.caller;
  const key = readIdempotencyKey(org.orgId, request.idempotencyKey, requestText(request));
  const { body, warnings } = checkAddCustomerBody(request.body);
  const registration = readRegistration(body, warnings, { org, till, query: request.query, now: new Date() });
  const rate = await takeRequest(org);
  // From here on every answer, a failure too, carries the rate headers.
  try {
    const options: RegisterOptions = key ? { idempotency: { key, response: storedResponseOf } } : {};
    const outcome = await registerCustomer(registration, org, options);
    switch (outcome.kind) {
      case 'created':
      case 'merged':
        return answer(200, responseOf(outcome), outcome.kind, rate.headers);
      case 'rejected':
        throw new ApiError(outcome.problems, outcome.warnings);
      case 'recorded': {
        const replay = replayOf(key!, outcome.record);
        return {
          status: replay.statusCode,
          body: replay.body,
          headers: { ...rate.headers, 'Idempotent-Replayed': 'true' },
          outcome: 'replayed',
        };
      }
    }
  } catch (error) {
    if (error instanceof ApiError) error.withHeaders(rate.headers);
    throw error;
  }
}

/** What an Idempotency-Key is bound to: the body as sent and the query that fills profiles. */
function requestText(request: Pick<AddCustomerRequest, 'bodyText' | 'query'>): string {
  return JSON.stringify([request.bodyText, request.query]);
}

/** The response an outcome gets, as its idempotency record keeps it. */
function storedResponseOf(outcome: Registered | Rejected): StoredResponse {
  if (outcome.kind === 'rejected') {
    const error = new ApiError(outcome.problems, outcome.warnings);
    return { statusCode: error.status, body: JSON.stringify(errorBody(error.problems, error.warnings)) };
  }
  return { statusCode: 200, body: JSON.stringify(responseOf(outcome)) };
}

export function responseOf(registered: Registered): AddCustomerResponse {
  return { createdId: registered.customerId, warnings: statusList(registered.warnings), sideEffects: registered.sideEffects };
}
