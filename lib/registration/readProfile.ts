// Reads one profile of a registration: its source and account, identifiers (a card among
// them), custom fields, names and comm channels.

import type { Card, Identifier, Profile } from '../customer';
import { Code, identifierProblemCode, warning, type Problems, type Warning } from '../errors';
import { guardOf, isBlocked } from '../identityGuards';
import { normaliseIdentifier } from '../identifiers';
import { accountsOf } from '../org';
import type { ProfileInput } from '../schemas/addCustomer.schema';
import { canonicalIdentifierType, MULTI_ACCOUNT_SOURCES, SOURCES, type Source } from '../vocabulary';
import type { RegistrationContext } from './context';
import { readCard } from './readCard';
import { readCommChannel } from './readCommChannel';

const CARD_ONLY_KEYS = ['seriesId', 'seriesCode', 'statusLabel', 'fields', 'extendedFields'] as const;

export function readProfile(
  input: ProfileInput,
  path: string,
  context: RegistrationContext,
  createDate: string,
  cards: { count: number },
  problems: Problems,
  warnings: Warning[],
): { profile: Profile; sourceKnown: boolean } {
  const { org } = context;
  const guard = guardOf(org);
  const source = readSource(input, path, context, problems);
  const accountId = source ? readAccountId(input, source, path, context, problems, warnings) : '';

  const identifiers: Identifier[] = [];
  let card: Card | undefined;
  const typesSeen = new Set<string>();
  (input.identifiers ?? []).forEach((raw, index) => {
    const at = `${path}/identifiers/${index}`;
    const type = canonicalIdentifierType(raw.type);
    if (!type) {
      problems.add(Code.badRequest, `unknown identifier type ${raw.type}`, `${at}/type`);
      return;
    }
    if (type === 'card') {
      cards.count += 1;
      if (cards.count > 1) problems.add(Code.severalCards, 'at most one card per request', at);
      else card = readCard(raw, at, org, createDate, problems);
      return;
    }
    // Card-only keys on another identifier are ignored, with the warning every ignored part gets.
    for (const key of CARD_ONLY_KEYS) {
      if (raw[key] !== undefined) warnings.push(warning(Code.ignored, `${key} is only for card identifiers; ignored`, `${at}/${key}`));
    }
    if (typesSeen.has(type)) {
      problems.add(Code.badRequest, `only one ${type} identifier per profile`, at);
      return;
    }
    typesSeen.add(type);
    if (raw.value === undefined) {
      problems.add(Code.badRequest, `${type} identifier without value`, `${at}/value`);
      return;
    }
    const normalised = normaliseIdentifier(type, raw.value, org.baseCountry);
    if (!normalised.ok) {
      problems.add(identifierProblemCode(type), `invalid ${type}: ${normalised.reason}`, `${at}/value`);
      return;
    }
    const identifier = { type, value: normalised.value };
    // A placeholder never becomes an identifier: it would claim a value or merge strangers (SPEC section 13).
    if (!isBlocked(guard, identifier)) identifiers.push(identifier);
    else if (guard.onBlocked === 'reject')
      problems.add(identifierProblemCode(type), `${type} is a placeholder the org does not accept`, `${at}/value`);
    else warnings.push(warning(Code.ignored, `${type} is a placeholder, not an identifier; ignored`, `${at}/value`));
  });
  if (identifiers.length === 0 && !card) {
    problems.add(Code.profileWithoutIdentifier, 'profile has no valid identifier', `${path}/identifiers`);
  }

  const profile: Profile = {
    source: source ?? 'INSTORE',
    accountId,
    identifiers,
    fields: { ...(input.fields ?? {}) },
    commChannels: (input.commChannels ?? []).map((c, i) => readCommChannel(c, `${path}/commChannels/${i}`, org, problems)),
    createDate,
    createdBy: context.till,
  };
  const firstName = input.firstName?.trim();
  const lastName = input.lastName?.trim();
  if (firstName) profile.firstName = firstName;
  if (lastName) profile.lastName = lastName;
  if (card) profile.card = card;
  return { profile, sourceKnown: source !== undefined };
}

function readSource(input: ProfileInput, path: string, context: RegistrationContext, problems: Problems): Source | undefined {
  const raw = input.source ?? context.query.source?.trim();
  if (raw === undefined || raw === '') {
    problems.add(Code.profileWithoutSource, 'profile has no source', `${path}/source`);
    return undefined;
  }
  const at = input.source === undefined ? undefined : `${path}/source`;
  if (!(SOURCES as readonly string[]).includes(raw)) {
    problems.add(Code.invalidSource, `invalid source ${raw}`, at);
    return undefined;
  }
  const source = raw as Source;
  if (!context.org.sources[source]) {
    problems.add(Code.invalidSource, `source ${source} is not enabled for the org`, at);
    return undefined;
  }
  return source;
}

function readAccountId(
  input: ProfileInput,
  source: Source,
  path: string,
  context: RegistrationContext,
  problems: Problems,
  warnings: Warning[],
): string {
  const accountId = (input.accountId ?? context.query.accountId ?? '').trim();
  if (!MULTI_ACCOUNT_SOURCES.has(source)) {
    if (input.accountId !== undefined && accountId !== '') {
      warnings.push(warning(Code.ignored, `${source} has a single account; accountId ignored`, `${path}/accountId`));
    }
    return '';
  }
  if (accountId === '') {
    problems.add(Code.accountIdMissing, `accountId is required for source ${source}`, `${path}/accountId`);
  } else if (!(accountsOf(context.org, source) ?? []).includes(accountId)) {
    problems.add(Code.unknownAccountId, `${accountId} is not an account of the org for ${source}`, `${path}/accountId`);
  }
  return accountId;
}

/** Two profiles of one request may not share a source and account. */
export function rejectDuplicateSourceAccounts(read: { profile: Profile; sourceKnown: boolean }[], problems: Problems): void {
  const seen = new Set<string>();
  read.forEach(({ profile, sourceKnown }, index) => {
    if (!sourceKnown) return;
    const key = `${profile.source}#${profile.accountId}`;
    if (seen.has(key))
      problems.add(
        Code.badRequest,
        `two profiles in ${profile.source}${profile.accountId ? ` account ${profile.accountId}` : ''}`,
        `/profiles/${index}`,
      );
    seen.add(key);
  });
}
