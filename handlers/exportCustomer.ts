import { exportCustomer } from '../lib/api/exportCustomer';
import { route } from '../lib/http/route';

/** GET /v2/customers/{id}/export */
export const handler = route('exportCustomer', {}, (request) => exportCustomer(request.caller, request.path('id')));
