import type { FromSchema } from 'json-schema-to-ts';
import { COMM_CHANNEL_TYPES, END_POINTS, IDENTIFIER_TYPES, LOYALTY_TYPES, SOURCES } from '../vocabulary';

// The body of `POST /v2/customers` (SPEC section 3). This one schema is the source of the
// compiled validator (`npm run build:schemas`) and of the `AddCustomerBody` type.
//
// `additionalProperties: false` marks where unknown keys are reported; they become warnings
// (8200), not errors. `errorCode` names the spec's code for a violation anywhere inside that
// subschema (the innermost one wins); anything else is a plain 400. `coerce` marks the places
// where a number is read as its digits, or digits as a number, before validation (coerce.ts).

/** The largest body of one add (SPEC section 3), alone or as an item of a bulk add. */
export const MAX_BODY_BYTES = 64 * 1024;

const flag = { enum: [true, false, 'true', 'false'] } as const;

/** Map keys the DynamoDB marshaller cannot store as given. */
export const storableKey = { type: 'string', minLength: 1, maxLength: 64, not: { enum: ['__proto__', 'constructor'] } } as const;

/**
 * A free-form value stored as sent. Numbers are bounded to safe integers' range here and to
 * what DynamoDB stores when read (lib/numbers.ts), so no value sent can fail the write.
 */
const freeValue = {
  anyOf: [
    { type: ['string', 'boolean', 'null'], maxLength: 255 },
    { type: 'number', maximum: Number.MAX_SAFE_INTEGER, minimum: -Number.MAX_SAFE_INTEGER },
  ],
} as const;

/** Custom fields: string keys to string values. */
export const customFields = {
  type: 'object',
  maxProperties: 50,
  propertyNames: storableKey,
  additionalProperties: { type: 'string', maxLength: 255, coerce: true },
} as const;

/** Extended field values are checked against the org's definitions, not here. */
export const extendedFields = {
  type: 'object',
  maxProperties: 100,
  additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
} as const;

export const identifier = {
  type: 'object',
  // An unreadable identifier is a plain 400; 8005 is for a profile left without any.
  errorCode: 400,
  additionalProperties: false,
  required: ['type'],
  properties: {
    // Type and value are judged when the request is read, so that their problems are reported
    // with the spec's codes (8014, 8055, 8005) together with every other rule's (SPEC section
    // 4: every problem found); `whenRead` states that rule in the document. `cardnumber` is the
    // card's other name.
    type: { type: 'string', maxLength: 50, whenRead: { enum: [...IDENTIFIER_TYPES, 'cardnumber'] } },
    value: { type: 'string', maxLength: 512, coerce: true },
    // Card identifiers only.
    seriesId: { type: 'integer', coerce: true },
    seriesCode: { type: 'string', maxLength: 100 },
    statusLabel: { type: 'string', maxLength: 100 },
    fields: customFields,
    extendedFields,
  },
} as const;

export const commChannel = {
  type: 'object',
  errorCode: 8010,
  additionalProperties: false,
  required: ['type', 'value'],
  properties: {
    type: { type: 'string', enum: COMM_CHANNEL_TYPES },
    value: { type: 'string', maxLength: 255, whenRead: { minLength: 1 } },
    primary: flag,
    verified: flag,
    subscribed: flag,
    meta: {
      type: 'object',
      additionalProperties: false,
      properties: {
        lastViewedDate: { type: 'string', maxLength: 40 },
        residence: flag,
      },
    },
    attributes: {
      type: 'object',
      maxProperties: 50,
      propertyNames: storableKey,
      additionalProperties: freeValue,
    },
  },
} as const;

/**
 * `whenRead`: a rule the readers judge (lib/registration), with its spec code and together with
 * every other problem of the request, rather than the validator, which would stop at it. The
 * validator ignores it; the OpenAPI document states it as the plain keywords it holds.
 *
 * The form of a date-time the API takes (lib/dates.ts): ISO 8601 with an offset, seconds and
 * fractions optional, the offset's colon too, blanks around it trimmed. The calendar (a real
 * day, an hour under 24) is judged when the request is read.
 */
export const DATE_TIME_PATTERN = '^\\s*\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:?\\d{2})\\s*$';
const dateTime = { type: 'string', maxLength: 40, whenRead: { pattern: DATE_TIME_PATTERN } } as const;

const profile = {
  type: 'object',
  additionalProperties: false,
  properties: {
    firstName: { type: 'string', maxLength: 100, coerce: true },
    lastName: { type: 'string', maxLength: 100, coerce: true },
    // Checked (8003) when the request is read, with the org's enabled sources.
    source: { type: 'string', maxLength: 50, errorCode: 8003, whenRead: { enum: SOURCES } },
    accountId: { type: 'string', maxLength: 100 },
    identifiers: { type: 'array', maxItems: 20, items: identifier, errorCode: 8005, whenRead: { minItems: 1 } },
    fields: customFields,
    commChannels: { type: 'array', maxItems: 20, items: commChannel },
  },
} as const;

const enrollment = {
  type: 'object',
  additionalProperties: false,
  required: ['programId'],
  properties: {
    programId: { type: 'integer', coerce: true },
    tierNumber: { type: 'integer', coerce: true },
    loyaltyPoints: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, coerce: true },
    tierExpiryDate: dateTime,
    pointsExpiryDate: dateTime,
  },
} as const;

export const addCustomerSchema = {
  $id: 'addCustomer',
  type: 'object',
  additionalProperties: false,
  required: ['profiles'],
  properties: {
    loyaltyType: { type: 'string', enum: LOYALTY_TYPES },
    loyaltyInfo: {
      type: 'object',
      additionalProperties: false,
      properties: { loyaltyType: { type: 'string', enum: LOYALTY_TYPES } },
    },
    profiles: { type: 'array', minItems: 1, maxItems: 10, items: profile },
    extendedFields,
    loyaltyProgramEnrollments: { type: 'array', maxItems: 10, items: enrollment },
    createDate: dateTime,
    associatedWith: { type: 'string', maxLength: 100 },
    endPointsEnabled: { type: 'array', maxItems: 4, uniqueItems: true, items: { type: 'string', enum: END_POINTS } },
    // Assigned by the service; accepted in any shape so that it is ignored with a warning.
    activity: {},
  },
} as const;

export type AddCustomerBody = FromSchema<typeof addCustomerSchema>;
export type ProfileInput = NonNullable<AddCustomerBody['profiles']>[number];
export type IdentifierInput = NonNullable<ProfileInput['identifiers']>[number];
export type CommChannelInput = NonNullable<ProfileInput['commChannels']>[number];
export type EnrollmentInput = NonNullable<AddCustomerBody['loyaltyProgramEnrollments']>[number];
