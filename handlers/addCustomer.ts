import { addCustomer } from '../lib/api/addCustomer';
import { route } from '../lib/http/route';

/** POST /v2/customers */
export const handler = route('addCustomer', { body: true }, (request) =>
  addCustomer({
    body: request.body,
    bodyText: request.bodyText,
    query: { source: request.query('source'), accountId: request.query('accountId') },
    caller: request.caller,
    idempotencyKey: request.header('idempotency-key'),
  }),
);
