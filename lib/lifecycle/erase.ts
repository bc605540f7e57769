// Erases a customer (SPEC section 12): its identifier items that still name it (so the values
// are free), the idempotency records of its own requests (listed on the customer item, so no
// scan finds them), its merged profile items and its personal data go; a tombstone keeps the
// id, the time and the enrollments with their points.
//
// A customer that fits one transaction is erased in one, conditioned on the version read: a
// merge or change that lands after the read raises the version, so the erase reads again and
// never leaves a value or a profile behind. A larger one is marked ERASING first (after which
// merges into it fail their own condition, and changes too), then its parts are deleted in
// transactions of at most 100 items, identifiers first, and the tombstone is written last. Every
// step can be run again: a DELETE that finds the customer ERASING carries on where an
// interrupted one stopped, and one that finds it ERASED answers as the first did.

import { backoff } from '../backoff';
import { identifierKeyOf } from '../customer';
import type { Problem } from '../errors';
import { Code, problem } from '../errors';
import { loadCustomer } from '../store/customers';
import { deleteHistory } from '../store/history';
import {
  erasureParts,
  erasureSteps,
  fitsOneErasure,
  planErasure,
  planErasureStep,
  planMarkErasing,
  type ErasureParts,
} from '../store/changePlans';
import { claimIdempotencyRecord, type IdempotencyRecord, type RecordKey, type StoredResponse } from '../store/idempotencyRecords';
import { MAX_TRANSACTION_ITEMS, type PlannedTransaction } from '../store/plans';
import { unavailable } from '../store/storeError';
import { runTransaction, type TransactionResult } from '../store/transactions';
import { notFound } from './changeLoop';
import { finishSteppedWork, runStep } from './steppedWork';

const ERASE_UNKNOWN = 'the customer table did not answer in time during an erase; send the DELETE again to finish it';

export type EraseOutcome =
  | { kind: 'erased'; customerId: number; steps: number }
  | { kind: 'rejected'; problems: Problem[] }
  | { kind: 'recorded'; record: IdempotencyRecord };

type Settled = Exclude<EraseOutcome, { kind: 'recorded' }>;

export interface EraseOptions {
  idempotency?: { key: RecordKey; response: (outcome: Settled) => StoredResponse };
  run?: (plan: PlannedTransaction) => Promise<TransactionResult>;
  claimRecord?: (key: RecordKey, response: StoredResponse) => Promise<IdempotencyRecord | undefined>;
  /** Items per transaction of a stepped erase; DynamoDB's 100 unless told. */
  stepItems?: number;
  now?: () => Date;
}

/** Reads in a row that made no progress (a concurrent write won each time) before giving up. */
const MAX_STALLED_ATTEMPTS = 12;

