import { changeIdentifier } from '../lib/api/changeCustomer';
import { route } from '../lib/http/route';

/** POST /v2/customers/{id}/changeIdentifier */
export const handler = route('changeIdentifier', { body: true }, (request) =>
  changeIdentifier({
    id: request.path('id'),
    body: request.body,
    bodyText: request.bodyText,
    query: { source: request.query('source'), accountId: request.query('accountId') },
    caller: request.caller,
    idempotencyKey: request.header('idempotency-key'),
  }),
);
