// Reads a schema-valid `POST /v2/customers` body into a Registration: applies the org's
// configuration, normalises identifiers and collects every problem before throwing them
// together. Each part of a profile has its own reader beside this file.

import type { Registration } from '../customer';
import { parseDateTimeWithOffset } from '../dates';
import { Code, Problems, warning, type Warning } from '../errors';
import { readExtendedFields } from '../extendedFields';
import type { OrgConfig } from '../org';
import type { AddCustomerBody } from '../schemas/addCustomer.schema';
import { identifierItemCount, mostIdentifiers } from '../store/plans';
import type { LoyaltyType } from '../vocabulary';
import type { RegistrationContext } from './context';
import { readEnrollments } from './readEnrollments';
import { readProfile, rejectDuplicateSourceAccounts } from './readProfile';

export type { RegistrationContext } from './context';

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
  // The request's largest transaction must fit DynamoDB's limit.
  const most = mostIdentifiers(profiles.length);
  if (identifierItemCount(profiles) > most) {
    problems.add(Code.badRequest, `at most ${most} distinct identifiers in a request of ${profiles.length} profiles`, '/profiles');
  }
  rejectDuplicateSourceAccounts(read, problems);

  let associatedWith = context.till;
  if (body.associatedWith !== undefined) {
    const code = body.associatedWith.trim();
    if (org.tills.includes(code)) associatedWith = code;
    else warnings.push(warning(Code.unknownTill, `unknown till ${code}; associated with ${context.till}`, '/associatedWith'));
  }
  if (body.activity !== undefined) {
    warnings.push(warning(Code.ignored, 'activity is assigned by the service; the value sent was ignored', '/activity'));
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
    ...(context.origin && context.origin !== 'api' ? { origin: context.origin } : {}),
  };
}

function readCreateDate(raw: string | undefined, org: OrgConfig, now: Date, problems: Problems): string {
  if (raw === undefined) return now.toISOString();
  const millis = parseDateTimeWithOffset(raw.trim());
  if (millis === undefined) {
    problems.add(Code.badRequest, 'createDate must be an ISO 8601 date-time with offset', '/createDate');
    return now.toISOString();
  }
  if (millis > now.getTime() + FUTURE_SKEW_MS) problems.add(Code.createDateOutOfRange, 'createDate is in the future', '/createDate');
  else if (millis < Date.parse(`${org.earliestRegistrationDate}T00:00:00Z`)) {
    problems.add(Code.createDateOutOfRange, `createDate is before ${org.earliestRegistrationDate}`, '/createDate');
  }
  return new Date(millis).toISOString();
}

function readLoyaltyType(body: AddCustomerBody, problems: Problems): LoyaltyType {
  const top = body.loyaltyType;
  const nested = body.loyaltyInfo?.loyaltyType;
  if (top !== undefined && nested !== undefined && top !== nested) {
    problems.add(Code.badRequest, 'loyaltyType and loyaltyInfo.loyaltyType disagree', '/loyaltyInfo/loyaltyType');
  }
  return top ?? nested ?? 'loyalty';
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
