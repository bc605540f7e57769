import { extendedFields } from '../lib/api/reads';
import { json } from '../lib/http/response';
import { route } from '../lib/http/route';

/** GET /v2/extendedFields */
export const handler = route('getExtendedFields', {}, async (request) => json(200, extendedFields(request.caller)));
