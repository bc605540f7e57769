// What a request is read against: the caller's org and till, the query, the time.

import type { Origin } from '../customer';
import { Code, Problems } from '../errors';
import type { OrgConfig } from '../org';
import { SOURCES } from '../vocabulary';

export interface RegistrationContext {
  org: OrgConfig;
  /** Username (code) of the authenticated till. */
  till: string;
  /** `source` and `accountId` query parameters, which fill in profiles that lack them. */
  query: { source?: string; accountId?: string };
  now: Date;
  /** Unset: `api`. */
  origin?: Origin;
}

/** The longest account id a query may name (as the document's `accountId` parameter says). */
export const MAX_QUERY_ACCOUNT_ID = 100;

/**
 * The query's own problems, judged whether or not a profile needs it (SPEC section 14: the
 * document says what the service does): a source outside the enum is 400 / 8003, an account id
 * over 100 characters 400.
 */
export function checkRegistrationQuery(query: RegistrationContext['query']): void {
  const problems = new Problems();
  const source = query.source?.trim();
  if (source && !(SOURCES as readonly string[]).includes(source)) problems.add(Code.invalidSource, `invalid source ${source}`, '/source');
  if ((query.accountId?.length ?? 0) > MAX_QUERY_ACCOUNT_ID) {
    problems.add(Code.badRequest, `accountId is longer than ${MAX_QUERY_ACCOUNT_ID} characters`, '/accountId');
  }
  problems.throwIfAny();
}
