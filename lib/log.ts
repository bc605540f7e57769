// JSON-line logs (Powertools Logger). Every line carries the service, the cold start, the
// function's name and request id and the X-Ray trace id once a route or worker has added the
// Lambda context. Requests are logged as outcomes (route, org, status, code, latency), never
// with bodies, credentials, names or identifier values.

import { Logger } from '@aws-lambda-powertools/logger';
import { logLevel } from './config';

export const log = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'loyalty-customers',
  logLevel: logLevel().toUpperCase() as never,
});
