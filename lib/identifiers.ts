import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/mobile';
import { isWellFormed } from './text';
import type { IdentifierType } from './vocabulary';

// Normalisation of identifier values (SPEC section 3), applied before any uniqueness check so
// that every spelling of one mobile or email maps to one stored value.

export type Normalised = { ok: true; value: string } | { ok: false; reason: string };

/** Formatting a person may type around a phone number. */
const PHONE_DECORATION = /[\s.\-()[\]]/g;
/**
 * ajv-formats' `email` format (full mode), copied in: the package is 20 KB of a bundle for this
 * one pattern. test/unit/identifiers.test.ts checks the copy against the package's.
 */
export const EMAIL_PATTERN =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i;

/**
 * A mobile number as digits with country code (E.164 without the `+`). A number without
 * country code is read in the org's base country; the result must be a valid mobile number
 * for its country (libphonenumber's mobile metadata decides).
 */
export function normaliseMobile(raw: string, baseCountry: string): Normalised {
  const text = raw.trim().replace(PHONE_DECORATION, '');
  if (!/^\+?\d{4,20}$/.test(text)) return { ok: false, reason: 'not a phone number' };
  const candidates = text.startsWith('+')
    ? [parsePhoneNumberFromString(text)]
    : text.startsWith('00')
      ? [parsePhoneNumberFromString(`+${text.slice(2)}`)]
      : // National first (the org's own customers), then the digits as country code + number.
        [parsePhoneNumberFromString(text, baseCountry as CountryCode), parsePhoneNumberFromString(`+${text}`)];
  for (const phone of candidates) {
    if (phone?.isValid()) return { ok: true, value: phone.number.slice(1) };
  }
  return { ok: false, reason: 'not a valid mobile number' };
}

/** Emails are matched case-insensitively, so they are stored in lower case. */
export function normaliseEmail(raw: string): Normalised {
  const value = raw.trim().toLowerCase();
  if (value.length === 0 || value.length > MAX_IDENTIFIER_LENGTH || !EMAIL_PATTERN.test(value)) {
    return { ok: false, reason: 'not a valid email address' };
  }
  return { ok: true, value };
}

/** Longest identifier value stored (it becomes part of a DynamoDB key). */
export const MAX_IDENTIFIER_LENGTH = 255;

export function normaliseOther(raw: string): Normalised {
  const value = raw.trim();
  if (value.length === 0) return { ok: false, reason: 'empty value' };
  if (value.length > MAX_IDENTIFIER_LENGTH) return { ok: false, reason: `longer than ${MAX_IDENTIFIER_LENGTH} characters` };
  return { ok: true, value };
}

/**
 * Invisible characters that join or separate nothing visible (zero-width space, non-joiner and
 * joiner, word joiner and the invisible operators, BOM, soft hyphen, Mongolian vowel
 * separator): a value typed or pasted with one is the value without it. Bidi controls are
 * kept: they change how a value reads, so they are part of it.
 */
const FORMAT_CHARACTERS = /[\u00AD\u180E\u200B-\u200D\u2060-\u2064\uFEFF]/g;

/** One form for every spelling of an identifier value: NFC, without invisible format characters. */
export function canonicalText(raw: string): string {
  return raw.normalize('NFC').replace(FORMAT_CHARACTERS, '');
}

export function normaliseIdentifier(type: IdentifierType, raw: string, baseCountry: string): Normalised {
  // A lone surrogate cannot be stored faithfully: two such values could become one.
  if (!isWellFormed(raw)) return { ok: false, reason: 'not well-formed Unicode (a lone surrogate)' };
  const text = canonicalText(raw);
  switch (type) {
    case 'mobile':
      return normaliseMobile(text, baseCountry);
    case 'email':
      return normaliseEmail(text);
    default:
      return normaliseOther(text);
  }
}
