import type { FromSchema } from 'json-schema-to-ts';
import { HISTORY_TYPES } from '../customer';
import { Code } from '../errors';
import { COMM_CHANNEL_TYPES, END_POINTS, EXTENDED_FIELD_TYPES, IDENTIFIER_TYPES, LOYALTY_TYPES, SOURCES } from '../vocabulary';

// The bodies the routes answer (SPEC sections 3, 4, 5 and 8), as JSON Schemas. They are the
// response schemas of the OpenAPI document (openapi.ts), which the integration and e2e suites
// check every response against, and the source of the TypeScript types lib/api answers with
// where one fits (AddCustomerResponse, BulkItemResult, SideEffect).
//
// Objects are closed (`additionalProperties: false`) wherever the service decides every key,
// so that a key added to a response without the document failing a test cannot happen.

/** Every code a response can carry. Typed `Code[]`, not a tuple, so a `code` is a `Code`. */
const ALL_CODES: readonly Code[] = Object.values(Code);
const WARNING_CODES: readonly Code[] = [Code.merged, Code.unknownTill, Code.ignored, Code.survivorReturned];

/** A customer id: a positive integer that is exact in JSON. */
const customerId = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;

/** One problem or warning: `{status: false, code, message, path?}`. */
export const problemSchema = {
  type: 'object',
  description:
    'One problem found in the request. `path` is a JSON pointer into the request body (or `/headers/...`, `/id`, a query parameter) where one applies.',
  additionalProperties: false,
  required: ['status', 'code', 'message'],
  properties: {
    status: { const: false },
    code: { type: 'integer', enum: ALL_CODES },
    message: { type: 'string' },
    path: { type: 'string' },
  },
} as const;

/** A warning: a problem that did not make the request fail. */
export const warningSchema = {
  ...problemSchema,
  description:
    'Something the service did differently from what the request asked, without failing it: 8050 merged, 8077 unknown associatedWith, 8200 a part of the request ignored (`path` names it), 91009 the survivor returned for a merged customer.',
  properties: { ...problemSchema.properties, code: { type: 'integer', enum: WARNING_CODES } },
} as const;

/** The body of every error response (SPEC section 4). */
export const errorBodySchema = {
  type: 'object',
  description: 'Every problem found (not only the first), and the warnings gathered before the request was refused.',
  additionalProperties: false,
  required: ['errors', 'warnings'],
  properties: {
    errors: { type: 'array', minItems: 1, items: problemSchema },
    warnings: { type: 'array', items: warningSchema },
  },
} as const;

const cardSideEffect = {
  type: 'object',
  description: 'A card issued with the registration: its number (drawn by the series when the request sent none).',
  additionalProperties: false,
  required: ['type', 'cardNumber', 'seriesId', 'seriesCode', 'statusLabel'],
  properties: {
    type: { const: 'card' },
    cardNumber: { type: 'string' },
    seriesId: { type: 'integer' },
    seriesCode: { type: 'string' },
    statusLabel: { type: 'string' },
  },
} as const;

const pointsSideEffect = {
  type: 'object',
  description: 'Points credited at enrollment (only for points above 0).',
  additionalProperties: false,
  required: ['type', 'entityType', 'programId', 'awardedPoints'],
  properties: {
    type: { const: 'points' },
    entityType: { const: 'USER' },
    programId: { type: 'integer' },
    awardedPoints: { type: 'integer', minimum: 1 },
  },
} as const;

/** What a registration did besides the customer: a card issued, points credited. */
export const sideEffectSchema = { oneOf: [cardSideEffect, pointsSideEffect] } as const;

/** `POST /v2/customers`, 200. */
export const addCustomerResponseSchema = {
  type: 'object',
  description: 'The customer registered: a new customer, or, with warning 8050, the existing customer the profile was merged into.',
  additionalProperties: false,
  required: ['createdId', 'warnings', 'sideEffects'],
  properties: {
    createdId: { ...customerId, description: "The customer's id: new, or the existing customer's on a merge." },
    warnings: { type: 'array', items: warningSchema },
    sideEffects: { type: 'array', items: sideEffectSchema },
  },
} as const;

