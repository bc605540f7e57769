import pino from 'pino';

/**
 * JSON-line logs. Requests are logged as outcomes (route, org, status, code, latency), never
 * with bodies, credentials, names or identifier values; the redaction is a second guard.
 */
export const log = pino({
  level: process.env.LOG_LEVEL || 'info',
  base: undefined,
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
  redact: { paths: ['headers.authorization', 'headers.Authorization', '*.authorization'], censor: '[redacted]' },
});
