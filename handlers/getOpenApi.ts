import type { Answer } from '../lib/api/answer';
import { route } from '../lib/http/route';
import document from '../docs/openapi.json';

// The committed document (`npm run build:openapi`; a unit test keeps it equal to what the
// schemas generate), bundled as data and serialised once per instance.
const answer: Answer = { status: 200, body: JSON.stringify(document), headers: {}, outcome: 'ok' };

/** GET /v2/openapi.json, without credentials. */
export const handler = route('getOpenApi', { auth: false }, () => answer);
