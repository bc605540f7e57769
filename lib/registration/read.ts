import { cardNumberMisfit } from '../cards';
import { parseDateTimeWithOffset } from '../dates';
import { isStorableNumber } from '../numbers';
import { escapePointer } from '../schemas/validate';
import { Problems, type Warning } from '../errors';
import { readExtendedFields } from '../extendedFields';
import { normaliseEmail, normaliseIdentifier, normaliseMobile } from '../identifiers';
import { accountsOf, type OrgConfig } from '../org';
import type { AddCustomerBody, CommChannelInput, EnrollmentInput, IdentifierInput, ProfileInput } from '../schemas/addCustomer.schema';
import { canonicalIdentifierType, MULTI_ACCOUNT_SOURCES, SOURCES, type LoyaltyType, type Source } from '../vocabulary';
import { uniqueIdentifiers, type Card, type CommChannel, type Enrollment, type Identifier, type Profile, type Registration } from './model';

/**
 * Reads a schema-valid `POST /v2/customers` body into a Registration: applies the org's
 * configuration, normalises identifiers and collects every problem before throwing them
 * together.
 */

export interface RegistrationContext {
  org: OrgConfig;
  /** Username (code) of the authenticated till. */
  till: string;
  /** `source` and `accountId` query parameters, which fill in profiles that lack them. */
  query: { source?: string; accountId?: string };
  now: Date;
}

/** DynamoDB's limit on the items of one transaction. */
export const MAX_TRANSACTION_ITEMS = 100;
/** Clock skew tolerated on a createDate sent by a till. */
const FUTURE_SKEW_MS = 5 * 60 * 1000;

export function readRegistration(body: AddCustomerBody, schemaWarnings: Warning[], context: RegistrationContext): Registration {
  const { org, now } = context;
  const problems = new Problems();
  const warnings: Warning[] = [...schemaWarnings];

  const createDate = readCreateDate(body.createDate, org, now, problems);
  const loyaltyType = readLoyaltyType(body, problems);
  const cards = { count: 0 };
  const read = body.profiles.map((input, index) =>
    readProfile(input, `/profiles/${index}`, context, createDate, cards, problems, warnings),
  );
  const profiles = read.map((r) => r.profile);
  // The largest transaction the request can need: a merge writes an item per identifier (a
  // card whose number is still to be drawn too) and per profile, plus the idempotency record;
  // a create writes the customer instead of the profiles.
  const identifierItems = uniqueIdentifiers(profiles).length + profiles.filter((p) => p.card?.generated).length;
  const mostIdentifiers = MAX_TRANSACTION_ITEMS - Math.max(1, profiles.length) - 1;
  if (identifierItems > mostIdentifiers) {
    problems.add(400, `at most ${mostIdentifiers} distinct identifiers in a request of ${profiles.length} profiles`, '/profiles');
  }
  rejectDuplicateSourceAccounts(read, problems);

  let associatedWith = context.till;
  if (body.associatedWith !== undefined) {
    const code = body.associatedWith.trim();
    if (org.tills.includes(code)) associatedWith = code;
    else warnings.push({ code: 8077, message: `unknown till ${code}; associated with ${context.till}`, path: '/associatedWith' });
  }
  if (body.activity !== undefined) {
    warnings.push({ code: 8200, message: 'activity is assigned by the service; the value sent was ignored', path: '/activity' });
  }

  const extendedFields = readExtendedFields(body.extendedFields, org.extendedFields, '/extendedFields', problems);
  const enrollments = readEnrollments(body.loyaltyProgramEnrollments, loyaltyType, createDate, org, problems);

  problems.throwIfAny(warnings);
  return {
    orgId: org.orgId,
    loyaltyType,
    profiles,
    extendedFields,
    enrollments,
    createDate,
    associatedWith,
    endPointsEnabled: [...(body.endPointsEnabled ?? [])],
    customerLevelParts: customerLevelPartsOf(body),
    warnings,
  };
}

