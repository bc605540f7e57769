import { EVENT_TYPES, type EventType } from './events/event';
import { MAX_IDENTIFIER_LENGTH, normaliseIdentifier } from './identifiers';
import { EXTENDED_FIELD_TYPES, IDENTIFIER_TYPES, type ExtendedFieldType, type IdentifierType, type Source } from './vocabulary';

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
  /** Till codes the org allows to erase customers (`DELETE /v2/customers/{id}`, SPEC section 12). */
  erasingTills?: string[];
  /** Till codes the org allows to export a customer's data (`GET /v2/customers/{id}/export`, SPEC section 12). */
  exportingTills?: string[];
  /** Till codes the org allows to merge and unmerge customers (SPEC section 15). */
  mergingTills?: string[];
  extendedFields: ExtendedFieldDefinition[];
  cardSeries: CardSeries[];
  cardStatusLabels: string[];
  programs: LoyaltyProgram[];
  /** Placeholder values that never become identifiers, and a bound on profiles (SPEC section 13). */
  identityGuards?: IdentityGuards;
  /** What the org's events carry (SPEC section 10); unset: thin events. */
  events?: EventSettings;
  /** Where the org's events are delivered as Standard Webhooks (SPEC section 10; lib/webhooks sends them). */
  webhooks?: WebhookSubscription[];
}

export interface EventSettings {
  /** true: events carry the customer document in `data.customer`; unset or false: thin events. */
  full?: boolean;
}

/**
 * One receiver of the org's events. A receiver that answers 410 disables the subscription
 * (lib/store/webhookSubscriptions.ts keeps the mark); loading the org file again does not
 * enable it again unless its url changed.
 */
export interface WebhookSubscription {
  /** 1 to 64 of A-Z a-z 0-9 _ -, unique in the org: the queued deliveries name the subscription by it. */
  id: string;
  /** Where events are POSTed: https in AWS stages, to a public address (lib/webhooks/target.ts). */
  url: string;
  /** The event types sent (at least one). */
  events: EventType[];
  /**
   * 1 to 3 signing secrets, `whsec_` + base64 of 24 to 64 bytes. Every one signs each delivery
   * (a receiver that knows any of them verifies it), so a rotation adds the new secret, waits
   * for the receiver to switch, then drops the old one. Never logged.
   */
  secrets: string[];
  /** true: events of imports are sent too; unset or false: they are not. */
  includeImports?: boolean;
}

/** Bounds of a webhook subscription that the schema and the checks below share. */
export const WEBHOOK_LIMITS = {
  subscriptions: 10,
  secrets: 3,
  secretBytes: { min: 24, max: 64 },
  urlLength: 2048,
} as const;

/**
 * SPEC section 13. Blocked values are matched on the normalised value (`lib/identityGuards.ts`
 * holds the rule and the defaults).
 */
export interface IdentityGuards {
  /**
   * Blocked values of each identifier type. A type listed here is matched against these alone,
   * unless `useDefaults` is true; the defaults still guard the types not listed.
   */
  blocked?: Partial<Record<GuardedIdentifierType, BlockedValues>>;
  /** false: no default blocked values at all; true: the defaults as well as the org's own lists. */
  useDefaults?: boolean;
  /** `drop` (default): a blocked value is ignored with warning 8200; `reject`: it is refused (8014, 8055, 400). */
  onBlocked?: 'drop' | 'reject';
  /** A registration that would leave a customer with more profiles than this is refused (8901). */
  maxProfilesPerCustomer?: number;
}

/** Card numbers are issued by the org's series, never typed as placeholders: they are not guarded. */
export type GuardedIdentifierType = Exclude<IdentifierType, 'card'>;

export interface BlockedValues {
  /** Exact values, normalised as identifiers are (so `+91 99999 99999` and `Test@Test.com` work). */
  values?: string[];
  /** Regular expressions (Unicode mode) tested on the normalised value; anchor them with `^` and `$` to match it whole. */
  patterns?: string[];
}

/** Bounds the work an operator's pattern can cost on every identifier of every request. */
const MAX_BLOCKED_PATTERN_LENGTH = 200;
export const BLOCKED_PATTERN_FLAGS = 'u';

