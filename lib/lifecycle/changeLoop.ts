// Changes a registered customer (SPEC section 11) optimistically: read the customer (strongly
// consistent), apply the rules to what was read, write the result in one transaction
// conditioned on the version read (lib/store/changePlans.ts). When a concurrent write got there
// first the condition fails, and the change is applied again to a fresh read: no change is
// lost, none is half-applied. An added value another customer holds comes back from the
// cancelled transaction itself (8053), with no second read.
// The result is a value: changed, rejected, or the idempotency record already taken.

import { backoff } from '../backoff';
import { identifierKeyOf, type Customer, type Identifier, type VersionedCustomer } from '../customer';
import { Code, problem, type Problem, type Warning } from '../errors';
import type { SideEffect } from '../schemas/responses.schema';
import { loadCustomer } from '../store/customers';
import { planCustomerChange } from '../store/changePlans';
import { claimIdempotencyRecord, type IdempotencyRecord, type RecordKey, type StoredResponse } from '../store/idempotencyRecords';
import type { PlannedTransaction } from '../store/plans';
import { unavailable } from '../store/storeError';
import { runTransaction, type TransactionResult } from '../store/transactions';
import type { NamedIdentifier } from './identifierChange';
import { finishSteppedWork } from './steppedWork';

/** What the rules make of a change applied to the customer as read. */
export type ChangeDecision =
  | {
      kind: 'write';
      after: Customer;
      claim: Array<NamedIdentifier & { drawn?: boolean }>;
      release: Identifier[];
      warnings: Warning[];
      sideEffects: SideEffect[];
    }
  | { kind: 'rejected'; problems: Problem[]; warnings: Warning[] };

export type ChangeOutcome =
  | { kind: 'changed'; customerId: number; warnings: Warning[]; sideEffects: SideEffect[] }
  | { kind: 'rejected'; problems: Problem[]; warnings: Warning[] }
  /** The request's idempotency record was there already; nothing was written. */
  | { kind: 'recorded'; record: IdempotencyRecord };

type Settled = Exclude<ChangeOutcome, { kind: 'recorded' }>;

export interface ChangeOptions {
  idempotency?: { key: RecordKey; response: (outcome: Settled) => StoredResponse };
  /** Sends a planned transaction; the store's by default. */
  run?: (plan: PlannedTransaction) => Promise<TransactionResult>;
  claimRecord?: (key: RecordKey, response: StoredResponse) => Promise<IdempotencyRecord | undefined>;
}

/** Reads before giving up on a customer that keeps changing under the request. */
export const MAX_CHANGE_ATTEMPTS = 8;

/** 404 / 8015 for a missing, erased (or being erased) or another org's customer. */
export function notFound(): Problem[] {
  return [problem(Code.customerNotFound, 'customer not found', '/id')];
}

export async function changeCustomer(
  orgId: number,
  customerId: number,
  decide: (customer: VersionedCustomer) => ChangeDecision,
  options: ChangeOptions = {},
): Promise<ChangeOutcome> {
  const run = options.run ?? runTransaction;
  const claimRecord = options.claimRecord ?? claimIdempotencyRecord;
  const reject = async (rejected: Settled & { kind: 'rejected' }): Promise<ChangeOutcome> => {
    if (!options.idempotency) return rejected;
    // As on registration: the rejection is recorded alone, so that a repeat replays it.
    const record = await claimRecord(options.idempotency.key, options.idempotency.response(rejected));
    return record ? { kind: 'recorded', record } : rejected;
  };
  let conflicts = 0;
  for (let attempt = 0; attempt < MAX_CHANGE_ATTEMPTS; attempt++) {
    const customer = await loadCustomer(orgId, customerId, { consistent: true });
    if (!customer || customer.activity !== 'ACTIVE') return reject({ kind: 'rejected', problems: notFound(), warnings: [] });
    // A merge into it cut short between its steps: finished first (its identifiers are half moved).
    if (customer.mergingFrom !== undefined) {
      await finishSteppedWork(orgId, customerId, run);
      await backoff(++conflicts);
      continue;
    }
    const decision = decide(customer);
    if (decision.kind === 'rejected') return reject(decision);
    const pending: Settled = { kind: 'changed', customerId, warnings: decision.warnings, sideEffects: decision.sideEffects };
    const record = options.idempotency && { key: options.idempotency.key, response: options.idempotency.response(pending) };
    const plan = planCustomerChange(
      { before: customer, after: decision.after, claim: decision.claim.map((c) => c.identifier), release: decision.release },
      record,
    );
    const result = await run(plan);
    if (result.ok) return pending;
    if ('unknown' in result) {
      throw unavailable(
        `the customer table did not answer in time: the change to customer ${customerId} may have been applied; ${
          options.idempotency ? 'retry with the same Idempotency-Key to get the outcome' : 'read the customer to see'
        }`,
      );
    }
    const cancellation = result.cancellation;
    if (cancellation.ownWrite) return pending;
    if (cancellation.record) return { kind: 'recorded', record: cancellation.record };
    // Values another customer holds: 8053 each (a number the series drew is drawn again instead).
    const taken = decision.claim.filter((c) => {
      const owner = cancellation.owners.get(identifierKeyOf(c.identifier));
      return owner !== undefined && owner !== customerId && !c.drawn;
    });
    if (taken.length > 0) {
      return reject({
        kind: 'rejected',
        problems: taken.map((c) =>
          problem(Code.identifierOfAnotherCustomer, `${c.identifier.type} belongs to another customer`, `${c.path}/value`),
        ),
        warnings: decision.warnings,
      });
    }
    // The customer changed (a merge, another change), or a value moved: apply the change again to a fresh read.
    if (cancellation.conflict || cancellation.throttled || cancellation.customerChanged) await backoff(++conflicts);
  }
  throw unavailable('the customer kept changing under the request; retry later');
}