/** One element of `POST /v2/customers/bulk`'s answer, aligned with the input. */
export const bulkItemResultSchema = {
  type: 'object',
  description:
    "The outcome of one item, at the item's index: `status` is what `POST /v2/customers` would have answered for it alone (200, 400, 409, 413, or 503 when not attempted or unavailable); `errors` and `warnings` have paths into the item.",
  additionalProperties: false,
  required: ['entity', 'status', 'errors', 'warnings', 'sideEffects'],
  properties: {
    entity: {
      anyOf: [{ type: 'object', additionalProperties: false, required: ['id'], properties: { id: customerId } }, { type: 'null' }],
      description: 'The customer registered or merged into; null when the item failed.',
    },
    status: { type: 'integer' },
    errors: { type: 'array', items: problemSchema },
    warnings: { type: 'array', items: warningSchema },
    sideEffects: { type: 'array', items: sideEffectSchema },
  },
} as const;

export const bulkAddCustomersResponseSchema = {
  type: 'array',
  description: 'One result per item of the request, in input order.',
  minItems: 1,
  items: bulkItemResultSchema,
} as const;

const nullableString = { type: ['string', 'null'] } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const extendedFieldValues = { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } } as const;

const commChannelDocument = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'value', 'primary', 'verified', 'subscribed'],
  properties: {
    type: { type: 'string', enum: COMM_CHANNEL_TYPES },
    value: { type: 'string', description: 'Normalised for mobile and email channels.' },
    primary: { type: 'boolean' },
    verified: { type: 'boolean' },
    subscribed: { type: 'boolean' },
    meta: {
      type: 'object',
      additionalProperties: false,
      properties: { lastViewedDate: { type: 'string' }, residence: { type: 'boolean' } },
    },
    attributes: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } },
  },
} as const;

const profileDocument = {
  type: 'object',
  additionalProperties: false,
  required: ['firstName', 'lastName', 'source', 'accountId', 'identifiers', 'commChannels', 'fields', 'attribution'],
  properties: {
    firstName: { ...nullableString, description: 'As sent.' },
    lastName: { ...nullableString, description: 'As sent.' },
    source: { type: 'string', enum: SOURCES },
    accountId: { ...nullableString, description: 'null for single-account sources.' },
    identifiers: {
      type: 'array',
      description: 'As normalised on registration; the card, if any, last.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'value'],
        properties: { type: { type: 'string', enum: IDENTIFIER_TYPES }, value: { type: 'string' } },
      },
    },
    commChannels: { type: 'array', items: commChannelDocument },
    fields: stringMap,
    attribution: {
      type: 'object',
      additionalProperties: false,
      required: ['createDate', 'createdBy'],
      properties: {
        createDate: { type: 'string', format: 'date-time' },
        createdBy: {
          type: 'object',
          additionalProperties: false,
          required: ['code', 'type'],
          properties: { code: { type: 'string', description: 'The till that registered the profile.' }, type: { const: 'TILL' } },
        },
        modifiedDate: {
          type: 'string',
          format: 'date-time',
          description: 'When the profile, or the customer through it, was last changed; absent until then.',
        },
        modifiedBy: {
          type: 'object',
          additionalProperties: false,
          required: ['code', 'type'],
          properties: { code: { type: 'string', description: 'The till that made the last change.' }, type: { const: 'TILL' } },
        },
      },
    },
  },
} as const;

