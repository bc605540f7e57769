import type { FromSchema } from 'json-schema-to-ts';

// The body of `POST /v2/customers/bulk` (SPEC section 8): 1 to 100 add-customer bodies. Each
// item is judged on its own against addCustomer.schema.ts, exactly as a single add, so that one
// invalid item never fails its siblings; the envelope itself is judged only by these bounds.

export const MAX_BULK_ITEMS = 100;
/** The largest bulk body. */
export const MAX_BULK_BODY_BYTES = 1024 * 1024;

export const bulkAddCustomersSchema = {
  $id: 'bulkAddCustomers',
  type: 'array',
  minItems: 1,
  maxItems: MAX_BULK_ITEMS,
  items: {},
} as const;

export type BulkAddCustomersBody = FromSchema<typeof bulkAddCustomersSchema>;
