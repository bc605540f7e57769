import type { Counts, RoundTripCounter } from './roundTrips';
import type { CapturedWrite, WriteCapture } from './capacity';
import {
  conflictBody,
  fullBody,
  mergeBody,
  newIdentity,
  rejectedBody,
  sameSourceBody,
  send,
  typicalBody,
  type Handler,
  type Reply,
} from './requests';

/**
 * The request kinds whose DynamoDB traffic is measured, each sent warm (org configuration and
 * credentials already cached by an earlier request of the same till) through the real handler,
 * with what the client sent recorded for that request alone.
 */

export type RequestKind =
  | 'newCustomer'
  | 'newCustomerFull'
  | 'merge'
  | 'sameSource'
  | 'conflict'
  | 'rejected'
  | 'rateLimited';

export const REQUEST_KINDS: Record<RequestKind, string> = {
  newCustomer: 'new customer',
  newCustomerFull: 'new customer (full)',
  merge: 'merge into another source',
  sameSource: 'same-source duplicate (8006)',
  conflict: 'conflict (8052)',
  rejected: 'rejected input (8014)',
  rateLimited: 'rate-limited (429)',
};

export interface Measured {
  kind: RequestKind;
  reply: Reply;
  /** Commands sent, by operation. */
  commands: Counts;
  /** HTTP requests sent, retries included. */
  httpRequests: number;
  writes: CapturedWrite[];
}

export interface Recorders {
  counter: RoundTripCounter;
  capture?: WriteCapture;
}

async function measure(kind: RequestKind, recorders: Recorders, request: () => Promise<Reply>): Promise<Measured> {
  recorders.counter.reset();
  recorders.capture?.reset();
  const reply = await request();
  return {
    kind,
    reply,
    commands: recorders.counter.commands(),
    httpRequests: recorders.counter.httpRequests(),
    writes: recorders.capture?.writes() ?? [],
  };
}

function expectStatus(measured: Measured, status: number, code?: number): Measured {
  const codes = (measured.reply.body?.errors ?? []).map((e: { code: number }) => e.code);
  if (measured.reply.status !== status || (code !== undefined && codes[0] !== code)) {
    throw new Error(`${REQUEST_KINDS[measured.kind]}: expected ${status}${code ? ` ${code}` : ''}, got ${measured.reply.status} ${JSON.stringify(measured.reply.body)}`);
  }
  return measured;
}

/** Sends one request of every kind (after warm-up requests) and returns what each cost. */
export async function measureRequestKinds(handler: Handler, recorders: Recorders): Promise<Record<RequestKind, Measured>> {
  // Warm-up: caches the demo till's credentials and org 100's configuration.
  expectStatus(await measure('newCustomer', recorders, () => send(handler, typicalBody())), 200);

  const first = newIdentity();
  const newCustomer = expectStatus(await measure('newCustomer', recorders, () => send(handler, typicalBody(first))), 200);
  const newCustomerFull = expectStatus(await measure('newCustomerFull', recorders, () => send(handler, fullBody())), 200);
  const merge = expectStatus(await measure('merge', recorders, () => send(handler, mergeBody(first))), 200);
  const sameSource = expectStatus(await measure('sameSource', recorders, () => send(handler, sameSourceBody(first))), 409, 8006);

  const second = newIdentity();
  expectStatus(await measure('newCustomer', recorders, () => send(handler, typicalBody(second))), 200);
  const conflict = expectStatus(await measure('conflict', recorders, () => send(handler, conflictBody(first, second))), 409, 8052);
  const rejected = expectStatus(await measure('rejected', recorders, () => send(handler, rejectedBody())), 400, 8014);

  // Org 300 allows 10 requests a minute: the first request warms its caches, later ones use
  // up the window; the first 429 is measured. A window that turns over midway only delays it.
  let rateLimited: Measured | undefined;
  for (let i = 0; i < 40 && !rateLimited; i++) {
    const reply = await measure('rateLimited', recorders, () => send(handler, typicalBody(), { till: 'limited' }));
    if (reply.reply.status === 429 && i > 0) rateLimited = reply;
    else if (reply.reply.status !== 200 && reply.reply.status !== 429) expectStatus(reply, 200);
  }
  if (!rateLimited) throw new Error('rate-limited: no 429 from org 300 after 40 requests');

  return { newCustomer, newCustomerFull, merge, sameSource, conflict, rejected, rateLimited };
}

/**
 * The least any implementation of the API must send for each kind, with the reason. Every
 * request is counted against the org's per-minute limit in DynamoDB (SPEC section 6): one
 * counter update; a rejected request need not be (it can be refused before counting).
 */
export const ROUND_TRIP_FLOORS: Record<RequestKind, { floor: number; why: string }> = {
  newCustomer: { floor: 2, why: 'rate counter + 1 transaction' },
  newCustomerFull: { floor: 2, why: 'rate counter + 1 transaction' },
  merge: { floor: 3, why: 'rate counter + 1 to learn the owner + 1 transaction' },
  sameSource: { floor: 2, why: "rate counter + 1 to learn the owner and its sources" },
  conflict: { floor: 2, why: 'rate counter + 1 to learn the owners' },
  rejected: { floor: 0, why: 'refused before any DynamoDB request' },
  rateLimited: { floor: 1, why: 'the rate counter update that fails' },
};
