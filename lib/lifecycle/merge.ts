// Explicit merges and unmerges (SPEC section 15), optimistically like a change: read the
// customers (strongly consistent), apply the rules, write one transaction conditioned on every
// version read (lib/store/mergePlans.ts); when a concurrent write got there first, read again.
// The result is a value: merged, unmerged, rejected, or the idempotency record already taken.

import { backoff } from '../backoff';
import { newCustomerId } from '../registration/register';
import { hasStepsLeft, identifierKeyOf, sourceAccountOf, type Identifier, type VersionedCustomer } from '../customer';
import { ApiError, Code, problem, type Problem } from '../errors';
import { profileRef } from '../history/entries';
import { customerActivity, loadCustomer } from '../store/customers';
import {
  claimIdempotencyRecord,
  dropStaleRecord,
  type IdempotencyRecord,
  type RecordKey,
  type StoredResponse,
} from '../store/idempotencyRecords';
import {
  markMergingItemCount,
  mergeItemCount,
  planExplicitMerge,
  planMarkMerging,
  planUnmerge,
  unmergeItemCount,
  type UnmergeTarget,
} from '../store/mergePlans';
import { MAX_TRANSACTION_ITEMS, type PlannedTransaction } from '../store/plans';
import { unavailable } from '../store/storeError';
import { runTransaction, type TransactionResult } from '../store/transactions';
import { MAX_CHANGE_ATTEMPTS, notFound } from './changeLoop';
import { mergeProblems, unmergeSplit } from './mergeRules';
import { finishSteppedWork, MERGE_UNKNOWN, mergingInto, refreshIdentifiers, runMergeSteps, runStep } from './steppedWork';

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
  claimRecord?: (key: RecordKey, response: StoredResponse, names: number[]) => Promise<IdempotencyRecord | undefined>;
}

type SettledMerge = Exclude<MergeOutcome, { kind: 'recorded' }>;
type SettledUnmerge = Exclude<UnmergeOutcome, { kind: 'recorded' }>;

function tooLarge(items: number): Problem[] {
  return [problem(Code.tooLargeToMerge, `the ${items} items to write do not fit one transaction of ${MAX_TRANSACTION_ITEMS}`)];
}

/**
 * Records a refusal under the request's key, naming the customers it names: a refusal found in
 * place is replayed only while they are there (SPEC section 12: a replay never hands back an
 * erased customer's id); one naming a customer since erased is dropped, and this refusal taken.
 */
async function settle<S extends { kind: string }>(
  outcome: S & { kind: 'rejected' },
  options: Options<S>,
  names: number[],
): Promise<S | { kind: 'recorded'; record: IdempotencyRecord }> {
  if (!options.idempotency) return outcome;
  const claimRecord =
    options.claimRecord ??
    ((key: RecordKey, response: StoredResponse, named: number[]) => claimIdempotencyRecord(key, response, undefined, named));
  const { key } = options.idempotency;
  for (let attempt = 0; attempt < 2; attempt++) {
    const record = await claimRecord(key, options.idempotency.response(outcome), names);
    if (!record) return outcome;
    const gone = await Promise.all(
      (record.names ?? []).map(async (id) => ['ERASED', undefined].includes(await customerActivity(key.orgId, id))),
    );
    if (!gone.some(Boolean)) return { kind: 'recorded', record };
    await dropStaleRecord(key.orgId, key.key, record);
  }
  return outcome;
}

/** Reads in a row that made no progress (a concurrent write won each time) before giving up. */
const MAX_STALLED_ATTEMPTS = 12;

/**
 * Merges `victimId` into `survivorId`; with `preview`, only decides (nothing is written). A merge
 * that fits one transaction is one; a larger one goes in steps (lib/store/mergePlans.ts), and
 * the same merge sent again carries on where an interrupted one stopped.
 */
