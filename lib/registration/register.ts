import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateCardNumber } from '../cards';
import { ApiError, type Warning } from '../errors';
import type { OrgConfig } from '../org';
import {
  planCreateCustomer,
  planMergeProfiles,
  runTransaction,
  type Cancellation,
  type ExtraItem,
} from '../store/customers';
import { decideRegistration } from './decide';
import { identifierKeyOf, type Profile, type Registration } from './model';

/**
 * Registers a customer (SPEC section 3): optimistically creates it in one transaction; if an
 * identifier is taken, the cancellation says by whom, the rules decide, and a merge is one
 * more transaction. Nothing is read before writing, so concurrent requests cannot both win.
 */

export interface SideEffect {
  type: 'card' | 'points';
  [key: string]: unknown;
}

export interface RegistrationResult {
  createdId: number;
  warnings: Warning[];
  sideEffects: SideEffect[];
  outcome: 'created' | 'merged';
}

export interface RegisterOptions {
  /** Items written in the same transaction as the registration, given the response it will have. */
  extras?: (result: RegistrationResult) => ExtraItem[];
  /** Called when an extra item's condition failed; may throw the response to give instead. */
  onExtraConflict?: (cancellation: Cancellation) => void;
  /** Called before a rejection is answered; may throw the response to give instead. */
  beforeReject?: () => Promise<void>;
}

/** Transactions before giving up on conflicts and on id or card number collisions. */
const MAX_ATTEMPTS = 8;

export async function registerCustomer(
  registration: Registration,
  org: OrgConfig,
  options: RegisterOptions = {},
): Promise<RegistrationResult> {
  const extras = options.extras ?? (() => []);
  const owners = new Map<string, number>();
  const takenSourceAccounts = new Map<number, Set<string>>();
  let profiles = registration.profiles;
  let conflicts = 0;

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    profiles = withCardNumbers(profiles, org, owners);
    const current: Registration = { ...registration, profiles };
    const decision = decideRegistration(current, { owners, ownerSourceAccounts: takenBySingleOwner(owners, takenSourceAccounts) });

    if (decision.kind === 'reject') {
      await options.beforeReject?.();
      throw rejection(decision.problems, registration.warnings);
    }

    if (decision.kind === 'create') {
      const customerId = newCustomerId();
      const pending = created(customerId, current);
      const result = await runTransaction(planCreateCustomer(current, customerId, extras(pending)));
      if (result.ok) return pending;
      if (learn(result.cancellation, owners, takenSourceAccounts, options)) await backoff(++conflicts);
      continue;
    }

    // The request's createDate is customer-level: a profile added later is dated now.
    const addedAt = new Date().toISOString();
    const added = profiles.map((p) => ({ ...p, createDate: addedAt, ...(p.card ? { card: { ...p.card, issuedDate: addedAt } } : {}) }));
    const pending = merged(decision.customerId, current);
    const result = await runTransaction(
      planMergeProfiles(
        registration.orgId,
        { id: decision.customerId, knownSourceAccounts: [...(takenSourceAccounts.get(decision.customerId) ?? [])] },
        added,
        decision.known,
        decision.unknown,
        extras(pending),
      ),
    );
    if (result.ok) return pending;
    if (learn(result.cancellation, owners, takenSourceAccounts, options)) await backoff(++conflicts);
  }
  throw ApiError.of(503, 'registration kept conflicting with concurrent requests; retry later').withHeaders({ 'Retry-After': '1' });
}

function learn(
  cancellation: Cancellation,
  owners: Map<string, number>,
  takenSourceAccounts: Map<number, Set<string>>,
  options: RegisterOptions,
): boolean {
  if (cancellation.extras.size > 0) options.onExtraConflict?.(cancellation);
  for (const [key, owner] of cancellation.owners) owners.set(key, owner);
  for (const [customerId, sourceAccounts] of cancellation.takenSourceAccounts) {
    const set = takenSourceAccounts.get(customerId) ?? new Set<string>();
    for (const sourceAccount of sourceAccounts) set.add(sourceAccount);
    takenSourceAccounts.set(customerId, set);
  }
  // Facts learned lead straight to the next decision; a conflict needs a pause first.
  return cancellation.conflict || cancellation.throttled;
}

/** The source accounts known to be taken, when the known identifiers have a single owner. */
function takenBySingleOwner(owners: Map<string, number>, taken: Map<number, Set<string>>): ReadonlySet<string> | undefined {
  const people = new Set([...owners].filter(([key]) => !key.startsWith('card#')).map(([, owner]) => owner));
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
    const taken = card.cardNumber !== '' && owners.has(identifierKeyOf({ type: 'card', value: card.cardNumber }));
    if (card.cardNumber !== '' && !taken) return profile;
    if (taken) owners.delete(identifierKeyOf({ type: 'card', value: card.cardNumber }));
    const series = org.cardSeries.find((s) => s.id === card.seriesId)!;
    return { ...profile, card: { ...card, cardNumber: generateCardNumber(series) } };
  });
}

function created(customerId: number, registration: Registration): RegistrationResult {
  const sideEffects: SideEffect[] = cardSideEffects(registration.profiles);
  for (const enrollment of registration.enrollments) {
    if (enrollment.loyaltyPoints > 0) {
      sideEffects.push({ type: 'points', entityType: 'USER', programId: enrollment.programId, awardedPoints: enrollment.loyaltyPoints });
    }
  }
  return { createdId: customerId, warnings: registration.warnings, sideEffects, outcome: 'created' };
}

function merged(customerId: number, registration: Registration): RegistrationResult {
  const warnings: Warning[] = [
    ...registration.warnings,
    { code: 8050, message: `merged into existing customer ${customerId}` },
    ...registration.customerLevelParts.map((part) => ({
      code: 8200,
      message: `${part} not applied: the customer already exists`,
      path: `/${part}`,
    })),
  ];
  return { createdId: customerId, warnings, sideEffects: cardSideEffects(registration.profiles), outcome: 'merged' };
}

function cardSideEffects(profiles: Profile[]): SideEffect[] {
  return profiles.flatMap((p) =>
    p.card
      ? [{ type: 'card' as const, cardNumber: p.card.cardNumber, seriesId: p.card.seriesId, seriesCode: p.card.seriesCode, statusLabel: p.card.statusLabel }]
      : [],
  );
}

function rejection(problems: ConstructorParameters<typeof ApiError>[0], warnings: Warning[]): ApiError {
  const error = new ApiError(problems);
  error.warnings = warnings;
  return error;
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

/** Exponential backoff with full jitter between attempts. */
async function backoff(attempt: number): Promise<void> {
  await sleep(Math.random() * Math.min(200, 10 * 2 ** attempt));
}
