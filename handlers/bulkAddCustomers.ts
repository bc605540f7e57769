import { bulkAddCustomers, MAX_BULK_BODY_BYTES } from '../lib/api/bulkAddCustomers';
import { route } from '../lib/http/route';

/** POST /v2/customers/bulk */
export const handler = route('bulkAddCustomers', { body: true, maxBodyBytes: MAX_BULK_BODY_BYTES }, (request) =>
  bulkAddCustomers({
    body: request.body,
    bodyText: request.bodyText,
    query: { source: request.query('source'), accountId: request.query('accountId') },
    caller: request.caller,
    idempotencyKey: request.header('idempotency-key'),
  }),
);
