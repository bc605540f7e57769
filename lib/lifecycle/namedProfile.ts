// Which profile of a customer a change names (SPEC section 11): `?source=&accountId=`, or the
// customer's first profile when the query names none.

import { sourceAccountOf, type Customer, type Profile } from '../customer';
import { ApiError, Code } from '../errors';
import { MULTI_ACCOUNT_SOURCES, SOURCES, type Source } from '../vocabulary';

export interface ProfileQuery {
  source?: string;
  accountId?: string;
}

/** The index of the named profile in `customer.profiles`, or the error (400 for a bad source, 404 / 8065 when it has none there). */
export function namedProfileIndex(customer: Customer, query: ProfileQuery): number | ApiError {
  const source = query.source?.trim();
  if (!source) return 0;
  if (!(SOURCES as readonly string[]).includes(source)) return ApiError.of(Code.invalidSource, `invalid source ${source}`, '/source');
  const { index, accountId } = profileIn(customer.profiles, source as Source, query.accountId);
  if (index < 0) {
    return ApiError.of(
      Code.noProfileInSource,
      `customer has no profile in ${source}${accountId ? ` account ${accountId}` : ''}`,
      '/source',
    );
  }
  return index;
}

/**
 * The index of the first profile in `source` (and in `accountId`, when the source has accounts
 * and one is given), or -1; with the account id as read. Single-account sources have no account
 * ids: one sent is ignored, as on registration. Lookup's `source` filter asks the same.
 */
export function profileIn(profiles: Profile[], source: Source, rawAccountId: string | undefined): { index: number; accountId: string } {
  const accountId = MULTI_ACCOUNT_SOURCES.has(source) ? (rawAccountId?.trim() ?? '') : '';
  const index = accountId
    ? profiles.findIndex((p) => sourceAccountOf(p) === sourceAccountOf({ source, accountId }))
    : profiles.findIndex((p) => p.source === source);
  return { index, accountId };
}
