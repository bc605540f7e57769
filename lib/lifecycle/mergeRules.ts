// The rules of an explicit merge and of an unmerge (SPEC section 15), pure: what each refuses,
// what an unmerge takes and what stays, and what a merged customer looks like.

import { identifierKeyOf, sourceAccountOf, uniqueIdentifiers, type Customer, type Identifier, type VersionedCustomer } from '../customer';
import { Code, problem, type Problem } from '../errors';

/** Why a customer cannot take part in a merge or unmerge, or undefined when it can. */
function unmergeable(customer: VersionedCustomer, role: string): Problem | undefined {
  if (customer.activity === 'ERASING') return problem(Code.notMergeable, `the ${role} ${customer.id} is being erased`);
  if (customer.activity === 'MERGED') {
    return problem(Code.notMergeable, `the ${role} ${customer.id} was merged into customer ${customer.mergedInto}`);
  }
  if (customer.activity === 'MERGING') {
    return problem(Code.notMergeable, `the ${role} ${customer.id} is being merged into customer ${customer.mergedInto}`);
  }
  if (customer.mergingFrom !== undefined) {
    return problem(Code.notMergeable, `the ${role} ${customer.id} is taking in customer ${customer.mergingFrom} (a merge in progress)`);
  }
  return undefined;
}

/** The refusals of merging `victim` into `survivor` (both read, both present and not erased). */
export function mergeProblems(survivor: VersionedCustomer, victim: VersionedCustomer, maxProfiles?: number): Problem[] {
  const state = [unmergeable(survivor, 'survivor'), unmergeable(victim, 'victim')].filter((p): p is Problem => p !== undefined);
  if (state.length > 0) return state;
  const problems: Problem[] = [];
  const held = new Set(survivor.profiles.map(sourceAccountOf));
  const both = victim.profiles.map(sourceAccountOf).filter((sa) => held.has(sa));
  if (both.length > 0) {
    problems.push(
      problem(
        Code.mergeInOneSourceAccount,
        `both customers have a profile in ${both.map((sa) => sa.replace('#', ' account ')).join(', ')}`,
        '/victimId',
      ),
    );
  }
  const total = survivor.profiles.length + victim.profiles.length;
  if (maxProfiles !== undefined && total > maxProfiles) {
    problems.push(
      problem(Code.tooManyProfiles, `customer ${survivor.id} would have ${total} profiles; the org allows at most ${maxProfiles}`),
    );
  }
  return problems;
}

/** The survivor as it will be after the merge: the victim's profiles after its own. */
export function mergedCustomer(survivor: Customer, victim: Customer): Customer {
  return { ...survivor, profiles: [...survivor.profiles, ...victim.profiles] };
}

export type UnmergeSplit = { kind: 'split'; kept: Identifier[]; moved: Identifier[] } | { kind: 'rejected'; problems: Problem[] };

/**
 * What splitting out the profile at `index` takes: the identifiers only it lists move with it;
 * one another remaining profile lists too (the value an automatic merge matched on) stays. A
 * customer's last profile, or a profile that would leave with no identifier of its own, stays.
 */
export function unmergeSplit(customer: VersionedCustomer, index: number): UnmergeSplit {
  const state = unmergeable(customer, 'customer');
  if (state) return { kind: 'rejected', problems: [state] };
  if (customer.profiles.length < 2) {
    return { kind: 'rejected', problems: [problem(Code.profileWithoutIdentifier, "the customer's last profile cannot be split out")] };
  }
  const profile = customer.profiles[index];
  const others = new Set(uniqueIdentifiers(customer.profiles.filter((_p, i) => i !== index)).map(identifierKeyOf));
  const own = uniqueIdentifiers([profile]);
  const kept = own.filter((i) => others.has(identifierKeyOf(i)));
  const moved = own.filter((i) => !others.has(identifierKeyOf(i)));
  if (moved.length === 0) {
    return {
      kind: 'rejected',
      problems: [
        problem(Code.profileWithoutIdentifier, 'the profile has no identifier of its own: every one of them stays with the customer'),
      ],
    };
  }
  return { kind: 'split', kept, moved };
}