function readCreateDate(raw: string | undefined, org: OrgConfig, now: Date, problems: Problems): string {
  if (raw === undefined) return now.toISOString();
  const millis = parseDateTimeWithOffset(raw.trim());
  if (millis === undefined) {
    problems.add(400, 'createDate must be an ISO 8601 date-time with offset', '/createDate');
    return now.toISOString();
  }
  if (millis > now.getTime() + FUTURE_SKEW_MS) problems.add(8017, 'createDate is in the future', '/createDate');
  else if (millis < Date.parse(`${org.earliestRegistrationDate}T00:00:00Z`)) {
    problems.add(8017, `createDate is before ${org.earliestRegistrationDate}`, '/createDate');
  }
  return new Date(millis).toISOString();
}

function readLoyaltyType(body: AddCustomerBody, problems: Problems): LoyaltyType {
  const top = body.loyaltyType;
  const nested = body.loyaltyInfo?.loyaltyType;
  if (top !== undefined && nested !== undefined && top !== nested) {
    problems.add(400, 'loyaltyType and loyaltyInfo.loyaltyType disagree', '/loyaltyInfo/loyaltyType');
  }
  return top ?? nested ?? 'loyalty';
}

function readProfile(
  input: ProfileInput,
  path: string,
  context: RegistrationContext,
  createDate: string,
  cards: { count: number },
  problems: Problems,
  warnings: Warning[],
): { profile: Profile; sourceKnown: boolean } {
  const { org } = context;
  const source = readSource(input, path, context, problems);
  const accountId = source ? readAccountId(input, source, path, context, problems, warnings) : '';

  const identifiers: Identifier[] = [];
  let card: Card | undefined;
  const typesSeen = new Set<string>();
  (input.identifiers ?? []).forEach((raw, index) => {
    const at = `${path}/identifiers/${index}`;
    const type = canonicalIdentifierType(raw.type);
    if (!type) {
      problems.add(400, `unknown identifier type ${raw.type}`, `${at}/type`);
      return;
    }
    if (type === 'card') {
      cards.count += 1;
      if (cards.count > 1) problems.add(3035, 'at most one card per request', at);
      else card = readCard(raw, at, org, createDate, problems);
      return;
    }
    if (typesSeen.has(type)) {
      problems.add(400, `only one ${type} identifier per profile`, at);
      return;
    }
    typesSeen.add(type);
    if (raw.value === undefined) {
      problems.add(400, `${type} identifier without value`, `${at}/value`);
      return;
    }
    const normalised = normaliseIdentifier(type, raw.value, org.baseCountry);
    if (normalised.ok) identifiers.push({ type, value: normalised.value });
    else problems.add(type === 'mobile' ? 8014 : type === 'email' ? 8055 : 400, `invalid ${type}: ${normalised.reason}`, `${at}/value`);
  });
  if (identifiers.length === 0 && !card) {
    problems.add(8005, 'profile has no valid identifier', `${path}/identifiers`);
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
    problems.add(8004, 'profile has no source', `${path}/source`);
    return undefined;
  }
  const at = input.source === undefined ? undefined : `${path}/source`;
  if (!(SOURCES as readonly string[]).includes(raw)) {
    problems.add(8003, `invalid source ${raw}`, at);
    return undefined;
  }
  const source = raw as Source;
  if (!context.org.sources[source]) {
    problems.add(8003, `source ${source} is not enabled for the org`, at);
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
      warnings.push({ code: 8200, message: `${source} has a single account; accountId ignored`, path: `${path}/accountId` });
    }
    return '';
  }
  if (accountId === '') {
    problems.add(8045, `accountId is required for source ${source}`, `${path}/accountId`);
  } else if (!(accountsOf(context.org, source) ?? []).includes(accountId)) {
    problems.add(8127, `${accountId} is not an account of the org for ${source}`, `${path}/accountId`);
  }
  return accountId;
}

