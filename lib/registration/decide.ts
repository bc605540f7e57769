// The identity and merge rules of SPEC section 3, as a pure function of the registration and
// of who owns its identifiers. The register loop calls it with what a cancelled transaction
// told it (the owners of the identifiers whose conditions failed), so no extra read is needed.
//
// The org's bound on profiles per customer (SPEC section 13) is judged here on what is known:
// the profile count a merge's cancelled transaction read on the customer item, else the source
// accounts the identifier items record (a lower bound: they are written when a value is
// claimed or re-checked). It is exact because the store enforces it too: every merge is
// conditioned on the count on the customer item, which every merge raises (lib/store/plans.ts).

import { identifierKeyOf, sourceAccountOf, uniqueIdentifiers, type Identifier, type Registration } from '../customer';
import { Code, problem, type Problem } from '../errors';

export type Decision =
  | { kind: 'create' }
  | { kind: 'merge'; customerId: number; known: Identifier[]; unknown: Identifier[] }
  | { kind: 'reject'; problems: Problem[] };

export interface KnownFacts {
  /** identifier key -> id of the customer that owns it, for identifiers already taken. */
  owners: ReadonlyMap<string, number>;
  /**
   * Source accounts in which the single owning customer already has a profile, when known.
   * Unknown (undefined) means the merge is attempted and the store's conditions decide.
   */
  ownerSourceAccounts?: ReadonlySet<string>;
  /** customer id -> its profile count as the customer item held it, when a merge read it. */
  profileCounts?: ReadonlyMap<number, number>;
}

/** The org's rules that bound a registration beyond identity. */
export interface Policy {
  /** A customer may have at most this many profiles; unset means no bound. */
  maxProfilesPerCustomer?: number;
}

export function decideRegistration(registration: Registration, facts: KnownFacts, policy: Policy = {}): Decision {
  const identifiers = uniqueIdentifiers(registration.profiles);
  const known = identifiers.filter((i) => facts.owners.has(identifierKeyOf(i)));
  const unknown = identifiers.filter((i) => !facts.owners.has(identifierKeyOf(i)));
  if (known.length === 0) {
    const tooMany = tooManyProfiles(0, registration.profiles.length, policy);
    return tooMany ? { kind: 'reject', problems: [tooMany] } : { kind: 'create' };
  }

  const problems: Problem[] = [];
  // A card number is issued once: it never leads to the customer who holds it.
  const knownCards = known.filter((i) => i.type === 'card');
  for (const card of knownCards) {
    problems.push(problem(Code.cardNumberIssued, 'the card number is already issued to a customer', cardPath(registration, card.value)));
  }

  const knownPeople = known.filter((i) => i.type !== 'card');
  const owners = new Set(knownPeople.map((i) => facts.owners.get(identifierKeyOf(i))!));
  if (owners.size > 1) {
    problems.push(
      problem(
        Code.identifiersOfDifferentCustomers,
        `identifiers belong to different customers (${[...owners].sort((a, b) => a - b).join(', ')})`,
      ),
    );
    return { kind: 'reject', problems };
  }
  if (owners.size === 1) {
    const customerId = [...owners][0];
    const taken = registration.profiles
      .map((profile, index) => ({ index, sourceAccount: sourceAccountOf(profile) }))
      .filter(({ sourceAccount }) => facts.ownerSourceAccounts?.has(sourceAccount));
    for (const { index, sourceAccount } of taken) {
      problems.push(
        problem(
          Code.existsInSource,
          `customer ${customerId} already exists in ${sourceAccount.replace('#', ' account ')}`,
          `/profiles/${index}`,
        ),
      );
    }
    // Unknown counts as none: the merge is attempted, and its condition on the customer item decides.
    const count = facts.profileCounts?.get(customerId) ?? facts.ownerSourceAccounts?.size ?? 0;
    const tooMany = tooManyProfiles(count, registration.profiles.length - taken.length, policy, customerId);
    if (tooMany) problems.push(tooMany);
    if (problems.length > 0) return { kind: 'reject', problems };
    return { kind: 'merge', customerId, known: knownPeople, unknown };
  }
  // Only cards were known.
  return { kind: 'reject', problems };
}

function tooManyProfiles(knownProfiles: number, newProfiles: number, policy: Policy, customerId?: number): Problem | undefined {
  const most = policy.maxProfilesPerCustomer;
  if (most === undefined || knownProfiles + newProfiles <= most) return undefined;
  const whose = customerId === undefined ? 'a customer' : `customer ${customerId} (${knownProfiles} profiles)`;
  return problem(Code.tooManyProfiles, `${whose} would have ${knownProfiles + newProfiles} profiles; the org allows at most ${most}`);
}

function cardPath(registration: Registration, cardNumber: string): string | undefined {
  const index = registration.profiles.findIndex((p) => p.card?.cardNumber === cardNumber);
  return index < 0 ? undefined : `/profiles/${index}`;
}
