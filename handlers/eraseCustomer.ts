import { eraseCustomer } from '../lib/api/eraseCustomer';
import { route } from '../lib/http/route';

/** DELETE /v2/customers/{id} */
export const handler = route('eraseCustomer', {}, (request) =>
  eraseCustomer({ id: request.path('id'), caller: request.caller, idempotencyKey: request.header('idempotency-key') }),
);