/** `GET /v2/customers/{id}`, 200 (SPEC section 5; lib/api/customerDocument.ts). */
export const customerDocumentSchema = {
  type: 'object',
  description: 'The customer with every profile, extended fields, card details and loyalty program details.',
  additionalProperties: false,
  required: [
    'id',
    'loyaltyInfo',
    'profiles',
    'extendedFields',
    'cardDetails',
    'loyaltyProgramDetails',
    'associatedWith',
    'endPointsEnabled',
    'activity',
    'warnings',
  ],
  properties: {
    id: customerId,
    loyaltyInfo: {
      type: 'object',
      additionalProperties: false,
      required: ['loyaltyType'],
      properties: { loyaltyType: { type: 'string', enum: LOYALTY_TYPES } },
    },
    profiles: { type: 'array', minItems: 1, items: profileDocument },
    extendedFields: extendedFieldValues,
    cardDetails: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['cardNumber', 'seriesId', 'seriesCode', 'statusLabel', 'issuedDate'],
        properties: {
          cardNumber: { type: 'string' },
          seriesId: { type: 'integer' },
          seriesCode: { type: 'string' },
          statusLabel: { type: 'string' },
          issuedDate: { type: 'string', format: 'date-time' },
          fields: stringMap,
          extendedFields: extendedFieldValues,
        },
      },
    },
    loyaltyProgramDetails: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['programId', 'programName', 'tierNumber', 'tierName', 'loyaltyPoints', 'tierExpiryDate', 'pointsExpiryDate'],
        properties: {
          programId: { type: 'integer' },
          programName: nullableString,
          tierNumber: { type: 'integer' },
          tierName: nullableString,
          loyaltyPoints: { type: 'integer', minimum: 0 },
          tierExpiryDate: nullableString,
          pointsExpiryDate: nullableString,
        },
      },
    },
    associatedWith: { type: 'string', description: 'The till code the customer is associated with.' },
    endPointsEnabled: { type: 'array', items: { type: 'string', enum: END_POINTS } },
    activity: { type: 'string', description: 'Assigned by the service: ACTIVE at registration.' },
    warnings: { type: 'array', items: warningSchema },
  },
} as const;

/** `PUT /v2/customers/{id}` and `POST /v2/customers/{id}/changeIdentifier`, 200 (SPEC section 11). */
export const changeCustomerResponseSchema = {
  ...addCustomerResponseSchema,
  description: 'The customer changed. A card linked by a change is a side effect; so are points of an enrollment it made.',
  properties: { ...addCustomerResponseSchema.properties, createdId: { ...customerId, description: "The changed customer's id." } },
} as const;

/** `DELETE /v2/customers/{id}`, 200 (SPEC section 12). */
export const eraseCustomerResponseSchema = {
  type: 'object',
  description: 'The customer is erased (also when it already was: erasing is idempotent).',
  additionalProperties: false,
  required: ['entity', 'warnings'],
  properties: {
    entity: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'status'],
      properties: { id: customerId, status: { const: 'ERASED' } },
    },
    warnings: { type: 'array', items: warningSchema },
  },
} as const;

/** An entry of a customer's history (SPEC section 15). */
export const historyEntrySchema = {
  type: 'object',
  description: 'One change of the customer, as its journal keeps it.',
  additionalProperties: false,
  required: ['at', 'type', 'sequence', 'by', 'details'],
  properties: {
    at: { type: 'string', format: 'date-time', description: 'When the change was written, to the millisecond.' },
    type: {
      type: 'string',
      enum: HISTORY_TYPES,
    },
    sequence: { type: 'integer', minimum: 1, description: "The customer's version after the change." },
    by: {
      type: 'object',
      additionalProperties: false,
      properties: { till: { type: 'string' }, origin: { type: 'string', enum: ['api', 'bulk', 'import'] } },
    },
    requestId: { type: 'string' },
    details: { type: 'object', description: 'What changed; its shape depends on the type.' },
  },
} as const;

const plainIdentifier = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'value'],
  properties: { type: { type: 'string', enum: IDENTIFIER_TYPES }, value: { type: 'string' } },
} as const;

/** `GET /v2/customers/{id}/history`, 200 (SPEC section 15). */
export const historyPageSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['entries', 'next'],
  properties: {
    entries: { type: 'array', items: historyEntrySchema, maxItems: 100, description: 'Newest first.' },
    next: { type: ['string', 'null'], description: 'The cursor of the next page; null on the last.' },
  },
} as const;

