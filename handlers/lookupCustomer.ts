import { lookupCustomer } from '../lib/api/reads';
import { route } from '../lib/http/route';

/** GET /v2/customers/lookup */
export const handler = route('lookupCustomer', {}, (request) =>
  lookupCustomer(request.caller, {
    source: request.query('source'),
    accountId: request.query('accountId'),
    identifierName: request.query('identifierName'),
    identifierValue: request.query('identifierValue'),
  }),
);
