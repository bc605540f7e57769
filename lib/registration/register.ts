// Registers a customer (SPEC section 3): optimistically creates it in one transaction; if an
// identifier is taken, the cancellation says by whom, the rules decide, and a merge is one
// more transaction. Nothing is read before writing, so concurrent requests cannot both win.
// The result is a value: created, merged, rejected, or the idempotency record already taken.

import { randomBytes } from 'node:crypto';
import { backoff } from '../backoff';
import { generateCardNumber } from '../cards';
import { hasStepsLeft, identifierKeyOf, uniqueIdentifiers, type Activity, type Profile, type Registration } from '../customer';
import { ApiError, Code, warning, type Problem, type Warning } from '../errors';
import type { OrgConfig } from '../org';
import type { SideEffect } from '../schemas/responses.schema';
import {
  claimIdempotencyRecord,
  dropStaleRecord,
  type IdempotencyRecord,
  type RecordKey,
  type StoredResponse,
} from '../store/idempotencyRecords';
import { planCreateCustomer, planMergeProfiles, type PlannedTransaction, type RecordToClaim } from '../store/plans';
import { customerActivity, customerState, type CustomerState } from '../store/customers';
import { unavailable } from '../store/storeError';
import { runTransaction, type Cancellation, type TransactionResult } from '../store/transactions';
import { decideRegistration } from './decide';

/** A registration that was written. */
export interface Registered {
  kind: 'created' | 'merged';
  customerId: number;
  warnings: Warning[];
  sideEffects: SideEffect[];
}

/** The rules refused it (8006, 8052, 3009): nothing was written but its idempotency record. */
export interface Rejected {
  kind: 'rejected';
  problems: Problem[];
  warnings: Warning[];
}

export type RegistrationOutcome =
  | Registered
  | Rejected
  /** The request's idempotency record was there already; nothing was written. */
  | { kind: 'recorded'; record: IdempotencyRecord };

export interface RegisterOptions {
  /**
   * Claim this idempotency record, holding the response the outcome gets: in the registration's
   * transaction, or alone for a rejection (so that a repeat replays the 409, SPEC section 6).
   */
  idempotency?: { key: RecordKey; response: (outcome: Registered | Rejected) => StoredResponse };
  /** Sends a planned transaction; the store's by default (unit tests give their own). */
  run?: (plan: PlannedTransaction) => Promise<TransactionResult>;
  /**
   * Claims the idempotency record of a rejection, naming the customers its answer names; the
   * store's by default. Returns the record found in place, if any.
   */
  claimRecord?: (key: RecordKey, response: StoredResponse, names: number[]) => Promise<IdempotencyRecord | undefined>;
  /** Deletes a refusal's record that names a customer no longer live; the store's by default. */
  dropRecord?: (orgId: number, key: string, record: IdempotencyRecord) => Promise<void>;
  /** The activity of a customer the request's values belong to; the store's by default. */
  activityOf?: (orgId: number, customerId: number) => Promise<Activity | undefined>;
  /** What a refusal reads of each customer it names (its activity, stepped work under way); from activityOf, or the store's. */
  stateOf?: (orgId: number, customerId: number) => Promise<CustomerState>;
  /**
   * Finishes the stepped work under way on a customer (a merge cut short, an unmerge's refresh),
   * true when there was some: lib/lifecycle's, handed down by lib/api (the lifecycle sits above the
   * registration rules). Without it a registration only waits for such work to be finished.
   */
  finishSteps?: (orgId: number, customerId: number) => Promise<boolean>;
}

/** Transactions before giving up on conflicts and on id or card number collisions. */
export const MAX_ATTEMPTS = 8;

