// Identity guards (SPEC section 13): placeholder values a till types when the shopper has no
// mobile or email ("9999999999", "noemail@x.com") must never become identifiers, or every
// shopper who gave no mobile would be merged into one customer. The rule is pure: a value is
// blocked when it is, once normalised, one of the org's exact values, matches one of its
// patterns, or is one of the defaults below.
//
// Defaults guard a type unless the org lists blocked values of that type itself (then its own
// list decides, or both with `useDefaults: true`); `useDefaults: false` turns them all off.
// - Mobiles: a national significant number (the part after the country code, whatever the
//   country) of six digits or more that is one digit repeated (9999999999, 88888888) or a run
//   of consecutive digits, ascending or descending, wrapping from 9 to 0 (0123456789,
//   1234567890, 9876543210, 0987654321). A real number is rarely a run; a typed placeholder
//   very often is.
// - Emails: the short list in PLACEHOLDER_EMAILS and any address whose local part says there is
//   no email (noemail@, no-email@, no_email@, no.email@, nomail@), at any domain. Real domains
//   are never blocked wholesale: `asha@example.com` is a value like any other.
//
// A guard is compiled once per org configuration object (the store caches that object for
// CONFIG_CACHE_SECONDS), so a request pays a few set look-ups and tests, not a compilation.

import { parsePhoneNumberFromString } from 'libphonenumber-js/mobile';
import type { Identifier } from './customer';
import { normaliseIdentifier } from './identifiers';
import { BLOCKED_PATTERN_FLAGS, type GuardedIdentifierType, type OrgConfig } from './org';

export interface IdentityGuard {
  /** What happens to a blocked value on registration: ignored with a warning, or refused. */
  onBlocked: 'drop' | 'reject';
  maxProfilesPerCustomer?: number;
  blocked: ReadonlyMap<string, Blocklist>;
}

interface Blocklist {
  values: ReadonlySet<string>;
  patterns: readonly RegExp[];
  /** A rule of the defaults that a list of values cannot express. */
  placeholder?: (value: string) => boolean;
}

/** Obvious placeholder addresses, as normalised (lower case). */
const PLACEHOLDER_EMAILS = [
  'test@test.com',
  'na@na.com',
  'none@none.com',
  'null@null.com',
  'abc@abc.com',
  'xxx@xxx.com',
  'email@email.com',
  'test@example.com',
  'email@example.com',
];

const NO_EMAIL_LOCAL_PART = /^no[-_.]?e?mail@/;

const DEFAULTS: ReadonlyMap<GuardedIdentifierType, Blocklist> = new Map<GuardedIdentifierType, Blocklist>([
  ['mobile', { values: new Set(), patterns: [], placeholder: isPlaceholderMobile }],
  ['email', { values: new Set(PLACEHOLDER_EMAILS), patterns: [NO_EMAIL_LOCAL_PART] }],
]);

/** Shortest national number judged by the placeholder rule; shorter ones are too few digits to tell. */
const MIN_PLACEHOLDER_DIGITS = 6;

/** A normalised mobile (digits with country code) whose national number is a placeholder. */
function isPlaceholderMobile(value: string): boolean {
  // The country code is one to three digits: only the phone-number metadata knows where it ends.
  const national = parsePhoneNumberFromString(`+${value}`)?.nationalNumber ?? value;
  if (national.length < MIN_PLACEHOLDER_DIGITS || !/^\d+$/.test(national)) return false;
  const steps = new Set<number>();
  for (let i = 1; i < national.length; i++) steps.add((Number(national[i]) - Number(national[i - 1]) + 10) % 10);
  // One repeated digit steps by 0; an ascending run by +1, a descending one by -1 (9 modulo 10).
  return steps.size === 1 && [0, 1, 9].includes([...steps][0]);
}

const compiled = new WeakMap<OrgConfig, IdentityGuard>();

/** The org's guard, compiled on first use for this configuration object. */
export function guardOf(org: OrgConfig): IdentityGuard {
  let guard = compiled.get(org);
  if (!guard) {
    guard = compile(org);
    compiled.set(org, guard);
  }
  return guard;
}

function compile(org: OrgConfig): IdentityGuard {
  const config = org.identityGuards ?? {};
  const own = config.blocked ?? {};
  const blocked = new Map<string, Blocklist>();
  if (config.useDefaults !== false) {
    for (const [type, defaults] of DEFAULTS) if (config.useDefaults === true || own[type] === undefined) blocked.set(type, defaults);
  }
  for (const [type, lists] of Object.entries(own) as [GuardedIdentifierType, NonNullable<(typeof own)[GuardedIdentifierType]>][]) {
    const values = new Set<string>();
    for (const raw of lists.values ?? []) {
      // Spelt as the org wrote it, stored as a request's value would be.
      const normalised = normaliseIdentifier(type, raw, org.baseCountry);
      if (normalised.ok) values.add(normalised.value);
    }
    const patterns = (lists.patterns ?? []).map((pattern) => new RegExp(pattern, BLOCKED_PATTERN_FLAGS));
    const defaults = blocked.get(type);
    blocked.set(type, {
      values: new Set([...(defaults?.values ?? []), ...values]),
      patterns: [...(defaults?.patterns ?? []), ...patterns],
      ...(defaults?.placeholder ? { placeholder: defaults.placeholder } : {}),
    });
  }
  const guard: IdentityGuard = { onBlocked: config.onBlocked ?? 'drop', blocked };
  if (config.maxProfilesPerCustomer !== undefined) guard.maxProfilesPerCustomer = config.maxProfilesPerCustomer;
  return guard;
}

/** Whether a normalised identifier may not become one. Card numbers are never blocked. */
export function isBlocked(guard: IdentityGuard, identifier: Identifier): boolean {
  if (identifier.type === 'card') return false;
  const list = guard.blocked.get(identifier.type);
  if (!list) return false;
  const { value } = identifier;
  return list.values.has(value) || list.patterns.some((pattern) => pattern.test(value)) || (list.placeholder?.(value) ?? false);
}
