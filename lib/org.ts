import type { Source } from './vocabulary';

/**
 * An org's configuration as stored in the table (SPEC section 2 and 7). Till credentials are
 * stored apart from it, one item per till, as salted scrypt hashes.
 */
export interface OrgConfig {
  orgId: number;
  name: string;
  /** ISO 3166-1 alpha-2 country used to read national mobile numbers. */
  baseCountry: string;
  /** Registrations dated before this day (YYYY-MM-DD) are refused with 8017. */
  earliestRegistrationDate: string;
  /** Requests per minute on POST /v2/customers; unset means the stage default. */
  rateLimitPerMinute?: number;
  /** Enabled sources, each with its account ids (empty for single-account sources). */
  sources: Partial<Record<Source, { accounts: string[] }>>;
  /** Till codes (usernames) of the org, for `associatedWith`. */
  tills: string[];
  extendedFields: ExtendedFieldDefinition[];
  cardSeries: CardSeries[];
  cardStatusLabels: string[];
  programs: LoyaltyProgram[];
}

export type ExtendedFieldType =
  | 'STRING' | 'INTEGER' | 'DOUBLE' | 'DATE' | 'DATETIME' | 'STANDARD_ENUM' | 'CUSTOM_ENUM' | 'COUNTRY';

export interface ExtendedFieldDefinition {
  name: string;
  label: string;
  dataType: ExtendedFieldType;
  enumValues?: string[];
  maxLength?: number;
}

/** How card numbers of a series look. `generates` series issue numbers themselves. */
export interface CardSeries {
  id: number;
  code: string;
  generates: boolean;
  /** Fixed leading characters, e.g. `DEMO`. */
  prefix: string;
  /** Number of digits after the prefix, check digit included. */
  minDigits: number;
  maxDigits: number;
  /** `luhn`: the digits, check digit last, pass the Luhn check. */
  checkDigit: 'luhn' | 'none';
}

export interface LoyaltyProgram {
  id: number;
  name: string;
  /** Loyalty customers sent without enrollments join the default program at tier 1. */
  isDefault: boolean;
  tiers: { number: number; name: string }[];
}

/** A till as written in an org configuration file. */
export interface TillDefinition {
  username: string;
  /** Plain password; hashed (md5, then scrypt) before it is stored. */
  password?: string;
  /** md5 hex of the password, for files that must not hold the password itself. */
  passwordMd5?: string;
}

/** An org configuration file: the stored configuration plus its tills' credentials. */
export interface OrgFile extends Omit<OrgConfig, 'tills'> {
  tills: TillDefinition[];
}

export function accountsOf(org: OrgConfig, source: Source): string[] | undefined {
  return org.sources[source]?.accounts;
}
