import { mergeCustomers } from '../lib/api/mergeCustomers';
import { route } from '../lib/http/route';

/** POST /v2/customers/{id}/merge */
export const handler = route('mergeCustomers', { body: true }, (request) =>
  mergeCustomers({
    id: request.path('id'),
    body: request.body,
    bodyText: request.bodyText,
    preview: request.query('preview'),
    caller: request.caller,
    idempotencyKey: request.header('idempotency-key'),
  }),
);