export type { ExtendedFieldType };

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
  /** true: the till may erase customers (SPEC section 12). */
  mayErase?: boolean;
  /** true: the till may export a customer's data (SPEC section 12). */
  mayExport?: boolean;
  /** true: the till may merge and unmerge customers (SPEC section 15). */
  mayMerge?: boolean;
}

/** An org configuration file: the stored configuration plus its tills' credentials. */
export interface OrgFile extends Omit<OrgConfig, 'tills' | 'erasingTills' | 'exportingTills' | 'mergingTills'> {
  tills: TillDefinition[];
}

export function accountsOf(org: OrgConfig, source: Source): string[] | undefined {
  return org.sources[source]?.accounts;
}

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
    if (!(EXTENDED_FIELD_TYPES as readonly string[]).includes(field.dataType))
      problems.push(`${at}: extended field ${field.name} has unknown dataType ${field.dataType}`);
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
  if (file.identityGuards !== undefined) problems.push(...problemsOfIdentityGuards(file.identityGuards, file.baseCountry, at));
  if (file.webhooks !== undefined) problems.push(...problemsOfWebhooks(file.webhooks, at));
  return problems;
}

const SECRET_PREFIX = 'whsec_';

/**
 * The rules of webhook subscriptions the schema cannot say (ids unique in the org, the secret's
 * decoded length, a URL that parses), one problem per mistake, each naming its place. A problem
 * never quotes a secret.
 */
function problemsOfWebhooks(webhooks: WebhookSubscription[], org: string): string[] {
  if (!Array.isArray(webhooks)) return [`${org}: webhooks must be a list of subscriptions`];
  const problems: string[] = [];
  if (webhooks.length > WEBHOOK_LIMITS.subscriptions)
    problems.push(`${org}: webhooks: at most ${WEBHOOK_LIMITS.subscriptions} subscriptions`);
  const seen = new Set<string>();
  webhooks.forEach((subscription, i) => {
    const at = `${org}: webhooks[${i}]`;
    if (!isObject(subscription as unknown)) {
      problems.push(`${at} must be a subscription {"id", "url", "events", "secrets"}`);
      return;
    }
    const { id, url, events, secrets } = subscription;
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) problems.push(`${at}.id must be 1 to 64 of A-Z a-z 0-9 _ -`);
    else if (seen.has(id)) problems.push(`${at}.id ${id} is the id of an earlier subscription: ids must be unique in the org`);
    else seen.add(id);
    const urlProblem = problemOfWebhookUrl(url);
    if (urlProblem) problems.push(`${at}.url ${urlProblem}`);
    if (!Array.isArray(events) || events.length === 0) problems.push(`${at}.events must list at least one event type`);
    else {
      events.forEach((type, j) => {
        if (!(EVENT_TYPES as readonly string[]).includes(type))
          problems.push(`${at}.events[${j}] must be one of ${EVENT_TYPES.join(', ')}`);
        else if (events.indexOf(type) !== j) problems.push(`${at}.events[${j}] ${type} is listed twice`);
      });
    }
    if (!Array.isArray(secrets) || secrets.length === 0 || secrets.length > WEBHOOK_LIMITS.secrets) {
      problems.push(`${at}.secrets must list 1 to ${WEBHOOK_LIMITS.secrets} secrets`);
    } else {
      secrets.forEach((secret, j) => {
        const secretProblem = problemOfWebhookSecret(secret);
        if (secretProblem) problems.push(`${at}.secrets[${j}] ${secretProblem}`);
        else if (secrets.indexOf(secret) !== j) problems.push(`${at}.secrets[${j}] is the same as secrets[${secrets.indexOf(secret)}]`);
      });
    }
    if (subscription.includeImports !== undefined && typeof subscription.includeImports !== 'boolean') {
      problems.push(`${at}.includeImports must be true or false`);
    }
  });
  return problems;
}