export async function registerCustomer(
  registration: Registration,
  org: OrgConfig,
  options: RegisterOptions = {},
): Promise<RegistrationOutcome> {
  const run = options.run ?? runTransaction;
  const claimRecord =
    options.claimRecord ??
    ((key: RecordKey, response: StoredResponse, names: number[]) => claimIdempotencyRecord(key, response, undefined, names));
  const activityOf = options.activityOf ?? customerActivity;
  const stateOf =
    options.stateOf ??
    (options.activityOf ? async (orgId: number, id: number) => ({ activity: await activityOf(orgId, id) }) : customerState);
  const finishSteps = options.finishSteps ?? (async () => false);
  /** Forgets what was learnt of a customer whose stepped work was just finished: its values may have moved. */
  const forget = (id: number) => {
    for (const [key, owner] of owners) if (owner === id) owners.delete(key);
    takenSourceAccounts.delete(id);
    profileCounts.delete(id);
  };
  let finished = 0;
  const claim = (pending: Registered): RecordToClaim | undefined =>
    options.idempotency && { key: options.idempotency.key, response: options.idempotency.response(pending) };
  const owners = new Map<string, number>();
  const takenSourceAccounts = new Map<number, Set<string>>();
  const profileCounts = new Map<number, number>();
  const maxProfiles = org.identityGuards?.maxProfilesPerCustomer;
  let profiles = registration.profiles;
  /**
   * A record found in place is replayed, unless it is a refusal naming a customer since erased
   * (SPEC section 12: a replay never hands back an erased customer's id): then it is dropped and
   * the request runs again as a new one.
   */
  const replayable = async (record: IdempotencyRecord): Promise<boolean> => {
    if (!record.names || !options.idempotency) return true;
    const activities = await Promise.all(record.names.map((id) => activityOf(registration.orgId, id)));
    if (activities.every((activity) => activity === 'ACTIVE')) return true;
    await (options.dropRecord ?? dropStaleRecord)(registration.orgId, options.idempotency.key.key, record);
    // What was learnt of the customers gone is stale too: the next attempt asks the table again.
    const gone = new Set(record.names.filter((_id, i) => activities[i] !== 'ACTIVE'));
    for (const [key, owner] of owners) if (gone.has(owner)) owners.delete(key);
    for (const id of gone) {
      takenSourceAccounts.delete(id);
      profileCounts.delete(id);
    }
    return false;
  };
  let conflicts = 0;

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    profiles = withCardNumbers(profiles, org, owners);
    const current: Registration = { ...registration, profiles };
    const decision = decideRegistration(
      current,
      { owners, ownerSourceAccounts: takenBySingleOwner(current, owners, takenSourceAccounts), profileCounts },
      { maxProfilesPerCustomer: maxProfiles },
    );

    if (decision.kind === 'reject') {
      // A customer being erased still holds its values for a few seconds: that is a wait, not a refusal.
      const states = await Promise.all(ownersOf(current, owners).map(async (id) => [id, await stateOf(registration.orgId, id)] as const));
      const erasing = states.find(([, state]) => state.activity === 'ERASING')?.[0];
      if (erasing !== undefined) throw beingErased(erasing);
      // A refusal decided on a customer in the middle of stepped work (a merge cut short, an unmerge's
      // refresh) may rest on values about to move or source accounts it no longer has: finish it, decide again.
      const stepping = states.filter(([, state]) => hasStepsLeft({ ...state, activity: state.activity ?? 'ERASED' })).map(([id]) => id);
      if (stepping.length > 0 && finished < MAX_ATTEMPTS) {
        for (const id of stepping) if (await finishSteps(registration.orgId, id)) forget(id);
        finished += 1;
        continue;
      }
      const rejected: Rejected = { kind: 'rejected', problems: decision.problems, warnings: registration.warnings };
      if (!options.idempotency) return rejected;
      // A copy of this request may have committed while this one's transaction conflicted with
      // it: then its record is in place, and this one replays it.
      const record = await claimRecord(options.idempotency.key, options.idempotency.response(rejected), ownersOf(current, owners));
      if (!record) return rejected;
      if (await replayable(record)) return { kind: 'recorded', record };
      continue;
    }

    let pending: Registered;
    let plan: PlannedTransaction;
    if (decision.kind === 'create') {
      const customerId = newCustomerId();
      pending = created(customerId, current);
      plan = planCreateCustomer(current, customerId, claim(pending));
    } else {
      // The request's createDate is customer-level: a profile added later is dated now.
      const addedAt = new Date().toISOString();
      const added = profiles.map((p) => ({ ...p, createDate: addedAt, ...(p.card ? { card: { ...p.card, issuedDate: addedAt } } : {}) }));
      pending = merged(decision.customerId, current);
      plan = planMergeProfiles(
        registration.orgId,
        {
          customerId: decision.customerId,
          knownSourceAccounts: [...(takenSourceAccounts.get(decision.customerId) ?? [])],
          profiles: added,
          known: decision.known,
          unknown: decision.unknown,
          ...(registration.origin ? { origin: registration.origin } : {}),
          ...(maxProfiles === undefined ? {} : { maxProfiles }),
        },
        claim(pending),
      );
    }
    const result = await run(plan);
    if (result.ok) return pending;
    if ('unknown' in result) throw outcomeUnknown(pending, options.idempotency !== undefined);
    // An earlier send of this very transaction was applied: this is its success.
    if (result.cancellation.ownWrite) return pending;
    if (result.cancellation.record) {
      if (await replayable(result.cancellation.record)) return { kind: 'recorded', record: result.cancellation.record };
      continue;
    }
    // Its identifiers are still that customer's, and it takes no merges until its erase ends (SPEC section 12).
    if (result.cancellation.customerChanged?.activity === 'ERASING') throw beingErased(pending.customerId);
    // Being merged into another in steps: the merge is finished first, then the table is asked again who holds the values.
    if (result.cancellation.customerChanged?.activity === 'MERGING') {
      await finishSteps(registration.orgId, pending.customerId);
      forget(pending.customerId);
      await backoff(++conflicts);
      continue;
    }
    // No room for the profiles on the customer's count: the next decision refuses with 8901.
    if (result.cancellation.full) profileCounts.set(result.cancellation.full.customerId, result.cancellation.full.profileCount);
    if (learn(result.cancellation, owners, takenSourceAccounts)) await backoff(++conflicts);
  }
  throw unavailable('registration kept conflicting with concurrent requests; retry later');
}

/**
 * The table stopped answering after the transaction was sent: it may have been written. The
 * 503 says so, and how a retry learns the outcome.
 */
