// Standard Webhooks signatures (SPEC section 10, https://www.standardwebhooks.com): each attempt
// is signed anew at its own time, `v1,` + base64 HMAC-SHA256 of `<webhook-id>.<timestamp>.<body>`
// with each of the subscription's secrets, space-separated, so that during a rotation a receiver
// that knows either the old or the new secret verifies the delivery. The webhook-id is the
// event's id: the same on every retry and on a redelivered stream record, so that a receiver can
// drop duplicates.

import { Webhook } from 'standardwebhooks';

export const USER_AGENT = 'loyalty-customers-webhooks/1';

export interface WebhookHeaders {
  'webhook-id': string;
  /** Unix seconds of this attempt. */
  'webhook-timestamp': string;
  /** `v1,<base64>` per secret, space-separated. */
  'webhook-signature': string;
  'content-type': 'application/json';
  'user-agent': string;
}

/** The headers of one delivery attempt of `body` (the event's JSON, byte for byte as sent). */
export function signedHeaders(webhookId: string, body: string, secrets: readonly string[], at: Date = new Date()): WebhookHeaders {
  if (secrets.length === 0) throw new Error('a webhook needs at least one secret to be signed');
  // Whole seconds, as the header says them: the signed timestamp and the header must agree.
  const timestamp = new Date(Math.floor(at.getTime() / 1000) * 1000);
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestamp.getTime() / 1000),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(webhookId, timestamp, body)).join(' '),
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
  };
}