/** `POST /v2/customers/{id}/unmerge`, 200 (SPEC section 15). */
export const unmergeResponseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['entity', 'kept', 'moved', 'warnings'],
  properties: {
    entity: {
      type: 'object',
      additionalProperties: false,
      required: ['id'],
      properties: { id: { type: 'integer', minimum: 1, description: 'The customer the profile went to.' } },
    },
    kept: { type: 'array', items: plainIdentifier, description: 'Identifiers of the profile another profile also lists: they stay.' },
    moved: { type: 'array', items: plainIdentifier, description: 'Identifiers that went with the profile.' },
    warnings: { type: 'array', items: warningSchema },
  },
} as const;

/** `GET /v2/customers/{id}/export`, 200 (SPEC section 12: a data subject's access request). */
export const exportCustomerResponseSchema = {
  type: 'object',
  description:
    'Everything the service holds about the customer, read at one version of it: the document GET returns, every profile, the enrollments, the history and the idempotency records still held for its requests.',
  additionalProperties: false,
  required: ['customer', 'profiles', 'enrollments', 'history', 'idempotencyKeys', 'generatedAt'],
  properties: {
    customer: customerDocumentSchema,
    profiles: {
      type: 'array',
      minItems: 1,
      items: profileDocument,
      description: 'Every profile with its identifiers, fields and channels.',
    },
    enrollments: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['programId', 'tierNumber', 'loyaltyPoints'],
        properties: {
          programId: { type: 'integer' },
          tierNumber: { type: 'integer' },
          loyaltyPoints: { type: 'integer', minimum: 0 },
          tierExpiryDate: { type: 'string' },
          pointsExpiryDate: { type: 'string' },
        },
      },
    },
    history: { type: 'array', items: historyEntrySchema, description: "Every entry of the customer's journal, newest first." },
    idempotencyKeys: {
      type: 'array',
      items: { type: 'string' },
      description:
        'The keys of the idempotency records still held for the customer’s requests: an `Idempotency-Key` as sent, `bulk:<key>:<item>` for a bulk item, `import:<job>:<line>` for an import line.',
    },
    generatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export type ExportCustomerResponse = FromSchema<typeof exportCustomerResponseSchema>;
export type ChangeCustomerResponse = FromSchema<typeof changeCustomerResponseSchema>;
export type EraseCustomerResponse = FromSchema<typeof eraseCustomerResponseSchema>;

/** `GET /v2/customers/lookup`, 200. */
export const lookupResponseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['entity', 'warnings'],
  properties: {
    entity: { ...customerId, description: 'The id of the customer who owns the identifier.' },
    warnings: { type: 'array', items: warningSchema },
  },
} as const;

/** `GET /v2/extendedFields`, 200. */
export const extendedFieldsResponseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['entity', 'warnings', 'errors', 'success'],
  properties: {
    entity: {
      type: 'object',
      additionalProperties: false,
      required: ['customer'],
      properties: {
        customer: {
          type: 'array',
          description: "The org's customer extended fields, as `extendedFields` of a registration takes them.",
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'label', 'dataType'],
            properties: {
              name: { type: 'string' },
              label: { type: 'string' },
              dataType: { type: 'string', enum: EXTENDED_FIELD_TYPES },
              enumValues: { type: 'array', items: { type: 'string' } },
              maxLength: { type: 'integer', minimum: 1 },
            },
          },
        },
      },
    },
    warnings: { type: 'array', items: warningSchema },
    errors: { type: 'array', items: problemSchema },
    success: { const: true },
  },
} as const;

export type AddCustomerResponse = FromSchema<typeof addCustomerResponseSchema>;
export type BulkItemResult = FromSchema<typeof bulkItemResultSchema>;
export type SideEffect = FromSchema<typeof sideEffectSchema>;
