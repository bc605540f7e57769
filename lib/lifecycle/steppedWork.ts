// What a merge or unmerge too large for one transaction leaves between its steps (SPEC section
// 15; the transactions are lib/store/mergePlans.ts), and how it is finished. Any request that
// meets such a customer finishes the work first instead of waiting on it or refusing: the same
// merge sent again, a registration through one of its values, a change, an erase, another merge
// or unmerge. So a merge whose function was killed midway never leaves a customer that only one
// particular request can free.

import { backoff } from '../backoff';
import { hasStepsLeft, identifierKeyOf, uniqueIdentifiers, type VersionedCustomer } from '../customer';
import { loadCustomer } from '../store/customers';
import type { IdempotencyRecord } from '../store/idempotencyRecords';
import { mergeRemainder, mergeSteps, planFinishMerge, planIdentifierRefresh, planMergeStep, refreshSteps } from '../store/mergePlans';
import { MAX_TRANSACTION_ITEMS, type PlannedTransaction, type RecordToClaim } from '../store/plans';
import { unavailable } from '../store/storeError';
import { runTransaction, type TransactionResult } from '../store/transactions';

type Run = (plan: PlannedTransaction) => Promise<TransactionResult>;

/**
 * Sends one step of a stepped erase or merge. A value the step found no longer naming the
 * customer (an earlier send of the step moved or deleted it) is skipped, and the step sent again without it.
 */
export async function runStep(run: Run, plan: PlannedTransaction, skip: Set<string>, whenUnknown: string): Promise<'done' | 'again'> {
  const result = await run(plan);
  if (result.ok) return 'done';
  if ('unknown' in result) throw unavailable(whenUnknown);
  const { cancellation } = result;
  if (cancellation.ownWrite) return 'done';
  for (const key of cancellation.notReleased) skip.add(key);
  return 'again';
}

export const MERGE_UNKNOWN = 'the customer table did not answer in time during a merge; send the merge again to finish it';
const REFRESH_UNKNOWN = 'the customer table did not answer in time during an unmerge; send the unmerge again to finish it';

/** Reads of a stepped merge in a row without progress before giving up. */
const MAX_FINISH_ATTEMPTS = 8;

/** Whether `victim` is being merged into `survivor` in steps, both as read. */
export function mergingInto(survivor: VersionedCustomer, victim: VersionedCustomer): boolean {
  return victim.activity === 'MERGING' && victim.mergedInto === survivor.id && survivor.mergingFrom === victim.id;
}

export type StepsOutcome = { kind: 'done' } | { kind: 'again' } | { kind: 'recorded'; record: IdempotencyRecord };

/**
 * The steps after a stepped merge's mark, from both customers as read: the victim's identifiers
 * (those not in `skip`: found moved by an earlier send), then its profile items, then the last
 * step with the record. `again` when a step met a change: read both again and call it again.
 */
export async function runMergeSteps(
  survivor: VersionedCustomer,
  victim: VersionedCustomer,
  record: RecordToClaim | undefined,
  run: Run,
  stepItems: number,
  skip: Set<string>,
): Promise<StepsOutcome> {
  const remainder = mergeRemainder(victim);
  const { steps, last } = mergeSteps(
    { ...remainder, identifiers: remainder.identifiers.filter((i) => !skip.has(identifierKeyOf(i))) },
    stepItems,
    record !== undefined,
  );
  for (const part of steps) {
    if ((await runStep(run, planMergeStep(survivor, victim, part), skip, MERGE_UNKNOWN)) !== 'done') return { kind: 'again' };
  }
  const result = await run(planFinishMerge(survivor, victim, last, record));
  if (result.ok) return { kind: 'done' };
  if ('unknown' in result) throw unavailable(MERGE_UNKNOWN);
  if (result.cancellation.ownWrite) return { kind: 'done' };
  if (result.cancellation.record) return { kind: 'recorded', record: result.cancellation.record };
  for (const key of result.cancellation.notReleased) skip.add(key);
  return { kind: 'again' };
}

/** Finishes the stepped merge of `victimId` into `survivorId`, if one is under way. */
export async function finishMerge(
  orgId: number,
  survivorId: number,
  victimId: number,
  run: Run = runTransaction,
  stepItems = MAX_TRANSACTION_ITEMS,
) {
  const skip = new Set<string>();
  for (let attempt = 1; attempt <= MAX_FINISH_ATTEMPTS; attempt++) {
    const [survivor, victim] = await Promise.all([
      loadCustomer(orgId, survivorId, { consistent: true }),
      loadCustomer(orgId, victimId, { consistent: true }),
    ]);
    if (!survivor || !victim || !mergingInto(survivor, victim)) return;
    const before = skip.size;
    if ((await runMergeSteps(survivor, victim, undefined, run, stepItems, skip)).kind !== 'again') return;
    if (skip.size === before) await backoff(attempt);
  }
  throw unavailable(`the merge of customer ${victimId} into customer ${survivorId} kept meeting changes; send it again to finish it`);
}

/**
 * The steps after a stepped unmerge's split: every identifier that stayed records the customer's
 * source accounts, and the last step clears the mark. Read again when the customer changes
 * meanwhile; the mark stays if it keeps changing (the next request that meets it carries on).
 */
export async function refreshIdentifiers(orgId: number, customerId: number, run: Run = runTransaction, stepItems = MAX_TRANSACTION_ITEMS) {
  const skip = new Set<string>();
  for (let attempt = 1; attempt <= MAX_FINISH_ATTEMPTS; attempt++) {
    const customer = await loadCustomer(orgId, customerId, { consistent: true });
    if (!customer?.refreshingIdentifiers || customer.activity !== 'ACTIVE') return;
    const chunks = refreshSteps(
      uniqueIdentifiers(customer.profiles).filter((i) => !skip.has(identifierKeyOf(i))),
      stepItems,
    );
    let done = true;
    for (const [i, chunk] of chunks.entries()) {
      if ((await runStep(run, planIdentifierRefresh(customer, chunk, i === chunks.length - 1), skip, REFRESH_UNKNOWN)) !== 'done') {
        done = false;
        break;
      }
    }
    if (done) return;
    await backoff(attempt);
  }
}

/**
 * Finishes whatever stepped work the customer is in the middle of (read strongly consistent):
 * true when there was some, so that the caller reads again.
 */
export async function finishSteppedWork(
  orgId: number,
  customerId: number,
  run: Run = runTransaction,
  stepItems = MAX_TRANSACTION_ITEMS,
): Promise<boolean> {
  const customer = await loadCustomer(orgId, customerId, { consistent: true });
  if (!customer || !hasStepsLeft(customer)) return false;
  if (customer.activity === 'MERGING' && customer.mergedInto !== undefined) {
    await finishMerge(orgId, customer.mergedInto, customerId, run, stepItems);
  } else if (customer.mergingFrom !== undefined) await finishMerge(orgId, customerId, customer.mergingFrom, run, stepItems);
  else await refreshIdentifiers(orgId, customerId, run, stepItems);
  return true;
}
