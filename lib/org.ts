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

export type ExtendedFieldType = 'STRING' | 'INTEGER' | 'DOUBLE' | 'DATE' | 'DATETIME' | 'STANDARD_ENUM' | 'CUSTOM_ENUM' | 'COUNTRY';

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

const DATA_TYPES: readonly ExtendedFieldType[] = [
  'STRING',
  'INTEGER',
  'DOUBLE',
  'DATE',
  'DATETIME',
  'STANDARD_ENUM',
  'CUSTOM_ENUM',
  'COUNTRY',
];

/** What is wrong with an org configuration file, so that the loader refuses it whole. */
export function problemsOfOrgFile(file: OrgFile, knownSources: readonly string[], multiAccount: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const at = `org ${file.orgId}`;
  if (!Number.isSafeInteger(file.orgId) || file.orgId < 1) problems.push(`orgId must be a positive integer, not ${file.orgId}`);
  if (!/^[A-Z]{2}$/.test(file.baseCountry ?? '')) problems.push(`${at}: baseCountry must be an ISO 3166-1 alpha-2 code`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(file.earliestRegistrationDate ?? '')) problems.push(`${at}: earliestRegistrationDate must be YYYY-MM-DD`);
  if (file.rateLimitPerMinute !== undefined && (!Number.isSafeInteger(file.rateLimitPerMinute) || file.rateLimitPerMinute < 1)) {
    problems.push(`${at}: rateLimitPerMinute must be a positive integer`);
  }
  for (const [source, settings] of Object.entries(file.sources ?? {})) {
    if (!knownSources.includes(source)) problems.push(`${at}: unknown source ${source}`);
    if (multiAccount.has(source) && !settings?.accounts?.length) problems.push(`${at}: ${source} needs at least one account`);
  }
  if (!file.tills?.length) problems.push(`${at}: no tills`);
  for (const till of file.tills ?? []) {
    if (!till.username || till.username.length > 128 || till.username.includes(':'))
      problems.push(`${at}: till username must be 1 to 128 characters without ':'`);
  }
  for (const field of file.extendedFields ?? []) {
    if (!DATA_TYPES.includes(field.dataType)) problems.push(`${at}: extended field ${field.name} has unknown dataType ${field.dataType}`);
    if (field.dataType.endsWith('_ENUM') && !field.enumValues?.length)
      problems.push(`${at}: extended field ${field.name} needs enumValues`);
  }
  for (const series of file.cardSeries ?? []) {
    const digitsOk =
      Number.isInteger(series.minDigits) &&
      Number.isInteger(series.maxDigits) &&
      series.minDigits >= (series.checkDigit === 'luhn' ? 2 : 1) &&
      series.minDigits <= series.maxDigits &&
      series.maxDigits <= 64;
    if (!digitsOk) problems.push(`${at}: card series ${series.id} needs 1 <= minDigits <= maxDigits <= 64 (2 with a Luhn check digit)`);
  }
  if (!file.cardStatusLabels?.length) problems.push(`${at}: no card status labels`);
  const defaults = (file.programs ?? []).filter((p) => p.isDefault);
  if (defaults.length > 1) problems.push(`${at}: more than one default program`);
  if (defaults[0] && !defaults[0].tiers.some((t) => t.number === 1)) problems.push(`${at}: the default program needs a tier 1`);
  return problems;
}
