// `POST /v2/customers`: validate, read, count against the org's rate limit, register (SPEC
// sections 3 and 6), idempotently when asked, and turn the outcome into the answer: the
// response, a replay, a 422 or a rejection. A request refused before it is counted costs no
// DynamoDB request at all.

import type { Caller } from '../auth';
import { checkRegistrationQuery } from '../registration/context';
import { ApiError } from '../errors';
import { readIdempotencyKey } from '../idempotency';
import { takeRequest } from '../rateLimit';
import { answer, type Answer } from './answer';
import { prepareRegistration, registerPrepared } from './registerOne';
import { replayAnswer, withRateHeaders } from './writes';

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

export async function addCustomer(request: AddCustomerRequest): Promise<Answer> {
  const { org, till } = request.caller;
  const key = readIdempotencyKey(org.orgId, request.idempotencyKey, requestText(request));
  checkRegistrationQuery(request.query);
  const registration = prepareRegistration(request.body, { org, till, query: request.query, now: new Date() });
  if (registration instanceof ApiError) throw registration;
  const rate = await takeRequest(org);
  return withRateHeaders(rate.headers, async () => {
    const settled = await registerPrepared(registration, org, key);
    switch (settled.kind) {
      case 'created':
      case 'merged':
        return answer(200, settled.response, settled.kind, rate.headers);
      case 'rejected':
        throw settled.error;
      case 'replayed':
        return replayAnswer(settled.response, rate.headers);
    }
  });
}

/** What an Idempotency-Key is bound to: the body as sent and the query that fills profiles. */
function requestText(request: Pick<AddCustomerRequest, 'bodyText' | 'query'>): string {
  return JSON.stringify([request.bodyText, request.query]);
}
