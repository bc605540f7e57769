// `PUT /v2/customers/{id}` as rules (SPEC section 11): a schema-valid body read into the change
// it asks for, and that change applied to a customer as read. Pure: the loop that reads the
// customer and writes the result (changeLoop.ts) applies it again to a fresher read when a
// concurrent write got there first, so that no change is lost.

import type { CommChannel, Customer, Enrollment, ExtendedFieldValue } from '../customer';
import { Code, Problems, warning, type Problem, type Warning } from '../errors';
import { readExtendedFields } from '../extendedFields';
import type { OrgConfig } from '../org';
import { escapePointer } from '../pointer';
import { readCommChannel } from '../registration/readCommChannel';
import type { SideEffect } from '../schemas/responses.schema';
import type { UpdateCustomerBody } from '../schemas/updateCustomer.schema';
import type { LoyaltyType } from '../vocabulary';

/** Custom fields a profile holds at most (SPEC section 3). */
const MAX_CUSTOM_FIELDS = 50;

/** A key sent as `null` or `""`: removed. */
const REMOVED = null;

/** What an update asks for, read and validated against the org. */
export interface CustomerUpdate {
  firstName?: string | typeof REMOVED;
  lastName?: string | typeof REMOVED;
  /** key -> value, or null to remove the key. */
  fields: Record<string, string | typeof REMOVED>;
  /** Each replaces the stored channel of its type. */
  commChannels: CommChannel[];
  extendedFields: Record<string, ExtendedFieldValue | typeof REMOVED>;
  loyaltyType?: LoyaltyType;
  warnings: Warning[];
}

const NOT_HERE: Record<string, string> = {
  source: 'the profile is named by the query (?source=&accountId=), not by the body',
  accountId: 'the profile is named by the query (?source=&accountId=), not by the body',
  identifiers: 'identifiers are changed through POST /v2/customers/{id}/changeIdentifier',
};

/** Refuses `source`, `accountId` and `identifiers` in the body with a message saying where they belong; run before the schema. */
export function refuseUnchangeableParts(body: unknown): void {
  const problems = new Problems();
  const profiles = (body as { profiles?: unknown } | null)?.profiles;
  if (Array.isArray(profiles)) {
    profiles.forEach((profile, index) => {
      if (!profile || typeof profile !== 'object') return;
      for (const key of Object.keys(NOT_HERE)) {
        if (key in profile)
          problems.add(Code.badRequest, `${key} cannot be changed by an update: ${NOT_HERE[key]}`, `/profiles/${index}/${key}`);
      }
    });
  }
  problems.throwIfAny();
}

/** Reads a schema-valid update body; throws every problem found at once. */
export function readUpdate(body: UpdateCustomerBody, schemaWarnings: Warning[], org: OrgConfig): CustomerUpdate {
  const problems = new Problems();
  const input = body.profiles?.[0] ?? {};
  const update: CustomerUpdate = { fields: {}, commChannels: [], extendedFields: {}, warnings: [...schemaWarnings] };
  if (input.firstName !== undefined) update.firstName = input.firstName.trim() || REMOVED;
  if (input.lastName !== undefined) update.lastName = input.lastName.trim() || REMOVED;
  for (const [key, value] of Object.entries(input.fields ?? {})) update.fields[key] = value === null || value === '' ? REMOVED : value;
  const types = new Set<string>();
  (input.commChannels ?? []).forEach((raw, index) => {
    const path = `/profiles/0/commChannels/${index}`;
    const channel = readCommChannel(raw, path, org, problems);
    if (types.has(channel.type)) problems.add(Code.invalidCommChannel, `two ${channel.type} comm channels`, path);
    types.add(channel.type);
    update.commChannels.push(channel);
  });
  const sent = body.extendedFields ?? {};
  const accepted = readExtendedFields(sent, org.extendedFields, '/extendedFields', problems);
  for (const [name, raw] of Object.entries(sent)) {
    if (raw === null || (typeof raw === 'string' && raw.trim() === '')) update.extendedFields[name] = REMOVED;
    else if (name in accepted) update.extendedFields[name] = accepted[name];
  }
  if (body.loyaltyType !== undefined) update.loyaltyType = body.loyaltyType;
  problems.throwIfAny(update.warnings);
  return update;
}

