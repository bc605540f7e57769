// JSON-line logs. Requests are logged as outcomes (route, org, status, code, latency), never
// with bodies, credentials, names or identifier values; the redaction is a second guard.

import pino from 'pino';
import { logLevel } from './config';

export const log = pino({
  level: logLevel(),
  base: undefined,
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
  redact: { paths: ['headers.authorization', 'headers.Authorization', '*.authorization'], censor: '[redacted]' },
});
