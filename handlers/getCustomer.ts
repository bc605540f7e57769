import { getCustomer } from '../lib/api/reads';
import { json } from '../lib/http/response';
import { route } from '../lib/http/route';

/** GET /v2/customers/{id} */
export const handler = route('getCustomer', {}, async (request) =>
  json(200, await getCustomer(request.caller, request.path('id'))),
);