export async function mergeCustomers(
  orgId: number,
  survivorId: number,
  victimId: number,
  maxProfiles: number | undefined,
  options: Options<SettledMerge> & { preview?: boolean; stepItems?: number } = {},
): Promise<MergeOutcome> {
  const run = options.run ?? runTransaction;
  const stepItems = options.stepItems ?? MAX_TRANSACTION_ITEMS;
  const reject = (problems: Problem[]) =>
    settle<SettledMerge>({ kind: 'rejected', problems }, options, [survivorId, victimId]) as Promise<MergeOutcome>;
  // Identifiers a step found moved already (an earlier send of it): skipped.
  const skip = new Set<string>();
  let conflicts = 0;
  for (let attempt = 0; attempt < MAX_STALLED_ATTEMPTS; attempt++) {
    const [survivor, victim] = await Promise.all([
      loadCustomer(orgId, survivorId, { consistent: true }),
      loadCustomer(orgId, victimId, { consistent: true }),
    ]);
    if (!survivor || survivor.activity === 'ERASED') return reject(notFound());
    if (!victim || victim.activity === 'ERASED') return reject([problem(Code.customerNotFound, 'customer not found', '/victimId')]);
    const resuming = mergingInto(survivor, victim);
    // Either in the middle of other stepped work (a merge killed midway, an unmerge's refresh): finish it, then decide.
    if (!resuming && (hasStepsLeft(survivor) || hasStepsLeft(victim))) {
      for (const customer of [survivor, victim]) if (hasStepsLeft(customer)) await finishSteppedWork(orgId, customer.id, run, stepItems);
      await backoff(++conflicts);
      continue;
    }
    if (!resuming) {
      const problems = mergeProblems(survivor, victim, maxProfiles);
      if (problems.length > 0) return reject(problems);
      if (options.preview) return { kind: 'merged', survivor, victim };
      if (mergeItemCount(survivor, victim) <= stepItems) {
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
        continue;
      }
      const items = markMergingItemCount(victim);
      if (items > stepItems) return reject(tooLarge(items));
      // Too large for one transaction: mark the victim first (and the survivor), then move its parts.
      if ((await runStep(run, planMarkMerging(survivor, victim), skip, MERGE_UNKNOWN)) !== 'done') await backoff(++conflicts);
      continue;
    }
    // The survivor as read holds the victim's profiles already: the answer is the survivor as it stands.
    const pending: SettledMerge = { kind: 'merged', survivor, victim: { ...victim, profiles: [] } };
    if (options.preview) return pending;
    const record = options.idempotency && { key: options.idempotency.key, response: options.idempotency.response(pending) };
    const before = skip.size;
    const steps = await runMergeSteps(survivor, victim, record, run, stepItems, skip);
    if (steps.kind === 'done') return pending;
    if (steps.kind === 'recorded') return steps;
    // A send that found identifiers moved already made progress: it does not count against the limit.
    if (skip.size === before) await backoff(++conflicts);
    else attempt -= 1;
  }
  throw unavailable('the customers kept changing under the merge; send the merge again to finish it');
}

/** Splits the profile at `source`/`accountId` out of a customer (the rules decide where it goes). */
export async function unmergeProfile(
  orgId: number,
  customerId: number,
  profileIndex: (customer: VersionedCustomer) => number | Problem[],
  options: Options<SettledUnmerge> & { maxProfiles?: number; stepItems?: number } = {},
): Promise<UnmergeOutcome> {
  const run = options.run ?? runTransaction;
  const stepItems = options.stepItems ?? MAX_TRANSACTION_ITEMS;
  const reject = (problems: Problem[]) =>
    settle<SettledUnmerge>({ kind: 'rejected', problems }, options, [customerId]) as Promise<UnmergeOutcome>;
  let conflicts = 0;
  let newId: number | undefined;
  for (let attempt = 0; attempt < MAX_CHANGE_ATTEMPTS; attempt++) {
    const customer = await loadCustomer(orgId, customerId, { consistent: true });
    if (!customer || customer.activity === 'ERASED') return reject(notFound());
    // In the middle of stepped work (a merge into or of it killed midway, an earlier unmerge's refresh): finish it first.
    if (hasStepsLeft(customer)) {
      await finishSteppedWork(orgId, customerId, run, stepItems);
      await backoff(++conflicts);
      continue;
    }
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
    const to = target.kind === 'new' ? target.customerId : target.victim.id;
    const pending: SettledUnmerge = { kind: 'unmerged', customerId, to, kept: split.kept, moved: split.moved };
    const record = options.idempotency && { key: options.idempotency.key, response: options.idempotency.response(pending) };
    // The profile leaves without the values that stay: each identifier belongs to one customer.
    const keptKeys = new Set(split.kept.map(identifierKeyOf));
    const leaving = { ...profile, identifiers: profile.identifiers.filter((i) => !keptKeys.has(identifierKeyOf(i))) };
    const write = {
      customer: { ...customer, profiles: customer.profiles.map((p, i) => (i === index ? leaving : p)) },
      index,
      target,
      kept: split.kept,
      moved: split.moved,
      summary: { profile: profileRef(profile), from: customerId, to, kept: split.kept, moved: split.moved },
    };
    // One transaction when it fits; else the split first, and the identifiers that stay refreshed in steps after it.
    const stepped = unmergeItemCount(customer, target) > stepItems;
    const plan = planUnmerge(write, record, undefined, { refreshLater: stepped });
    const items = plan.input.TransactItems!.length;
    if (items > stepItems) return reject(tooLarge(items));
    const result = await run(plan);
    if (result.ok) {
      // The outcome is settled with the split; a refresh cut short leaves the mark, and the next unmerge of the customer finishes it.
      if (stepped) {
        await refreshIdentifiers(orgId, customerId, run, stepItems).catch((error: unknown) => {
          if (!(error instanceof ApiError)) throw error;
        });
      }
      return pending;
    }
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
