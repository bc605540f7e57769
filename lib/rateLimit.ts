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

async function take(org: OrgConfig, key: string, now: number): Promise<RateDecision> {
  const limit = limitOf(org);
  const windowStart = Math.floor(now / WINDOW_MS) * WINDOW_MS;
  const reset = Math.ceil((windowStart + WINDOW_MS) / 1000);
  let reservation = reservations.get(key);
  if (!reservation || reservation.windowStart !== windowStart) {
    reservation = { windowStart, unused: 0, counted: 0, served: 0, full: false };
    reservations.set(key, reservation);
  }

  if (reservation.unused === 0) {
    const wanted = Math.min(Math.max(1, reservation.served), Math.max(1, Math.floor(limit / 100)));
    let result = reservation.full ? { full: true as const } : await reserveInWindow(org.orgId, windowStart, reset, limit, wanted);
    // Fewer than a block left: take what is left, once.
    if ('left' in result) result = await reserveInWindow(org.orgId, windowStart, reset, limit, result.left);
    if (!('reserved' in result)) {
      reservation.full = true;
      const retryAfter = Math.max(1, reset - Math.floor(now / 1000));
      throw ApiError.of(Code.rateLimited, `rate limit of ${limit} requests per minute reached; retry after ${retryAfter} s`).withHeaders({
        ...headersOf(limit, 0, reset),
        'Retry-After': String(retryAfter),
      });
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