function outcomeUnknown(pending: Registered, keyed: boolean): ApiError {
  const what =
    pending.kind === 'created'
      ? `customer ${pending.customerId} may have been created`
      : `the profile may have been added to customer ${pending.customerId}`;
  const retry = keyed
    ? 'retry with the same Idempotency-Key to get the outcome'
    : 'a retry answers 409 naming the customer if it was; send an Idempotency-Key to have retries replay the outcome';
  return unavailable(`the customer table did not answer in time: ${what}; ${retry}`);
}

/** The customers the registration's known values belong to: those a refusal names. */
function ownersOf(registration: Registration, owners: Map<string, number>): number[] {
  const ids = new Set<number>();
  for (const identifier of uniqueIdentifiers(registration.profiles)) {
    const owner = owners.get(identifierKeyOf(identifier));
    if (owner !== undefined) ids.add(owner);
  }
  return [...ids].sort((a, b) => a - b);
}

function beingErased(customerId: number): ApiError {
  return unavailable(`an identifier belongs to customer ${customerId}, which is being erased; retry in a few seconds`);
}

/** Adds what a cancellation taught; true when it was a conflict that needs a pause first. */
function learn(cancellation: Cancellation, owners: Map<string, number>, takenSourceAccounts: Map<number, Set<string>>): boolean {
  for (const [key, owner] of cancellation.owners) owners.set(key, owner);
  // A value its owner no longer holds (an erase, an identifier change) is free: the next attempt claims it.
  for (const key of cancellation.freed) owners.delete(key);
  for (const [customerId, sourceAccounts] of cancellation.takenSourceAccounts) {
    const set = takenSourceAccounts.get(customerId) ?? new Set<string>();
    for (const sourceAccount of sourceAccounts) set.add(sourceAccount);
    takenSourceAccounts.set(customerId, set);
  }
  return cancellation.conflict || cancellation.throttled;
}

/** The source accounts known to be taken, when the request's known identifiers (cards aside) have a single owner. */
function takenBySingleOwner(
  registration: Registration,
  owners: Map<string, number>,
  taken: Map<number, Set<string>>,
): ReadonlySet<string> | undefined {
  const people = new Set<number>();
  for (const identifier of uniqueIdentifiers(registration.profiles)) {
    const owner = owners.get(identifierKeyOf(identifier));
    if (identifier.type !== 'card' && owner !== undefined) people.add(owner);
  }
  return people.size === 1 ? taken.get([...people][0]) : undefined;
}

/**
 * Gives a card of a generating series its number. A generated number that turned out to be
 * taken is drawn again rather than reported: the client never chose it.
 */
function withCardNumbers(profiles: Profile[], org: OrgConfig, owners: Map<string, number>): Profile[] {
  return profiles.map((profile) => {
    const card = profile.card;
    if (!card || !card.generated) return profile;
    const key = identifierKeyOf({ type: 'card', value: card.cardNumber });
    const taken = card.cardNumber !== '' && owners.has(key);
    if (card.cardNumber !== '' && !taken) return profile;
    if (taken) owners.delete(key);
    const series = org.cardSeries.find((s) => s.id === card.seriesId)!;
    return { ...profile, card: { ...card, cardNumber: generateCardNumber(series) } };
  });
}

function created(customerId: number, registration: Registration): Registered {
  const sideEffects: SideEffect[] = cardSideEffects(registration.profiles);
  for (const enrollment of registration.enrollments) {
    if (enrollment.loyaltyPoints > 0) {
      sideEffects.push({ type: 'points', entityType: 'USER', programId: enrollment.programId, awardedPoints: enrollment.loyaltyPoints });
    }
  }
  return { kind: 'created', customerId, warnings: registration.warnings, sideEffects };
}

function merged(customerId: number, registration: Registration): Registered {
  const warnings: Warning[] = [
    ...registration.warnings,
    warning(Code.merged, `merged into existing customer ${customerId}`),
    ...registration.customerLevelParts.map((part) => warning(Code.ignored, `${part} not applied: the customer already exists`, `/${part}`)),
  ];
  return { kind: 'merged', customerId, warnings, sideEffects: cardSideEffects(registration.profiles) };
}

function cardSideEffects(profiles: Profile[]): SideEffect[] {
  return profiles.flatMap((p) =>
    p.card
      ? [
          {
            type: 'card' as const,
            cardNumber: p.card.cardNumber,
            seriesId: p.card.seriesId,
            seriesCode: p.card.seriesCode,
            statusLabel: p.card.statusLabel,
          },
        ]
      : [],
  );
}

/**
 * A customer id: random, positive and below 2^53 so it is exact in JSON, and not drawn from
 * a counter item (which would serialise every registration of the table on one item).
 * Collisions are caught by the customer item's condition and drawn again.
 */
export function newCustomerId(): number {
  const bytes = randomBytes(7);
  const high = bytes.readUIntBE(0, 3) & 0x1fffff; // 21 bits
  const low = bytes.readUIntBE(3, 4); // 32 bits
  return high * 2 ** 32 + low || 1;
}
