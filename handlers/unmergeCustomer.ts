import { unmergeCustomer } from '../lib/api/mergeCustomers';
import { route } from '../lib/http/route';

/** POST /v2/customers/{id}/unmerge */
export const handler = route('unmergeCustomer', { body: true }, (request) =>
  unmergeCustomer({
    id: request.path('id'),
    body: request.body,
    bodyText: request.bodyText,
    caller: request.caller,
    idempotencyKey: request.header('idempotency-key'),
  }),
);
