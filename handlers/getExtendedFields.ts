import { extendedFields } from '../lib/api/reads';
import { route } from '../lib/http/route';

/** GET /v2/extendedFields */
export const handler = route('getExtendedFields', {}, (request) => extendedFields(request.caller));
