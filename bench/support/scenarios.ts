import { setTimeout as sleep } from 'node:timers/promises';
import type { OrgConfig } from '../../lib/org';
import { takeRequest } from '../../lib/rateLimit';
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

// The request kinds whose DynamoDB traffic is measured, each sent warm (org configuration and
// credentials already cached by an earlier request of the same till) through the real handler,
// with what the client sent recorded for that request alone.

export type RequestKind =
  'newCustomer' | 'newCustomerSmallOrg' | 'newCustomerFull' | 'merge' | 'sameSource' | 'conflict' | 'rejected' | 'rateLimited';

export const REQUEST_KINDS: Record<RequestKind, string> = {
  newCustomer: 'new customer',
  newCustomerSmallOrg: 'new customer, small org (org 300, 10/min)',
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
    throw new Error(
      `${REQUEST_KINDS[measured.kind]}: expected ${status}${code ? ` ${code}` : ''}, got ${measured.reply.status} ${JSON.stringify(measured.reply.body)}`,
    );
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

  // Org 300 allows 10 requests a minute (blocks of one): the first request warms its caches,
  // the next is the small org's registration, later ones use up the window; the first 429 is
  // measured. A window that turns over midway only delays it.
  let smallOrg: Measured | undefined;
  let rateLimited: Measured | undefined;
  for (let i = 0; i < 40 && !rateLimited; i++) {
    const reply = await measure('rateLimited', recorders, () => send(handler, typicalBody(), { till: 'limited' }));
    if (reply.reply.status === 429 && i > 0) rateLimited = reply;
    else if (reply.reply.status === 200 && i > 0 && !smallOrg) smallOrg = { ...reply, kind: 'newCustomerSmallOrg' };
    else if (reply.reply.status !== 200 && reply.reply.status !== 429) expectStatus(reply, 200);
  }
  if (!rateLimited) throw new Error('rate-limited: no 429 from org 300 after 40 requests');
  if (!smallOrg) throw new Error('small org: no 200 from org 300 after its first request');

  return { newCustomer, newCustomerSmallOrg: smallOrg, newCustomerFull, merge, sameSource, conflict, rejected, rateLimited };
}

/** What N consecutive registrations of one org cost together, on one warm instance. */
export interface CounterRun {
  requests: number;
  commands: Counts;
  httpRequests: number;
  writes: CapturedWrite[];
  /** Rate-limit windows (minutes) the run touched: each starts the instance's blocks again at 1. */
  windows: number;
  seconds: number;
}

const minuteOf = (ms: number) => Math.floor(ms / 60_000);

/**
 * The rate counter's share of a request, amortised: `count` typical registrations of org 100
 * (100 000 a minute, so blocks double up to 1 000), one after another through the handler on
 * this (already warm) instance, every command counted.
 */
export async function measureConsecutive(handler: Handler, recorders: Recorders, count: number): Promise<CounterRun> {
  // A run that crosses a minute starts the blocks again at 1 and counts twice as many updates:
  // start it in a fresh minute when less than half of this one is left, so that runs compare.
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 30_000) await sleep(60_000 - intoMinute + 50);
  recorders.counter.reset();
  recorders.capture?.reset();
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    const reply = await send(handler, typicalBody());
    if (reply.status !== 200) throw new Error(`consecutive registrations: ${reply.status} ${JSON.stringify(reply.body)}`);
  }
  const ended = Date.now();
  return {
    requests: count,
    commands: recorders.counter.commands(),
    httpRequests: recorders.counter.httpRequests(),
    writes: recorders.capture?.writes() ?? [],
    windows: minuteOf(ended) - minuteOf(started) + 1,
    seconds: (ended - started) / 1000,
  };
}

/** What a 429 costs an org whose limit gives blocks of more than one (≥ 200 a minute). */
export interface BusyRefusal {
  limit: number;
  /** Requests served before the first 429. */
  served: number;
  /** Counter updates for the whole window, up to the first 429 excluded. */
  updatesBeforeRefusal: number;
  /** Commands of the first 429 and of the one after it. */
  first: Counts;
  second: Counts;
  firstHttp: number;
  secondHttp: number;
}

/**
 * An org of `limit` a minute (not in the demo file: a configuration of its own, as the rate
 * limiter reads it) asks for requests through `takeRequest` until refused twice. Nothing but
 * the counter is involved in a 429 (the caller is cached, the body was read), so this is all
 * a warm refused request sends. Retried if the minute turns over midway.
 */
export async function measureBusyRefusal(recorders: Recorders, limit = 200): Promise<BusyRefusal> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const org = { orgId: 900_000 + attempt, rateLimitPerMinute: limit } as OrgConfig;
    const minute = minuteOf(Date.now());
    let served = 0;
    let updatesBeforeRefusal = 0;
    const refusals: { commands: Counts; http: number }[] = [];
    while (refusals.length < 2 && served <= limit) {
      recorders.counter.reset();
      try {
        await takeRequest(org);
        served += 1;
        updatesBeforeRefusal += recorders.counter.commands().UpdateItem ?? 0;
      } catch (error) {
        if ((error as { status?: number }).status !== 429) throw error;
        refusals.push({ commands: recorders.counter.commands(), http: recorders.counter.httpRequests() });
      }
    }
    if (minuteOf(Date.now()) !== minute || refusals.length < 2) continue;
    return {
      limit,
      served,
      updatesBeforeRefusal,
      first: refusals[0].commands,
      second: refusals[1].commands,
      firstHttp: refusals[0].http,
      secondHttp: refusals[1].http,
    };
  }
  throw new Error('busy refusal: the minute turned over three times');
}

/**
 * The least any implementation of the API must send for each kind, with the reason: the
 * write round trips (transactions) it cannot avoid, plus its share of the per-org rate limit
 * counted in DynamoDB (SPEC section 6). Every counted request must be counted, but not by an
 * update of its own: `counter` is an allowance of at most that many counter updates per
 * request (block reservation may amortise it far below), except for a 429, which must ask the
 * counter once to learn the window is full. A rejected request is refused before it is counted.
 */
export const ROUND_TRIP_FLOORS: Record<RequestKind, { writes: number; counter: number; why: string; counterRequired?: boolean }> = {
  newCustomer: { writes: 1, counter: 1, why: '1 transaction + at most 1 rate counter update' },
  newCustomerSmallOrg: { writes: 1, counter: 1, why: '1 transaction + at most 1 rate counter update' },
  newCustomerFull: { writes: 1, counter: 1, why: '1 transaction + at most 1 rate counter update' },
  merge: { writes: 2, counter: 1, why: '1 to learn the owner + 1 transaction, + at most 1 rate counter update' },
  // A refusal names a customer only once it is known not to be being erased (a large erase holds
  // some of its values for seconds; a registration through them waits, 503): one read per owner.
  sameSource: {
    writes: 2,
    counter: 1,
    why: '1 to learn the owner and its sources + 1 read that the owner is not being erased + at most 1 rate counter update',
  },
  conflict: {
    writes: 3,
    counter: 1,
    why: '1 to learn the owners + 1 read of each of the 2 owners that it is not being erased + at most 1 rate counter update',
  },
  rejected: { writes: 0, counter: 0, why: 'refused before it is counted: no DynamoDB request' },
  rateLimited: { writes: 0, counter: 1, why: 'the rate counter update that fails', counterRequired: true },
};