function readCommChannel(input: CommChannelInput, path: string, org: OrgConfig, problems: Problems): CommChannel {
  let value = input.value.trim();
  if (input.type === 'email' || input.type === 'mobile') {
    const normalised = input.type === 'email' ? normaliseEmail(value) : normaliseMobile(value, org.baseCountry);
    if (normalised.ok) value = normalised.value;
    else problems.add(input.type === 'email' ? 8057 : 8058, `invalid ${input.type} in comm channel: ${normalised.reason}`, `${path}/value`);
  } else if (value === '') {
    problems.add(8010, 'comm channel without value', `${path}/value`);
  }
  if (input.meta?.lastViewedDate !== undefined && input.type !== 'mobilePush') {
    problems.add(8010, 'meta.lastViewedDate is only for mobilePush channels', `${path}/meta/lastViewedDate`);
  }
  const channel: CommChannel = {
    type: input.type,
    value,
    primary: asBoolean(input.primary),
    verified: asBoolean(input.verified),
    subscribed: asBoolean(input.subscribed),
  };
  // Only the keys meta has; others were reported as ignored (8200) and are not stored.
  if (input.meta) {
    channel.meta = {};
    if (input.meta.lastViewedDate !== undefined) channel.meta.lastViewedDate = input.meta.lastViewedDate;
    if (input.meta.residence !== undefined) channel.meta.residence = asBoolean(input.meta.residence);
  }
  if (input.attributes) {
    for (const [name, value] of Object.entries(input.attributes)) {
      if (typeof value === 'number' && !isStorableNumber(value)) {
        problems.add(8010, `attribute ${name} is a number too small to store`, `${path}/attributes/${escapePointer(name)}`);
      }
    }
    channel.attributes = { ...input.attributes };
  }
  return channel;
}

/** Comm channel flags may arrive as `"true"` / `"false"`; they are stored as booleans. */
function asBoolean(flag: boolean | string | undefined): boolean {
  return flag === true || flag === 'true';
}

function readCard(input: IdentifierInput, path: string, org: OrgConfig, createDate: string, problems: Problems): Card | undefined {
  const series = org.cardSeries.find((s) =>
    input.seriesId !== undefined ? s.id === input.seriesId : input.seriesCode !== undefined && s.code === input.seriesCode.trim(),
  );
  let ok = true;
  if (!series) {
    problems.add(3004, input.seriesId === undefined && input.seriesCode === undefined
      ? 'card identifier needs seriesId or seriesCode'
      : 'card series does not exist', `${path}/${input.seriesId !== undefined ? 'seriesId' : 'seriesCode'}`);
    ok = false;
  } else if (input.seriesId !== undefined && input.seriesCode !== undefined && series.code !== input.seriesCode.trim()) {
    problems.add(3004, `seriesCode does not match series ${series.id}`, `${path}/seriesCode`);
    ok = false;
  }
  const statusLabel = input.statusLabel?.trim();
  if (!statusLabel || !org.cardStatusLabels.includes(statusLabel)) {
    problems.add(3017, statusLabel ? `invalid card status label ${statusLabel}` : 'statusLabel is required', `${path}/statusLabel`);
    ok = false;
  }
  const cardNumber = input.value?.trim() ?? '';
  if (series) {
    if (cardNumber === '' && !series.generates) {
      problems.add(3000, `series ${series.code} does not generate numbers; a card number is required`, `${path}/value`);
      ok = false;
    } else if (cardNumber !== '') {
      const misfit = cardNumberMisfit(series, cardNumber);
      if (misfit) {
        problems.add(3000, `card number does not fit series ${series.code}: it ${misfit}`, `${path}/value`);
        ok = false;
      }
    }
  }
  const fields = input.fields ? { ...input.fields } : undefined;
  const extendedFields = input.extendedFields
    ? readExtendedFields(input.extendedFields, org.extendedFields, `${path}/extendedFields`, problems)
    : undefined;
  if (!ok || !series || !statusLabel) return undefined;
  const card: Card = { cardNumber, seriesId: series.id, seriesCode: series.code, statusLabel, issuedDate: createDate, generated: cardNumber === '' };
  if (fields) card.fields = fields;
  if (extendedFields && Object.keys(extendedFields).length > 0) card.extendedFields = extendedFields;
  return card;
}

