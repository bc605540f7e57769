import { getCustomer } from '../lib/api/reads';
import { route } from '../lib/http/route';

/** GET /v2/customers/{id} */
export const handler = route('getCustomer', {}, (request) => getCustomer(request.caller, request.path('id')));
