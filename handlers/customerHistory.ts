import { customerHistory } from '../lib/api/customerHistory';
import { route } from '../lib/http/route';

/** GET /v2/customers/{id}/history */
export const handler = route('customerHistory', {}, (request) =>
  customerHistory(request.caller, request.path('id'), { limit: request.query('limit'), cursor: request.query('cursor') }),
);