function readEnrollments(
  inputs: readonly EnrollmentInput[] | undefined,
  loyaltyType: LoyaltyType,
  createDate: string,
  org: OrgConfig,
  problems: Problems,
): Enrollment[] {
  if (loyaltyType === 'non_loyalty') {
    if (inputs && inputs.length > 0) {
      problems.add(8121, 'a non_loyalty customer cannot be enrolled', '/loyaltyProgramEnrollments');
    }
    return [];
  }
  if (!inputs || inputs.length === 0) {
    const program = org.programs.find((p) => p.isDefault);
    return program ? [{ programId: program.id, tierNumber: 1, loyaltyPoints: 0 }] : [];
  }
  const created = Date.parse(createDate);
  const enrollments: Enrollment[] = [];
  const programsSeen = new Set<number>();
  inputs.forEach((input, index) => {
    const path = `/loyaltyProgramEnrollments/${index}`;
    const program = org.programs.find((p) => p.id === input.programId);
    if (!program) {
      problems.add(1213, `program ${input.programId} does not exist`, `${path}/programId`);
      return;
    }
    if (programsSeen.has(program.id)) {
      problems.add(400, `program ${program.id} is listed twice`, `${path}/programId`);
      return;
    }
    programsSeen.add(program.id);
    const tierNumber = input.tierNumber ?? 1;
    if (!program.tiers.some((t) => t.number === tierNumber)) {
      problems.add(8201, `tier ${tierNumber} does not exist in program ${program.id}`, `${path}/tierNumber`);
    }
    const enrollment: Enrollment = { programId: program.id, tierNumber, loyaltyPoints: input.loyaltyPoints ?? 0 };
    for (const key of ['tierExpiryDate', 'pointsExpiryDate'] as const) {
      const raw = input[key];
      if (raw === undefined) continue;
      const millis = parseDateTimeWithOffset(raw.trim());
      if (millis === undefined) problems.add(400, `${key} must be an ISO 8601 date-time with offset`, `${path}/${key}`);
      else if (!(millis > created)) problems.add(8203, `${key} must lie after createDate`, `${path}/${key}`);
      else enrollment[key] = new Date(millis).toISOString();
    }
    enrollments.push(enrollment);
  });
  return enrollments;
}

/** Two profiles of one request may not share a source and account. */
function rejectDuplicateSourceAccounts(read: { profile: Profile; sourceKnown: boolean }[], problems: Problems): void {
  const seen = new Set<string>();
  read.forEach(({ profile, sourceKnown }, index) => {
    if (!sourceKnown) return;
    const key = `${profile.source}#${profile.accountId}`;
    if (seen.has(key)) problems.add(400, `two profiles in ${profile.source}${profile.accountId ? ` account ${profile.accountId}` : ''}`, `/profiles/${index}`);
    seen.add(key);
  });
}

/** Customer-level parts a merge does not apply, each named in a warning. */
function customerLevelPartsOf(body: AddCustomerBody): string[] {
  const parts: string[] = [];
  if (body.extendedFields && Object.values(body.extendedFields).some((v) => v !== null && v !== '')) parts.push('extendedFields');
  if (body.loyaltyProgramEnrollments?.length) parts.push('loyaltyProgramEnrollments');
  if (body.loyaltyType !== undefined) parts.push('loyaltyType');
  if (body.loyaltyInfo?.loyaltyType !== undefined) parts.push('loyaltyInfo');
  if (body.createDate !== undefined) parts.push('createDate');
  if (body.associatedWith !== undefined) parts.push('associatedWith');
  if (body.endPointsEnabled?.length) parts.push('endPointsEnabled');
  return parts;
}
