import type { FromSchema } from 'json-schema-to-ts';

// The bodies of `POST /v2/customers/{survivorId}/merge` and `POST /v2/customers/{id}/unmerge`
// (SPEC section 15), the source of their compiled validators and types.

export const mergeCustomersSchema = {
  $id: 'mergeCustomers',
  type: 'object',
  additionalProperties: false,
  required: ['victimId'],
  properties: {
    victimId: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The customer merged into the survivor.' },
  },
} as const;

export const unmergeCustomerSchema = {
  $id: 'unmergeCustomer',
  type: 'object',
  additionalProperties: false,
  required: ['source'],
  properties: {
    source: { type: 'string', maxLength: 50, errorCode: 8003, description: 'The source of the profile to split out.' },
    accountId: { type: 'string', maxLength: 100, description: 'Its account, for sources with accounts.' },
  },
} as const;

export type MergeCustomersBody = FromSchema<typeof mergeCustomersSchema>;
export type UnmergeCustomerBody = FromSchema<typeof unmergeCustomerSchema>;
