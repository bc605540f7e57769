import { openApiAnswer } from '../lib/api/openApi';
import { stageIsLocal } from '../lib/config';
import { route } from '../lib/http/route';

/** GET /v2/openapi.json, without credentials: the document naming the server it was fetched from. */
export const handler = route('getOpenApi', { auth: false }, (request) =>
  openApiAnswer({
    host: request.header('host'),
    domainName: request.event.requestContext?.domainName,
    stage: request.event.requestContext?.stage,
    local: stageIsLocal(),
  }),
);
