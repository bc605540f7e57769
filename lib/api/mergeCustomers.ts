// `POST /v2/customers/{survivorId}/merge` and `POST /v2/customers/{id}/unmerge` (SPEC section
// 15): for tills the org allows to merge (others 403 whatever the id, so that a till cannot
// probe), counted against the org's per-minute limit, idempotent with an Idempotency-Key as on
// every write route. The merge answers the survivor's document as GET returns it; its preview
// answers the document it would be, writing nothing.

import type { Caller } from '../auth';
import { ApiError, Code } from '../errors';
import { readIdempotencyKey } from '../idempotency';
import { notFound } from '../lifecycle/changeLoop';
import { mergeCustomers as merge, unmergeProfile, type MergeOutcome, type UnmergeOutcome } from '../lifecycle/merge';
import { mergedCustomer } from '../lifecycle/mergeRules';
import { namedProfileIndex } from '../lifecycle/namedProfile';
import { takeRequest } from '../rateLimit';
import { checkMergeCustomersBody, checkUnmergeCustomerBody } from '../schemas/validate';
import type { StoredResponse } from '../store/idempotencyRecords';
import { answer, type Answer } from './answer';
import { customerDocument } from './customerDocument';
import { customerIdOf } from './reads';
import { replayed, requestText, storedRefusal, storedSuccess, withRateHeaders } from './writes';

export interface MergeRequest {
  id?: string;
  body: unknown;
  bodyText: string;
  preview?: string;
  caller: Caller;
  idempotencyKey?: string;
}

function mayMerge(caller: Caller): void {
  const { org, till } = caller;
  if (!(org.mergingTills ?? []).includes(till)) throw ApiError.of(Code.forbidden, `till ${till} may not merge or unmerge customers`);
}

export async function mergeCustomers(request: MergeRequest): Promise<Answer> {
  mayMerge(request.caller);
  const { org } = request.caller;
  const preview = readPreview(request.preview);
  const key = preview
    ? undefined
    : readIdempotencyKey(
        org.orgId,
        request.idempotencyKey,
        requestText('merge', { id: request.id, query: {}, bodyText: request.bodyText }),
      );
  const { body } = checkMergeCustomersBody(request.body);
  const survivorId = customerIdOf(request.id);
  if (survivorId === undefined) throw new ApiError(notFound());
  if (body.victimId === survivorId) throw ApiError.of(Code.badRequest, 'the victim is the survivor', '/victimId');
  const rate = await takeRequest(org);
  return withRateHeaders(rate.headers, async () => {
    const documentOf = (outcome: Extract<MergeOutcome, { kind: 'merged' }>) =>
      customerDocument(mergedCustomer(outcome.survivor, outcome.victim), org);
    const outcome = await merge(org.orgId, survivorId, body.victimId, org.identityGuards?.maxProfilesPerCustomer, {
      preview,
      ...(key
        ? {
            idempotency: {
              key,
              response: (settled): StoredResponse =>
                settled.kind === 'rejected' ? storedRefusal(settled.problems) : storedSuccess(documentOf(settled)),
            },
          }
        : {}),
    });
    switch (outcome.kind) {
      case 'merged':
        return answer(200, documentOf(outcome), preview ? 'previewed' : 'merged', rate.headers);
      case 'rejected':
        throw new ApiError(outcome.problems);
      case 'recorded':
        return replayed(key!, outcome.record, rate.headers);
    }
  });
}

export async function unmergeCustomer(request: Omit<MergeRequest, 'preview'>): Promise<Answer> {
  mayMerge(request.caller);
  const { org } = request.caller;
  const key = readIdempotencyKey(
    org.orgId,
    request.idempotencyKey,
    requestText('unmerge', { id: request.id, query: {}, bodyText: request.bodyText }),
  );
  const { body } = checkUnmergeCustomerBody(request.body);
  const id = customerIdOf(request.id);
  if (id === undefined) throw new ApiError(notFound());
  const query = { source: body.source, ...(body.accountId === undefined ? {} : { accountId: body.accountId }) };
  const rate = await takeRequest(org);
  return withRateHeaders(rate.headers, async () => {
    const outcome = await unmergeProfile(
      org.orgId,
      id,
      (customer) => {
        // The body names the profile as the change routes' query does; without an account, a multi-account source is ambiguous.
        const index = namedProfileIndex(customer, query);
        return index instanceof ApiError ? index.problems : index;
      },
      {
        maxProfiles: org.identityGuards?.maxProfilesPerCustomer,
        ...(key
          ? {
              idempotency: {
                key,
                response: (settled) => (settled.kind === 'rejected' ? storedRefusal(settled.problems) : storedSuccess(responseOf(settled))),
              },
            }
          : {}),
      },
    );
    switch (outcome.kind) {
      case 'unmerged':
        return answer(200, responseOf(outcome), 'unmerged', rate.headers);
      case 'rejected':
        throw new ApiError(outcome.problems);
      case 'recorded':
        return replayed(key!, outcome.record, rate.headers);
    }
  });
}

function responseOf(outcome: Extract<UnmergeOutcome, { kind: 'unmerged' }>) {
  const plain = (identifiers: { type: string; value: string }[]) => identifiers.map(({ type, value }) => ({ type, value }));
  return { entity: { id: outcome.to }, kept: plain(outcome.kept), moved: plain(outcome.moved), warnings: [] };
}

function readPreview(raw: string | undefined): boolean {
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  throw ApiError.of(Code.badRequest, 'preview must be true or false', '/preview');
}
