import { updateCustomer } from '../lib/api/changeCustomer';
import { route } from '../lib/http/route';

/** PUT /v2/customers/{id} */
export const handler = route('updateCustomer', { body: true }, (request) =>
  updateCustomer({
    id: request.path('id'),
    body: request.body,
    bodyText: request.bodyText,
    query: { source: request.query('source'), accountId: request.query('accountId') },
    caller: request.caller,
    idempotencyKey: request.header('idempotency-key'),
  }),
);
