// Explicit merges and unmerges (SPEC section 15), optimistically like a change: read the
// customers (strongly consistent), apply the rules, write one transaction conditioned on every
// version read (lib/store/mergePlans.ts); when a concurrent write got there first, read again.
// The result is a value: merged, unmerged, rejected, or the idempotency record already taken.

import { backoff } from '../backoff';
import { newCustomerId } from '../registration/register';
import { identifierKeyOf, sourceAccountOf, type Identifier, type VersionedCustomer } from '../customer';
import { Code, problem, type Problem } from '../errors';
import { profileRef } from '../history/entries';
import { loadCustomer } from '../store/customers';
import { claimIdempotencyRecord, type IdempotencyRecord, type RecordKey, type StoredResponse } from '../store/idempotencyRecords';
import { mergeItemCount, planExplicitMerge, planUnmerge, unmergeItemCount, type UnmergeTarget } from '../store/mergePlans';
import { MAX_TRANSACTION_ITEMS, type PlannedTransaction } from '../store/plans';
import { unavailable } from '../store/storeError';
import { runTransaction, type TransactionResult } from '../store/transactions';
import { MAX_CHANGE_ATTEMPTS, notFound } from './changeLoop';
import { mergeProblems, unmergeSplit } from './mergeRules';

export type MergeOutcome =
  | { kind: 'merged'; survivor: VersionedCustomer; victim: VersionedCustomer }
  | { kind: 'rejected'; problems: Problem[] }
  | { kind: 'recorded'; record: IdempotencyRecord };

export type UnmergeOutcome =
  | { kind: 'unmerged'; customerId: number; to: number; kept: Identifier[]; moved: Identifier[] }
  | { kind: 'rejected'; problems: Problem[] }
  | { kind: 'recorded'; record: IdempotencyRecord };

interface Options<Settled> {
  idempotency?: { key: RecordKey; response: (outcome: Settled) => StoredResponse };
  run?: (plan: PlannedTransaction) => Promise<TransactionResult>;
  claimRecord?: (key: RecordKey, response: StoredResponse) => Promise<IdempotencyRecord | undefined>;
}

type SettledMerge = Exclude<MergeOutcome, { kind: 'recorded' }>;
type SettledUnmerge = Exclude<UnmergeOutcome, { kind: 'recorded' }>;

function tooLarge(items: number): Problem[] {
  return [problem(Code.tooLargeToMerge, `the ${items} items to write do not fit one transaction of ${MAX_TRANSACTION_ITEMS}`)];
}

async function settle<S extends { kind: string }>(
  outcome: S & { kind: 'rejected' },
  options: Options<S>,
  claimRecord: NonNullable<Options<S>['claimRecord']>,
): Promise<S | { kind: 'recorded'; record: IdempotencyRecord }> {
  if (!options.idempotency) return outcome;
  const record = await claimRecord(options.idempotency.key, options.idempotency.response(outcome));
  return record ? { kind: 'recorded', record } : outcome;
}

/** Merges `victimId` into `survivorId`; with `preview`, only decides (nothing is written). */
export async function mergeCustomers(
  orgId: number,
  survivorId: number,
  victimId: number,
  maxProfiles: number | undefined,
  options: Options<SettledMerge> & { preview?: boolean } = {},
): Promise<MergeOutcome> {
  const run = options.run ?? runTransaction;
  const claimRecord = options.claimRecord ?? claimIdempotencyRecord;
  const reject = (problems: Problem[]) =>
    settle<SettledMerge>({ kind: 'rejected', problems }, options, claimRecord) as Promise<MergeOutcome>;
  let conflicts = 0;
  for (let attempt = 0; attempt < MAX_CHANGE_ATTEMPTS; attempt++) {
    const [survivor, victim] = await Promise.all([
      loadCustomer(orgId, survivorId, { consistent: true }),
      loadCustomer(orgId, victimId, { consistent: true }),
    ]);
    if (!survivor || survivor.activity === 'ERASED') return reject(notFound());
    if (!victim || victim.activity === 'ERASED') return reject([problem(Code.customerNotFound, 'customer not found', '/victimId')]);
    const problems = mergeProblems(survivor, victim, maxProfiles);
    if (problems.length > 0) return reject(problems);
    if (options.preview) return { kind: 'merged', survivor, victim };
    const items = mergeItemCount(survivor, victim);
    if (items > MAX_TRANSACTION_ITEMS) return reject(tooLarge(items));
    const pending: SettledMerge = { kind: 'merged', survivor, victim };
    const record = options.idempotency && { key: options.idempotency.key, response: options.idempotency.response(pending) };
    const result = await run(planExplicitMerge(survivor, victim, record));
    if (result.ok) return pending;
    if ('unknown' in result)
      throw unavailable('the customer table did not answer in time: the merge may have been applied; read the survivor to see');
    if (result.cancellation.ownWrite) return pending;
    if (result.cancellation.record) return { kind: 'recorded', record: result.cancellation.record };
    // Either customer changed under the merge (a registration, a change, another merge, an erase): decide again.
    await backoff(++conflicts);
  }
  throw unavailable('the customers kept changing under the merge; retry later');
}

