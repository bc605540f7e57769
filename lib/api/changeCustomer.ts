// `PUT /v2/customers/{id}` and `POST /v2/customers/{id}/changeIdentifier` (SPEC section 11):
// validate and read the body, count the request against the org's one per-minute limit, apply
// the change in one transaction (lib/lifecycle/changeLoop.ts), idempotently when asked, and
// turn the outcome into the answer. A request refused before it is counted costs no DynamoDB
// request at all.

import type { Caller } from '../auth';
import { generateCardNumber } from '../cards';
import type { VersionedCustomer } from '../customer';
import { ApiError, statusList, type Warning } from '../errors';
import { readIdempotencyKey } from '../idempotency';
import { changeCustomer, notFound, type ChangeDecision, type ChangeOutcome } from '../lifecycle/changeLoop';
import { applyIdentifierChange, readIdentifierChange, type IdentifierChange } from '../lifecycle/identifierChange';
import { namedProfileIndex, type ProfileQuery } from '../lifecycle/namedProfile';
import { applyUpdate, readUpdate, refuseUnchangeableParts } from '../lifecycle/update';
import { takeRequest, type RateDecision } from '../rateLimit';
import type { ChangeCustomerResponse, SideEffect } from '../schemas/responses.schema';
import { checkChangeIdentifierBody, checkUpdateCustomerBody } from '../schemas/validate';
import type { RecordKey, StoredResponse } from '../store/idempotencyRecords';
import { answer, type Answer, type Outcome } from './answer';
import { customerIdOf } from './reads';
import { replayed, requestText, storedRefusal, storedSuccess, withRateHeaders } from './writes';

export interface ChangeCustomerRequest {
  /** The `{id}` of the path, as sent. */
  id?: string;
  body: unknown;
  bodyText: string;
  query: ProfileQuery;
  caller: Caller;
  idempotencyKey?: string;
}

export async function updateCustomer(request: ChangeCustomerRequest): Promise<Answer> {
  const { org, till } = request.caller;
  const key = readIdempotencyKey(org.orgId, request.idempotencyKey, requestText('update', request));
  refuseUnchangeableParts(request.body);
  const checked = checkUpdateCustomerBody(request.body);
  const update = readUpdate(checked.body, checked.warnings, org);
  return counted(request, key, 'updated', (customer) => {
    const index = namedProfileIndex(customer, request.query);
    if (index instanceof ApiError) return { kind: 'rejected', problems: index.problems, warnings: update.warnings };
    const applied = applyUpdate(customer, index, update, org, till, new Date().toISOString());
    if (applied.kind === 'rejected') return applied;
    return { kind: 'write', after: applied.after, claim: [], release: [], warnings: applied.warnings, sideEffects: applied.sideEffects };
  });
}

export async function changeIdentifier(request: ChangeCustomerRequest): Promise<Answer> {
  const { org, till } = request.caller;
  const key = readIdempotencyKey(org.orgId, request.idempotencyKey, requestText('changeIdentifier', request));
  const checked = checkChangeIdentifierBody(request.body);
  const now = new Date().toISOString();
  const change = readIdentifierChange(checked.body, checked.warnings, org, now);
  return counted(request, key, 'identifiers_changed', (customer) => {
    const index = namedProfileIndex(customer, request.query);
    if (index instanceof ApiError) return { kind: 'rejected', problems: index.problems, warnings: change.warnings };
    const drawn = withDrawnCard(change, org);
    const applied = applyIdentifierChange(customer, index, drawn, till, now);
    if (applied.kind === 'rejected') return applied;
    const card = drawn.card && applied.claim.some((c) => c.identifier.type === 'card') ? drawn.card.card : undefined;
    const sideEffects: SideEffect[] = card
      ? [{ type: 'card', cardNumber: card.cardNumber, seriesId: card.seriesId, seriesCode: card.seriesCode, statusLabel: card.statusLabel }]
      : [];
    return {
      kind: 'write',
      after: applied.after,
      // A number the series drew is drawn again when taken, never reported: the client did not choose it.
      claim: applied.claim.map((c) => ({ ...c, drawn: c.identifier.type === 'card' && drawn.card?.card.generated === true })),
      release: applied.release,
      warnings: applied.warnings,
      sideEffects,
    };
  });
}

/** A card of a generating series gets a fresh number at each attempt. */
function withDrawnCard(change: IdentifierChange, org: Caller['org']): IdentifierChange {
  const card = change.card?.card;
  if (!card?.generated) return change;
  const series = org.cardSeries.find((s) => s.id === card.seriesId)!;
  return { ...change, card: { ...change.card!, card: { ...card, cardNumber: generateCardNumber(series) } } };
}

/** Counts the request against the org's limit and runs the change; every answer, a failure too, carries the rate headers. */
async function counted(
  request: ChangeCustomerRequest,
  key: RecordKey | undefined,
  outcomeName: Outcome,
  decide: (customer: VersionedCustomer) => ChangeDecision,
): Promise<Answer> {
  const { org } = request.caller;
  const id = customerIdOf(request.id);
  // An id that cannot be a customer's is as unknown as a missing one, and costs nothing.
  if (id === undefined) throw new ApiError(notFound());
  const rate: RateDecision = await takeRequest(org);
  return withRateHeaders(rate.headers, async () => {
    const outcome = await changeCustomer(org.orgId, id, decide, key ? { idempotency: { key, response: storedResponseOf } } : {});
    return settled(outcome, key, outcomeName, rate.headers);
  });
}

function settled(outcome: ChangeOutcome, key: RecordKey | undefined, outcomeName: Outcome, headers: Record<string, string>): Answer {
  switch (outcome.kind) {
    case 'changed':
      return answer(200, responseOf(outcome.customerId, outcome.warnings, outcome.sideEffects), outcomeName, headers);
    case 'rejected':
      throw new ApiError(outcome.problems, outcome.warnings);
    case 'recorded':
      return replayed(key!, outcome.record, headers);
  }
}

function storedResponseOf(outcome: Exclude<ChangeOutcome, { kind: 'recorded' }>): StoredResponse {
  return outcome.kind === 'rejected'
    ? storedRefusal(outcome.problems, outcome.warnings)
    : storedSuccess(responseOf(outcome.customerId, outcome.warnings, outcome.sideEffects));
}

function responseOf(customerId: number, warnings: Warning[], sideEffects: SideEffect[]): ChangeCustomerResponse {
  return { createdId: customerId, warnings: statusList(warnings), sideEffects };
}