export type AppliedUpdate =
  | { kind: 'changed'; after: Customer; sideEffects: SideEffect[]; warnings: Warning[] }
  | { kind: 'rejected'; problems: Problem[]; warnings: Warning[] };

/** Applies an update to the customer's profile at `index`, dated `now` and signed by `till`. */
export function applyUpdate(
  customer: Customer,
  index: number,
  update: CustomerUpdate,
  org: OrgConfig,
  till: string,
  now: string,
): AppliedUpdate {
  const warnings = [...update.warnings];
  if (update.loyaltyType === 'non_loyalty' && customer.loyaltyType === 'loyalty') {
    return {
      kind: 'rejected',
      problems: [{ code: Code.cannotLeaveLoyalty, message: 'a loyalty customer cannot become non_loyalty', path: '/loyaltyType' }],
      warnings,
    };
  }
  const profiles = customer.profiles.map((p) => ({ ...p }));
  const profile = profiles[index];
  if (update.firstName !== undefined) setOrRemove(profile, 'firstName', update.firstName);
  if (update.lastName !== undefined) setOrRemove(profile, 'lastName', update.lastName);
  profile.fields = merged(profile.fields, update.fields) as Record<string, string>;
  // The bound of SPEC section 3 holds for the profile as stored, not only for each request.
  if (Object.keys(profile.fields).length > MAX_CUSTOM_FIELDS) {
    return {
      kind: 'rejected',
      problems: [
        {
          code: Code.badRequest,
          message: `a profile has at most ${MAX_CUSTOM_FIELDS} custom fields; remove some (send them as null) to add others`,
          path: '/profiles/0/fields',
        },
      ],
      warnings,
    };
  }
  for (const channel of update.commChannels) {
    const at = profile.commChannels.findIndex((c) => c.type === channel.type);
    profile.commChannels = at < 0 ? [...profile.commChannels, channel] : profile.commChannels.map((c, i) => (i === at ? channel : c));
  }
  profile.modifiedDate = now;
  profile.modifiedBy = till;

  let loyaltyType = customer.loyaltyType;
  let enrollments: Enrollment[] = customer.enrollments;
  if (update.loyaltyType === 'loyalty' && customer.loyaltyType === 'non_loyalty') {
    loyaltyType = 'loyalty';
    // As a loyalty customer registered without enrollments is (SPEC section 3).
    const program = org.programs.find((p) => p.isDefault);
    if (program && !enrollments.some((e) => e.programId === program.id)) {
      enrollments = [...enrollments, { programId: program.id, tierNumber: 1, loyaltyPoints: 0 }];
    }
  } else if (update.loyaltyType !== undefined && update.loyaltyType === customer.loyaltyType) {
    warnings.push(warning(Code.ignored, `the customer is ${customer.loyaltyType} already`, '/loyaltyType'));
  }
  for (const name of Object.keys(update.extendedFields)) {
    if (update.extendedFields[name] === REMOVED && !(name in customer.extendedFields)) {
      warnings.push(warning(Code.ignored, `extended field ${name} is not set; nothing removed`, `/extendedFields/${escapePointer(name)}`));
    }
  }
  return {
    kind: 'changed',
    after: {
      ...customer,
      profiles,
      loyaltyType,
      enrollments,
      extendedFields: merged(customer.extendedFields, update.extendedFields) as Record<string, ExtendedFieldValue>,
    },
    // Enrolment at tier 1 credits no points, so there is no points side effect to report.
    sideEffects: [],
    warnings,
  };
}

function setOrRemove(profile: { firstName?: string; lastName?: string }, key: 'firstName' | 'lastName', value: string | null): void {
  if (value === REMOVED) delete profile[key];
  else profile[key] = value;
}

/** A map with the changes merged in key by key; a null removes its key. */
function merged<T>(stored: Record<string, T>, changes: Record<string, T | null>): Record<string, T> {
  const result: Record<string, T> = { ...stored };
  for (const [key, value] of Object.entries(changes)) {
    if (value === REMOVED) delete result[key];
    else result[key] = value;
  }
  return result;
}