/** Splits the profile at `source`/`accountId` out of a customer (the rules decide where it goes). */
export async function unmergeProfile(
  orgId: number,
  customerId: number,
  profileIndex: (customer: VersionedCustomer) => number | Problem[],
  options: Options<SettledUnmerge> & { maxProfiles?: number } = {},
): Promise<UnmergeOutcome> {
  const run = options.run ?? runTransaction;
  const claimRecord = options.claimRecord ?? claimIdempotencyRecord;
  const reject = (problems: Problem[]) =>
    settle<SettledUnmerge>({ kind: 'rejected', problems }, options, claimRecord) as Promise<UnmergeOutcome>;
  let conflicts = 0;
  let newId: number | undefined;
  for (let attempt = 0; attempt < MAX_CHANGE_ATTEMPTS; attempt++) {
    const customer = await loadCustomer(orgId, customerId, { consistent: true });
    if (!customer || customer.activity === 'ERASED') return reject(notFound());
    const index = profileIndex(customer);
    if (Array.isArray(index)) return reject(index);
    const split = unmergeSplit(customer, index);
    if (split.kind === 'rejected') return reject(split.problems);
    const profile = customer.profiles[index];
    const from = customer.mergedFrom?.[sourceAccountOf(profile)];
    const victim = from === undefined ? undefined : await loadCustomer(orgId, from, { consistent: true });
    // Back to the victim while it is its tombstone (or back already); else, and for an automatic merge, a new customer.
    // A victim back already takes it only with room: its source account free, within the org's maxProfilesPerCustomer.
    const joins = (v: VersionedCustomer) =>
      !v.profiles.some((p) => sourceAccountOf(p) === sourceAccountOf(profile)) &&
      (options.maxProfiles === undefined || v.profiles.length + 1 <= options.maxProfiles);
    const target: UnmergeTarget =
      victim && (victim.activity === 'MERGED' || (victim.activity === 'ACTIVE' && joins(victim)))
        ? { kind: 'victim', victim }
        : { kind: 'new', customerId: (newId ??= newCustomerId()) };
    const items = unmergeItemCount(customer, target);
    if (items > MAX_TRANSACTION_ITEMS) return reject(tooLarge(items));
    const to = target.kind === 'new' ? target.customerId : target.victim.id;
    const pending: SettledUnmerge = { kind: 'unmerged', customerId, to, kept: split.kept, moved: split.moved };
    const record = options.idempotency && { key: options.idempotency.key, response: options.idempotency.response(pending) };
    // The profile leaves without the values that stay: each identifier belongs to one customer.
    const keptKeys = new Set(split.kept.map(identifierKeyOf));
    const leaving = { ...profile, identifiers: profile.identifiers.filter((i) => !keptKeys.has(identifierKeyOf(i))) };
    const plan = planUnmerge(
      {
        customer: { ...customer, profiles: customer.profiles.map((p, i) => (i === index ? leaving : p)) },
        index,
        target,
        kept: split.kept,
        moved: split.moved,
        summary: { profile: profileRef(profile), from: customerId, to, kept: split.kept, moved: split.moved },
      },
      record,
    );
    const result = await run(plan);
    if (result.ok) return pending;
    if ('unknown' in result)
      throw unavailable('the customer table did not answer in time: the unmerge may have been applied; read the customer to see');
    if (result.cancellation.ownWrite) return pending;
    if (result.cancellation.record) return { kind: 'recorded', record: result.cancellation.record };
    // A new id drawn twice is drawn again; anything else changed under the unmerge: decide again.
    if (target.kind === 'new' && !result.cancellation.customerChanged && result.cancellation.owners.size === 0) newId = undefined;
    await backoff(++conflicts);
  }
  throw unavailable('the customer kept changing under the unmerge; retry later');
}
