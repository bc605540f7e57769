// The per-org limit on POST /v2/customers (SPEC section 6): a fixed one-minute window counted
// in one DynamoDB item per org and window, so every Lambda instance shares it.
//
// A Lambda instance reserves requests from the window's count in blocks: one conditional
// `ADD requests :n` that succeeds only while `requests + n` stays within the limit, then
// serves the block from memory. The table never counts fewer requests than were served, so
// the limit never overshoots, however many instances run at once.
// The block (`blockSize`) is what the instance is likely to serve before the window ends, and
// no more: what it has served in the window so far (so it doubles), scaled down to the part of
// the minute that is left once the window is past the middle of the instance's time in it,
// and at most 1% of the limit. A busy org pays one counter update per many registrations, a
// quiet or small org (under 200 per minute) one per request; an org spread thinly over many
// instances tends to one per request too, as no instance can reserve ahead what it may never
// serve (bench: "Rate counter with many instances").
// What that costs: an instance's unused reservation (at most 1% of the limit, and little near
// the end of the minute) is lost when the window ends, and while other instances hold unused
// reservations an instance may refuse a request although the minute's count is not served out;
// `X-RateLimit-Remaining` is exact only for blocks of one.

import { defaultRateLimitPerMinute, tableName } from './config';
import { ApiError, Code } from './errors';
import type { OrgConfig } from './org';
import { RateWindows } from './store/rateWindows';

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
  /** Requests this instance served in the window, and when it was first asked in it, for sizing the next block. */
  served: number;
  firstAt: number;
  /** The window's count reached the limit; counts only grow, so it stays full until it ends. */
  full: boolean;
}

function limitOf(org: OrgConfig): number {
  return org.rateLimitPerMinute ?? defaultRateLimitPerMinute();
}

/** What an instance asks the window for when it has nothing left to serve from. */
export interface BlockInput {
  limit: number;
  /** Requests the instance served in the window so far. */
  served: number;
  /** Milliseconds since the instance's first request in the window. */
  elapsedMs: number;
  /** Milliseconds until the window ends. */
  leftMs: number;
}

/**
 * The next block: what the instance served so far, no more than it would serve in the rest of
 * the window at the rate it served so far, at most 1% of the limit, at least 1. Anything larger
 * would mostly be lost when the minute ends, and with it requests other instances must refuse.
 */
export function blockSize({ limit, served, elapsedMs, leftMs }: BlockInput): number {
  const ahead = elapsedMs > 0 ? Math.floor((served * leftMs) / elapsedMs) : served;
  return Math.max(1, Math.min(served, ahead, Math.floor(limit / 100)));
}

/**
 * One instance's limiter: its reservations of each org's current window, and its place in the
 * window items. A Lambda instance has one (`takeRequest`, `takeRequests` below); benchmarks and
 * tests make several to act as several instances sharing the table.
 */
export class RateLimiter {
  private readonly reservations = new Map<string, Reservation>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly windows = new RateWindows()) {}

  /** Counts one request for the org; throws 429 (with the rate headers) when over the limit. */
  takeRequest(org: OrgConfig, now = Date.now()): Promise<RateDecision> {
    const key = `${tableName()}|${org.orgId}`;
    // One reservation at a time per org and instance, so that a re-sent one can tell it was applied
    // (lib/store/rateWindows.ts); requests waiting meanwhile are served from the block it brings.
    return this.oneAtATime(key, () => this.take(org, key, now));
  }

  /**
   * Counts `count` requests at once (the valid items of a bulk add, SPEC section 8): all of them,
   * or none and 429, leaving the org's minute as it was.
   */
  takeRequests(org: OrgConfig, count: number, now = Date.now()): Promise<RateDecision> {
    if (count === 1) return this.takeRequest(org, now);
    const key = `${tableName()}|${org.orgId}`;
    return this.oneAtATime(key, () => this.takeMany(org, key, count, now));
  }

  private async takeMany(org: OrgConfig, key: string, count: number, now: number): Promise<RateDecision> {
    const limit = limitOf(org);
    const { windowStart, reset } = windowOf(now);
    const reservation = this.reservationOf(key, windowStart, now);
    // More than a whole minute holds can never fit (and must not reach an empty window's first ADD).
    if (count > limit) throw rateLimited(limit, reset, now, Math.max(0, limit - reservation.counted + reservation.unused), count);
    if (count > reservation.unused) {
      const needed = count - reservation.unused;
      const result = reservation.full ? { full: true as const } : await this.windows.reserve(org.orgId, windowStart, reset, limit, needed);
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

  private async take(org: OrgConfig, key: string, now: number): Promise<RateDecision> {
    const limit = limitOf(org);
    const { windowStart, reset } = windowOf(now);
    const reservation = this.reservationOf(key, windowStart, now);
    if (reservation.unused === 0) {
      const wanted = blockSize({ limit, served: reservation.served, elapsedMs: now - reservation.firstAt, leftMs: reset * 1000 - now });
      let result = reservation.full ? { full: true as const } : await this.windows.reserve(org.orgId, windowStart, reset, limit, wanted);
      // Fewer than a block left: take what is left, once.
      if ('left' in result) result = await this.windows.reserve(org.orgId, windowStart, reset, limit, result.left);
      if (!('reserved' in result)) {
        // Only a full window is full for the rest of the minute; `left` again (another instance
        // took some meanwhile) refuses this request alone.
        if ('full' in result) reservation.full = true;
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

  private reservationOf(key: string, windowStart: number, now: number): Reservation {
    let reservation = this.reservations.get(key);
    if (!reservation || reservation.windowStart !== windowStart) {
      reservation = { windowStart, unused: 0, counted: 0, served: 0, firstAt: now, full: false };
      this.reservations.set(key, reservation);
    }
    return reservation;
  }

  private oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
    const queues = this.queues;
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
}

/** This process's limiter: a Lambda instance is one process. */
const instanceLimiter = new RateLimiter();

/** Counts one request for the org; throws 429 (with the rate headers) when over the limit. */
export function takeRequest(org: OrgConfig, now = Date.now()): Promise<RateDecision> {
  return instanceLimiter.takeRequest(org, now);
}

/**
 * Counts `count` requests at once (the valid items of a bulk add, SPEC section 8): all of them,
 * or none and 429, leaving the org's minute as it was.
 */
export function takeRequests(org: OrgConfig, count: number, now = Date.now()): Promise<RateDecision> {
  return instanceLimiter.takeRequests(org, count, now);
}

function windowOf(now: number): { windowStart: number; reset: number } {
  const windowStart = Math.floor(now / WINDOW_MS) * WINDOW_MS;
  return { windowStart, reset: Math.ceil((windowStart + WINDOW_MS) / 1000) };
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

function headersOf(limit: number, remaining: number, reset: number): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(limit),
    'X-RateLimit-Remaining': String(remaining),
    'X-RateLimit-Reset': String(reset),
  };
}
