import { addCustomer } from '../lib/api/addCustomer';
import { json } from '../lib/http/response';
import { route } from '../lib/http/route';

/** POST /v2/customers */
export const handler = route('addCustomer', { body: true }, async (request) => {
  const query = { source: request.query('source'), accountId: request.query('accountId') };
  const { response, result } = await addCustomer({
    body: request.body,
    query,
    caller: request.caller,
    idempotencyKey: request.header('idempotency-key'),
    requestText: JSON.stringify([request.event.body, query]),
    onRateCounted: (headers) => Object.assign(request.responseHeaders, headers),
  });
  request.outcome = result.outcome;
  return json(200, response);
});
