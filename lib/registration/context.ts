// What a request is read against: the caller's org and till, the query, the time.

import type { Origin } from '../customer';
import type { OrgConfig } from '../org';

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
