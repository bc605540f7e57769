// One delivery attempt of one event to one subscription (SPEC section 10): the event's JSON,
// signed (lib/webhooks/signature.ts), POSTed to the checked and pinned address of the URL
// (lib/webhooks/target.ts), with the URL's host as Host and TLS server name.
//
//   2xx                               delivered
//   410                               gone (the subscription is to be disabled)
//   3xx                               retry: a redirect is not followed (it could lead anywhere)
//   any other status, a network error, no answer within the timeout (15 s for everything:
//   DNS, connection, TLS, the answer)  retry
//   a target the policy refuses, a body over 256 KiB   refused: nothing is sent
//
// At most 64 KiB of the answer is read, then dropped: its status is all that counts. Nothing
// here throws: every failure is an outcome.

import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CustomerEvent } from '../events/event';
import type { WebhookSubscription } from '../org';
import { signedHeaders } from './signature';
import { checkTarget, hostOf, type TargetPolicy } from './target';

export const MAX_EVENT_BYTES = 256 * 1024;
const MAX_ANSWER_BYTES = 64 * 1024;
export const DELIVERY_TIMEOUT_MS = 15_000;

export type DeliveryOutcome = 'delivered' | 'retry' | 'gone' | 'refused';

export interface DeliveryResult {
  outcome: DeliveryOutcome;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** Why it was not delivered (never a secret or the body). */
  reason?: string;
}

export interface Delivery {
  subscription: Pick<WebhookSubscription, 'url' | 'secrets'>;
  event: CustomerEvent;
  policy: TargetPolicy;
  timeoutMs?: number;
}

export async function deliverWebhook({ subscription, event, policy, timeoutMs = DELIVERY_TIMEOUT_MS }: Delivery): Promise<DeliveryResult> {
  const body = JSON.stringify(event);
  const bytes = Buffer.byteLength(body);
  if (bytes > MAX_EVENT_BYTES) return { outcome: 'refused', reason: `the event is ${bytes} bytes, more than ${MAX_EVENT_BYTES}` };
  const deadline = Date.now() + timeoutMs;
  const target = await withinTime(checkTarget(subscription.url, policy), timeoutMs);
  if (target === undefined) return { outcome: 'retry', reason: `the host did not resolve within ${timeoutMs} ms` };
  if (target.kind === 'refused') return { outcome: 'refused', reason: target.reason };
  if (target.kind === 'unresolved') return { outcome: 'retry', reason: target.reason };
  const { url, address, family, addresses } = target;
  // Pinned: the connection goes to the addresses checked above, whatever DNS says by now.
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, addresses);
    else callback(null, address, family);
  };
  const options: RequestOptions = {
    method: 'POST',
    hostname: hostOf(url),
    port: url.port || undefined,
    path: `${url.pathname}${url.search}`,
    headers: { ...signedHeaders(event.id, body, subscription.secrets), 'content-length': String(bytes) },
    lookup: pinned,
    // A connection of its own each time: nothing pooled outlives the attempt.
    agent: false,
  };
  return post(url.protocol === 'https:' ? httpsRequest : httpRequest, options, body, Math.max(0, deadline - Date.now()), timeoutMs);
}

function post(
  send: (options: RequestOptions) => ClientRequest,
  options: RequestOptions,
  body: string,
  leftMs: number,
  timeoutMs: number,
): Promise<DeliveryResult> {
  return new Promise((resolve) => {
    let status: number | undefined;
    let settled = false;
    let req: ClientRequest | undefined;
    const finish = (result: DeliveryResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req?.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish(status === undefined ? { outcome: 'retry', reason: `no answer within ${timeoutMs} ms` } : outcomeOf(status)),
      leftMs,
    );
    try {
      req = send(options);
    } catch (error) {
      finish({ outcome: 'retry', reason: `the request could not be made (${(error as Error).message})` });
      return;
    }
    req.on('response', (res: IncomingMessage) => {
      status = res.statusCode ?? 0;
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) finish(outcomeOf(status!));
      });
      res.on('end', () => finish(outcomeOf(status!)));
      // An answer cut short after its status line still says what the receiver did.
      res.on('close', () => finish(outcomeOf(status!)));
      res.on('error', () => finish(outcomeOf(status!)));
    });
    req.on('error', (error: NodeJS.ErrnoException) => finish({ outcome: 'retry', reason: error.message || error.code || 'network error' }));
    req.end(body);
  });
}

function outcomeOf(status: number): DeliveryResult {
  if (status >= 200 && status < 300) return { outcome: 'delivered', status };
  if (status === 410) return { outcome: 'gone', status, reason: 'the receiver answered 410 Gone' };
  if (status >= 300 && status < 400)
    return { outcome: 'retry', status, reason: `the receiver answered ${status}: redirects are not followed` };
  return { outcome: 'retry', status, reason: `the receiver answered ${status}` };
}

/** The promise's value, or undefined when it takes longer than `ms`. */
async function withinTime<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