function problemOfWebhookUrl(url: unknown): string | undefined {
  if (typeof url !== 'string' || url.length > WEBHOOK_LIMITS.urlLength)
    return `must be an http(s) URL of at most ${WEBHOOK_LIMITS.urlLength} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    return `must be https (or http on the local stage), not ${parsed.protocol}`;
  // Credentials in a URL end up in logs and proxies; the signature is what authenticates a delivery.
  if (parsed.username || parsed.password) return 'must not carry credentials (user:password@)';
  return undefined;
}

/** What is wrong with a webhook signing secret, said without quoting it; undefined when nothing is. */
export function problemOfWebhookSecret(secret: unknown): string | undefined {
  const { min, max } = WEBHOOK_LIMITS.secretBytes;
  const form = `must be "${SECRET_PREFIX}" followed by the base64 of ${min} to ${max} random bytes`;
  if (typeof secret !== 'string' || !secret.startsWith(SECRET_PREFIX)) return form;
  const encoded = secret.slice(SECRET_PREFIX.length);
  const bytes = Buffer.from(encoded, 'base64');
  // Only canonical, padded base64 (what `openssl rand -base64 32` prints) decodes the same everywhere.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || bytes.toString('base64') !== encoded) return `${form} (this one is not padded base64)`;
  if (bytes.length < min || bytes.length > max) return `${form} (this one decodes to ${bytes.length} bytes)`;
  return undefined;
}

const GUARD_KEYS = ['blocked', 'useDefaults', 'onBlocked', 'maxProfilesPerCustomer'];
const GUARDED_TYPES: readonly string[] = IDENTIFIER_TYPES.filter((t) => t !== 'card');

// A misspelt key would silently switch a guard off, so unknown keys are refused like bad values.
function problemsOfIdentityGuards(guards: IdentityGuards, baseCountry: string, org: string): string[] {
  const at = `${org}: identityGuards`;
  if (!isObject(guards as unknown)) return [`${at} must be an object`];
  const problems = Object.keys(guards)
    .filter((key) => !GUARD_KEYS.includes(key))
    .map((key) => `${at}: unknown key ${key}`);
  if (guards.useDefaults !== undefined && typeof guards.useDefaults !== 'boolean') problems.push(`${at}.useDefaults must be true or false`);
  if (guards.onBlocked !== undefined && guards.onBlocked !== 'drop' && guards.onBlocked !== 'reject') {
    problems.push(`${at}.onBlocked must be drop or reject`);
  }
  const most = guards.maxProfilesPerCustomer;
  if (most !== undefined && (!Number.isSafeInteger(most) || most < 1))
    problems.push(`${at}.maxProfilesPerCustomer must be a positive integer`);
  if (guards.blocked === undefined) return problems;
  if (!isObject(guards.blocked)) return [...problems, `${at}.blocked must be an object of identifier types`];
  for (const [type, lists] of Object.entries(guards.blocked)) {
    const here = `${at}.blocked.${type}`;
    if (!GUARDED_TYPES.includes(type)) {
      problems.push(type === 'card' ? `${here}: card numbers are not guarded` : `${at}.blocked: unknown identifier type ${type}`);
      continue;
    }
    if (!isObject(lists) || Object.keys(lists).some((key) => key !== 'values' && key !== 'patterns')) {
      problems.push(`${here} must be {values, patterns}`);
      continue;
    }
    for (const value of stringsOf(lists.values, `${here}.values`, problems)) {
      // A value that can never be an identifier can never match: most likely a typo.
      const normalised = normaliseIdentifier(type as IdentifierType, value, baseCountry);
      if (!normalised.ok) problems.push(`${here}.values: ${JSON.stringify(value)} is ${normalised.reason}`);
    }
    for (const pattern of stringsOf(lists.patterns, `${here}.patterns`, problems)) {
      const problem = problemOfPattern(pattern);
      if (problem) problems.push(`${here}.patterns: ${JSON.stringify(pattern.slice(0, 40))} ${problem}`);
    }
  }
  return problems;
}

function problemOfPattern(pattern: string): string | undefined {
  if (pattern.length === 0) return 'is empty (it would block every value)';
  if (pattern.length > MAX_BLOCKED_PATTERN_LENGTH) return `is longer than ${MAX_BLOCKED_PATTERN_LENGTH} characters`;
  try {
    new RegExp(pattern, BLOCKED_PATTERN_FLAGS);
    return undefined;
  } catch (error) {
    return `is not a valid regular expression (${(error as Error).message})`;
  }
}

/** The strings of an optional list, noting a list that is not one. */
function stringsOf(list: unknown, at: string, problems: string[]): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || item.length > MAX_IDENTIFIER_LENGTH)) {
    problems.push(`${at} must be a list of strings of at most ${MAX_IDENTIFIER_LENGTH} characters`);
    return [];
  }
  return list;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
