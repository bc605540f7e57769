import { addCustomer } from '../lib/api/addCustomer';
import { asStatusList, json } from '../lib/http/response';
import { route } from '../lib/http/route';

/** POST /v2/customers */
export const handler = route('addCustomer', { body: true }, async (request) => {
  const { createdId, warnings, sideEffects } = await addCustomer({
    body: request.body,
    query: { source: request.query('source'), accountId: request.query('accountId') },
    caller: request.caller,
  });
  return json(200, { createdId, warnings: asStatusList(warnings), sideEffects });
});
