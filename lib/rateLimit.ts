// The per-org limit on POST /v2/customers (SPEC section 6): a fixed one-minute window counted
// in one DynamoDB item per org and window, so every Lambda instance shares it.
//
// A Lambda instance reserves requests from the window's count in blocks: one conditional
// `ADD requests :n` that succeeds only while `requests + n` stays within the limit, then
// serves the block from memory. The table never counts fewer requests than were served, so
// the limit never overshoots, however many instances run at once. The block is as large as
// what the instance has served in the window so far (so it doubles), up to 1% of the limit:
// a busy org pays one counter update per many registrations, a quiet or small org (under 200
// per minute) one per request.
// What that costs: an instance's unused reservation (at most 1% of the limit) is lost when the
// window ends, and `X-RateLimit-Remaining` is exact only for blocks of one.

import { defaultRateLimitPerMinute, tableName } from './config';
import { ApiError, Code } from './errors';
import type { OrgConfig } from './org';
import { reserveInWindow } from './store/rateWindows';

const WINDOW_MS = 60_000;

export interface RateDecision {
  limit: number;
  remaining: number;
  /** Epoch seconds when the current window ends. */
  reset: number;
  headers: Record<string, string>;
}

interface Reservation {
  windowStart: number;
  /** Requests reserved in the table and not served yet. */
  unused: number;
  /** The window's count in the table after this instance's last reservation. */
  counted: number;
  /** Requests this instance served in the window, for sizing the next block. */
  served: number;
  /** The window's count reached the limit; counts only grow, so it stays full until it ends. */
  full: boolean;
}

const reservations = new Map<string, Reservation>();

function limitOf(org: OrgConfig): number {
  return org.rateLimitPerMinute ?? defaultRateLimitPerMinute();
}

/** Counts one request for the org; throws 429 (with the rate headers) when over the limit. */
export function takeRequest(org: OrgConfig, now = Date.now()): Promise<RateDecision> {
  const key = `${tableName()}|${org.orgId}`;
  // One reservation at a time per org and process, so that a re-sent one can tell it was applied
  // (lib/store/rateWindows.ts); requests waiting meanwhile are served from the block it brings.
  return oneAtATime(key, () => take(org, key, now));
}

/**
 * Counts `count` requests at once (the valid items of a bulk add, SPEC section 8): all of them,
 * or none and 429, leaving the org's minute as it was.
 */
export function takeRequests(org: OrgConfig, count: number, now = Date.now()): Promise<RateDecision> {
  if (count === 1) return takeRequest(org, now);
  const key = `${tableName()}|${org.orgId}`;
  return oneAtATime(key, () => takeMany(org, key, count, now));
}

async function takeMany(org: OrgConfig, key: string, count: number, now: number): Promise<RateDecision> {
  const limit = limitOf(org);
  const { windowStart, reset } = windowOf(now);
  const reservation = reservationOf(key, windowStart);
  // More than a whole minute holds can never fit (and must not reach an empty window's first ADD).
  if (count > limit) throw rateLimited(limit, reset, now, Math.max(0, limit - reservation.counted + reservation.unused), count);
  if (count > reservation.unused) {
    const needed = count - reservation.unused;
    const result = reservation.full ? { full: true as const } : await reserveInWindow(org.orgId, windowStart, reset, limit, needed);
    if (!('reserved' in result)) {
      if ('full' in result) reservation.full = true;
      throw rateLimited(limit, reset, now, 'left' in result ? result.left : 0, count);
    }
    reservation.unused += result.reserved;
    reservation.counted = result.total;
  }
  reservation.unused -= count;
  reservation.served += count;
  const remaining = Math.max(0, limit - reservation.counted + reservation.unused);
  return { limit, remaining, reset, headers: headersOf(limit, remaining, reset) };
}

function windowOf(now: number): { windowStart: number; reset: number } {
  const windowStart = Math.floor(now / WINDOW_MS) * WINDOW_MS;
  return { windowStart, reset: Math.ceil((windowStart + WINDOW_MS) / 1000) };
}

function reservationOf(key: string, windowStart: number): Reservation {
  let reservation = reservations.get(key);
  if (!reservation || reservation.windowStart !== windowStart) {
    reservation = { windowStart, unused: 0, counted: 0, served: 0, full: false };
    reservations.set(key, reservation);
  }
  return reservation;
}

function rateLimited(limit: number, reset: number, now: number, left = 0, wanted = 1): ApiError {
  const retryAfter = Math.max(1, reset - Math.floor(now / 1000));
  const what = wanted > 1 ? `${wanted} requests do not fit the ${left} left of the` : 'rate limit of';
  return ApiError.of(
    Code.rateLimited,
    `${what} ${limit} requests per minute${wanted > 1 ? '' : ' reached'}; retry after ${retryAfter} s`,
  ).withHeaders({
    ...headersOf(limit, left, reset),
    'Retry-After': String(retryAfter),
  });
}

async function take(org: OrgConfig, key: string, now: number): Promise<RateDecision> {
  const limit = limitOf(org);
  const { windowStart, reset } = windowOf(now);
  const reservation = reservationOf(key, windowStart);
  if (reservation.unused === 0) {
    const wanted = Math.min(Math.max(1, reservation.served), Math.max(1, Math.floor(limit / 100)));
    let result = reservation.full ? { full: true as const } : await reserveInWindow(org.orgId, windowStart, reset, limit, wanted);
    // Fewer than a block left: take what is left, once.
    if ('left' in result) result = await reserveInWindow(org.orgId, windowStart, reset, limit, result.left);
    if (!('reserved' in result)) {
      reservation.full = true;
      throw rateLimited(limit, reset, now);
    }
    reservation.unused += result.reserved;
    reservation.counted = result.total;
  }
  reservation.unused -= 1;
  reservation.served += 1;
  const remaining = Math.max(0, limit - reservation.counted + reservation.unused);
  return { limit, remaining, reset, headers: headersOf(limit, remaining, reset) };
}

const queues = new Map<string, Promise<unknown>>();

function oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
  const next = (queues.get(key) ?? Promise.resolve()).then(work, work);
  const settled = next.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return next;
}

function headersOf(limit: number, remaining: number, reset: number): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(limit),
    'X-RateLimit-Remaining': String(remaining),
    'X-RateLimit-Reset': String(reset),
  };
}
