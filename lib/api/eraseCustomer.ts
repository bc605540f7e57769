// `DELETE /v2/customers/{id}` (SPEC section 12): only tills the org allows to erase (others 403,
// whatever the id, so that a till cannot probe which ids exist); counted against the org's one
// per-minute limit; erased in one transaction or in resumable steps (lib/lifecycle/erase.ts).
// Idempotent by nature (an erased customer answers as the erase did), and with an
// Idempotency-Key a repeat replays the first response as on every write route.

import type { Caller } from '../auth';
import { ApiError, Code } from '../errors';
import { readIdempotencyKey } from '../idempotency';
import { eraseCustomer as erase, type EraseOutcome } from '../lifecycle/erase';
import { notFound } from '../lifecycle/changeLoop';
import { takeRequest } from '../rateLimit';
import type { EraseCustomerResponse } from '../schemas/responses.schema';
import type { StoredResponse } from '../store/idempotencyRecords';
import { answer, type Answer } from './answer';
import { replayed, requestText, storedRefusal, storedSuccess, withRateHeaders } from './writes';
import { customerIdOf } from './reads';

export interface EraseCustomerRequest {
  id?: string;
  caller: Caller;
  idempotencyKey?: string;
}

export async function eraseCustomer(request: EraseCustomerRequest): Promise<Answer> {
  const { org, till } = request.caller;
  if (!(org.erasingTills ?? []).includes(till)) throw ApiError.of(Code.forbidden, `till ${till} may not erase customers`);
  const key = readIdempotencyKey(org.orgId, request.idempotencyKey, requestText('erase', { id: request.id, query: {}, bodyText: '' }));
  const id = customerIdOf(request.id);
  if (id === undefined) throw new ApiError(notFound());
  const rate = await takeRequest(org);
  return withRateHeaders(rate.headers, async () => {
    const outcome = await erase(org.orgId, id, key ? { idempotency: { key, response: storedResponseOf } } : {});
    switch (outcome.kind) {
      case 'erased':
        return answer(200, responseOf(outcome.customerId), 'erased', rate.headers);
      case 'rejected':
        throw new ApiError(outcome.problems);
      case 'recorded':
        return replayed(key!, outcome.record, rate.headers);
    }
  });
}

function storedResponseOf(outcome: Exclude<EraseOutcome, { kind: 'recorded' }>): StoredResponse {
  return outcome.kind === 'rejected' ? storedRefusal(outcome.problems) : storedSuccess(responseOf(outcome.customerId));
}

function responseOf(id: number): EraseCustomerResponse {
  return { entity: { id, status: 'ERASED' }, warnings: [] };
}
