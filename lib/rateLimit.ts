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
// An instance sends one reservation of an org at a time (lib/store/rateWindows.ts needs that to
// tell a re-sent one). Requests that arrive while one is in flight wait for it and are then
// reserved together, in one update covering all of them (they are certain demand, so reserving
// them strands nothing): a burst of any size waits for at most two reservations, not one per
// request or per doubling of the block. A Lambda instance serves one request at a time and never
// queues; an instance serving requests concurrently (serverless offline in process, tests, a
// bulk add's items) does.

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
  private readonly lines = new Map<string, Line>();

  constructor(private readonly windows = new RateWindows()) {}

  /** Counts one request for the org; throws 429 (with the rate headers) when over the limit. */
  takeRequest(org: OrgConfig, now = Date.now()): Promise<RateDecision> {
    return this.wait(`${tableName()}|${org.orgId}`, { org, now, count: 1 });
  }

  /**
   * Counts `count` requests at once (the valid items of a bulk add, SPEC section 8): all of them,
   * or none and 429, leaving the org's minute as it was.
   */
  takeRequests(org: OrgConfig, count: number, now = Date.now()): Promise<RateDecision> {
    return this.wait(`${tableName()}|${org.orgId}`, { org, now, count });
  }

  /**
   * Queues the request in the org's line and waits until a batch decided it. The request at the
   * head of the line, while no batch is under way, runs the next batch itself (so the batch's
   * DynamoDB calls run under that request's deadline): the head and the single requests of its
   * window queued behind it, or a bulk take alone.
   */
  private async wait(key: string, ask: Ask): Promise<RateDecision> {
    let line = this.lines.get(key);
    if (!line) {
      line = { waiting: [], busy: false };
      this.lines.set(key, line);
    }
    const me: Waiter = { ...ask, wake: () => undefined };
    line.waiting.push(me);
    while (!me.outcome) {
      if (!line.busy && line.waiting[0] === me) await this.runBatch(key, line);
      else await new Promise<void>((resolve) => (me.wake = resolve));
    }
    if ('error' in me.outcome) throw me.outcome.error;
    return me.outcome.decision;
  }

  private async runBatch(key: string, line: Line): Promise<void> {
    line.busy = true;
    const batch = nextBatch(line.waiting);
    try {
      if (batch[0].count > 1) {
        const [bulk] = batch;
        bulk.outcome = { decision: await this.takeMany(bulk.org, key, bulk.count, bulk.now) };
      } else {
        await this.takeSingles(key, batch);
      }
    } catch (error) {
      // The table failed under the batch: every request of it gets the answer (a 503), none tries again alone.
      for (const waiter of batch) waiter.outcome ??= { error };
    } finally {
      line.busy = false;
      for (const waiter of batch) waiter.wake();
      if (line.waiting.length > 0) line.waiting[0].wake();
      else if (this.lines.get(key) === line) this.lines.delete(key);
    }
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

  /**
   * Serves a batch of single requests of one window, in order: from what the instance holds, and
   * for the rest one reservation of at least all of them (a larger block when the instance's pace
   * calls for one). Fewer than that left: what is left, once. Requests it does not cover get 429.
   */
  private async takeSingles(key: string, batch: Waiter[]): Promise<void> {
    const { org, now } = batch[0];
    const limit = limitOf(org);
    const { windowStart, reset } = windowOf(now);
    const reservation = this.reservationOf(key, windowStart, now);
    const short = batch.length - reservation.unused;
    if (short > 0 && !reservation.full) {
      const block = blockSize({ limit, served: reservation.served, elapsedMs: now - reservation.firstAt, leftMs: reset * 1000 - now });
      const wanted = Math.min(limit, Math.max(short, block));
      let result = await this.windows.reserve(org.orgId, windowStart, reset, limit, wanted);
      if ('left' in result) result = await this.windows.reserve(org.orgId, windowStart, reset, limit, result.left);
      if ('reserved' in result) {
        reservation.unused += result.reserved;
        reservation.counted = result.total;
      } else if ('full' in result) {
        // Only a full window is full for the rest of the minute; `left` again (another instance
        // took some meanwhile) refuses the requests it does not cover, this time.
        reservation.full = true;
      }
    }
    for (const waiter of batch) {
      if (reservation.unused === 0) {
        waiter.outcome = { error: rateLimited(limit, reset, waiter.now) };
        continue;
      }
      reservation.unused -= 1;
      reservation.served += 1;
      const remaining = Math.max(0, limit - reservation.counted + reservation.unused);
      waiter.outcome = { decision: { limit, remaining, reset, headers: headersOf(limit, remaining, reset) } };
    }
  }

  private reservationOf(key: string, windowStart: number, now: number): Reservation {
    let reservation = this.reservations.get(key);
    if (!reservation || reservation.windowStart !== windowStart) {
      reservation = { windowStart, unused: 0, counted: 0, served: 0, firstAt: now, full: false };
      this.reservations.set(key, reservation);
    }
    return reservation;
  }
}

/** What a request asks of its org's line: one request, or a bulk add's `count` at once. */
interface Ask {
  org: OrgConfig;
  now: number;
  count: number;
}

interface Waiter extends Ask {
  /** Set by the batch that served or refused it. */
  outcome?: { decision: RateDecision } | { error: unknown };
  /** Resumes the waiting request: it was decided, or it is at the head of a free line. */
  wake: () => void;
}

/** An org's requests in one instance: queued in order, one batch (one reservation) at a time. */
interface Line {
  waiting: Waiter[];
  busy: boolean;
}

/**
 * Takes the next batch off the line: a bulk take alone, or the head and the single requests of
 * its window behind it, up to the next bulk take (which keeps its place).
 */
function nextBatch(waiting: Waiter[]): Waiter[] {
  const [head] = waiting;
  if (head.count > 1) return waiting.splice(0, 1);
  const { windowStart } = windowOf(head.now);
  const bulk = waiting.findIndex((waiter) => waiter.count > 1);
  const candidates = bulk === -1 ? waiting.length : bulk;
  const batch: Waiter[] = [];
  const rest: Waiter[] = [];
  waiting.forEach((waiter, index) => (index < candidates && windowOf(waiter.now).windowStart === windowStart ? batch : rest).push(waiter));
  waiting.splice(0, waiting.length, ...rest);
  return batch;
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