export async function eraseCustomer(orgId: number, customerId: number, options: EraseOptions = {}): Promise<EraseOutcome> {
  const run = options.run ?? runTransaction;
  const claimRecord = options.claimRecord ?? claimIdempotencyRecord;
  const stepItems = options.stepItems ?? MAX_TRANSACTION_ITEMS;
  const now = options.now ?? (() => new Date());
  const settle = async (outcome: Settled): Promise<EraseOutcome> => {
    if (!options.idempotency) return outcome;
    const record = await claimRecord(options.idempotency.key, options.idempotency.response(outcome));
    return record ? { kind: 'recorded', record } : outcome;
  };
  // The history goes once the tombstone is written (SPEC section 15): no entry can be written
  // after it (lib/store/history.ts), so this deletion finds every one. A DELETE sent again
  // after an interruption here deletes what is left.
  // The victims of its explicit merges, as last read: their journals are the same person's, erased too.
  let victims: number[] = [];
  const withoutHistory = async (outcome: Settled): Promise<Settled> => {
    for (const id of [customerId, ...victims]) await deleteHistory(orgId, id);
    return outcome;
  };
  // Values a release found no longer naming the customer (freed by an earlier step, or never its): skipped.
  const skip = new Set<string>();
  /** Transactions of this erase that went through. */
  let steps = 0;
  let conflicts = 0;
  // An attempt that deleted something, or learnt of values no longer the customer's (a resumed
  // erase meets those a step at a time), is progress and does not count against the limit.
  let progress = -1;
  for (let stalled = 0; stalled < MAX_STALLED_ATTEMPTS;) {
    stalled = steps + skip.size === progress ? stalled + 1 : 0;
    progress = steps + skip.size;
    if (stalled >= MAX_STALLED_ATTEMPTS) break;
    const customer = await loadCustomer(orgId, customerId, { consistent: true });
    if (customer?.victims) victims = customer.victims;
    if (!customer) return settle({ kind: 'rejected', problems: notFound() });
    if (customer.activity === 'ERASED') return settle(await withoutHistory({ kind: 'erased', customerId, steps }));
    // A merge into it or of it that was cut short: finished first (then it is erased, or it is a victim: erase its survivor).
    if (customer.mergingFrom !== undefined || customer.activity === 'MERGING') {
      await finishSteppedWork(orgId, customerId, run, stepItems);
      await backoff(++conflicts);
      continue;
    }
    if (customer.activity === 'MERGED') {
      return settle({
        kind: 'rejected',
        problems: [
          problem(Code.notMergeable, `customer ${customerId} was merged into customer ${customer.mergedInto}: erase that one`, '/id'),
        ],
      });
    }
    // The erase's own key, if the customer lists it (a key reused for another request), is not deleted: its Put answers 422.
    const parts = without(erasureParts(customer), skip, options.idempotency?.key.key);
    const pending: Settled = { kind: 'erased', customerId, steps: steps + 1 };
    const record = options.idempotency && { key: options.idempotency.key, response: options.idempotency.response(pending) };
    let plan: PlannedTransaction;
    if (customer.activity === 'ACTIVE' && fitsOneErasure(parts, stepItems)) {
      plan = planErasure(customer, parts, now().toISOString(), record);
    } else if (customer.activity === 'ACTIVE') {
      // Too large for one transaction: mark it first, so that nothing merges into it meanwhile.
      const marked = await runStep(run, planMarkErasing(customer), skip, ERASE_UNKNOWN);
      if (marked === 'done') steps += 1;
      else await backoff(++conflicts);
      continue;
    } else {
      const { steps: middle, last } = erasureSteps(parts, stepItems);
      let interrupted = false;
      for (const step of middle) {
        if ((await runStep(run, planErasureStep(customer, step), skip, ERASE_UNKNOWN)) !== 'done') {
          interrupted = true;
          break;
        }
        steps += 1;
      }
      if (interrupted) {
        await backoff(++conflicts);
        continue;
      }
      plan = planErasure(customer, last, now().toISOString(), record);
    }
    const result = await run(plan);
    if (result.ok) return withoutHistory({ ...pending, steps: steps + 1 });
    if ('unknown' in result) {
      throw unavailable(
        `the customer table did not answer in time: customer ${customerId} may have been erased; send the DELETE again to finish it`,
      );
    }
    const cancellation = result.cancellation;
    if (cancellation.ownWrite) return withoutHistory({ ...pending, steps: steps + 1 });
    if (cancellation.record) return { kind: 'recorded', record: cancellation.record };
    for (const key of cancellation.notReleased) skip.add(key);
    if (cancellation.conflict || cancellation.throttled || cancellation.customerChanged) await backoff(++conflicts);
  }
  throw unavailable(`customer ${customerId} kept changing during its erase; send the DELETE again to finish it`);
}

function without(parts: ErasureParts, skip: Set<string>, ownKey?: string): ErasureParts {
  return {
    ...parts,
    identifiers: parts.identifiers.filter((i) => !skip.has(identifierKeyOf(i))),
    records: parts.records.filter((key) => key !== ownKey),
  };
}
