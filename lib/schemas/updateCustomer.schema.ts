import type { FromSchema } from 'json-schema-to-ts';
import { LOYALTY_TYPES } from '../vocabulary';
import { commChannel, extendedFields, storableKey } from './addCustomer.schema';

// The body of `PUT /v2/customers/{id}` (SPEC section 11), the source of its compiled validator
// and of the `UpdateCustomerBody` type. The profile changed is named by the query
// (`source`, `accountId`), never by the body: a profile's source, account and identifiers are
// not changed here (changeIdentifier changes identifiers), so those keys are refused with 400
// rather than ignored.

/** Custom fields merged key by key: a key sent as `null` or `""` is removed. */
const fieldChanges = {
  type: 'object',
  maxProperties: 50,
  propertyNames: storableKey,
  additionalProperties: { type: ['string', 'null'], maxLength: 255, coerce: true },
} as const;

/** Refused with its own message (lib/lifecycle/readUpdate.ts): the part cannot change through this route. */
const notHere = { not: {}, errorCode: 400 } as const;

const profileChanges = {
  type: 'object',
  additionalProperties: false,
  properties: {
    firstName: { type: 'string', maxLength: 100, coerce: true },
    lastName: { type: 'string', maxLength: 100, coerce: true },
    fields: fieldChanges,
    commChannels: { type: 'array', maxItems: 20, items: commChannel },
    source: notHere,
    accountId: notHere,
    identifiers: notHere,
  },
} as const;

export const updateCustomerSchema = {
  $id: 'updateCustomer',
  type: 'object',
  additionalProperties: false,
  properties: {
    profiles: { type: 'array', maxItems: 1, items: profileChanges },
    extendedFields,
    loyaltyType: { type: 'string', enum: LOYALTY_TYPES },
  },
} as const;

export type UpdateCustomerBody = FromSchema<typeof updateCustomerSchema>;
