import type { FromSchema } from 'json-schema-to-ts';
import { identifier } from './addCustomer.schema';

// The body of `POST /v2/customers/{id}/changeIdentifier` (SPEC section 11), the source of its
// compiled validator and of the `ChangeIdentifierBody` type. Identifiers are read as on
// registration (a card with its series and status among them); both lists are applied in one
// transaction, removals first, so replacing a value is one request.

const removal = {
  type: 'object',
  errorCode: 400,
  additionalProperties: false,
  required: ['type', 'value'],
  properties: {
    type: { type: 'string', maxLength: 50 },
    value: { type: 'string', maxLength: 512, coerce: true },
  },
} as const;

export const changeIdentifierSchema = {
  $id: 'changeIdentifier',
  type: 'object',
  additionalProperties: false,
  // Something to change: a body with neither list is refused (400 at /add) when it is read; the
  // document states it (`whenRead`, addCustomer.schema.ts).
  whenRead: { minProperties: 1 },
  properties: {
    add: { type: 'array', maxItems: 20, items: identifier },
    remove: { type: 'array', maxItems: 20, items: removal },
  },
} as const;

export type ChangeIdentifierBody = FromSchema<typeof changeIdentifierSchema>;
