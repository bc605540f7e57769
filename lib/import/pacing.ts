// How fast an import writes: a token bucket at the job's rate (registrations per second, SPEC
// section 9: the default 500/s is a new on-demand table's 4,000 writes per second at 8 write
// units each), which halves when DynamoDB throttles and climbs back while it does not, so a
// throttled table sees the import ease off instead of a burst of failures. A line DynamoDB
// stayed unavailable for is retried after an exponential, jittered pause.
//
// The bucket is virtual scheduling (GCRA): each take is given the next free slot, 1/rate after
// the previous one, with a burst of a twentieth of a second's worth; no timer runs between takes.

import { setTimeout as sleep } from 'node:timers/promises';

export interface Pacing {
  /** Waits for the next slot. */
  take(): Promise<void>;
  /** DynamoDB throttled or failed: slow down. */
  throttled(): void;
}

/** How many times a line is tried when DynamoDB answers 503, and the pause between tries. */
export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Milliseconds left for the whole job (a Lambda's deadline); Infinity for none. */
  timeLeft?: () => number;
  /** Told of each pause before a retry, as it begins (the CLI shows the wait on its progress). */
  onPause?: (pauseMs: number, attempt: number, attempts: number) => void;
  /** Aborted when the job stops (Ctrl-C, a lost lock): a pause ends at once and the line is left unfinished. */
  signal?: AbortSignal;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Rates never drop below this when throttled. */
const MIN_RATE = 1;
/** After a second without throttling, the rate grows by this factor per second, up to the target. */
const RECOVERY_PER_SECOND = 1.25;

export class TokenBucket implements Pacing {
  private rate: number;
  private next = 0;
  private lastChange = 0;

  constructor(
    private readonly target: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(target > 0)) throw new Error(`rate must be a positive number, not ${target}`);
    this.rate = target;
  }

  /** The rate the bucket runs at now (registrations per second). */
  get currentRate(): number {
    return this.rate;
  }

  async take(): Promise<void> {
    const now = this.now();
    this.recover(now);
    const interval = 1000 / this.rate;
    const burst = Math.max(1, this.rate / 20) * interval;
    const slot = Math.max(this.next, now - burst);
    this.next = slot + interval;
    const wait = slot - now;
    if (wait >= 1) await sleep(wait);
  }

  throttled(): void {
    const now = this.now();
    this.rate = Math.max(MIN_RATE, Math.min(this.rate, this.target) / 2);
    this.lastChange = now;
  }

  private recover(now: number): void {
    if (this.rate >= this.target) return;
    const seconds = (now - this.lastChange) / 1000;
    if (seconds < 1) return;
    this.rate = Math.min(this.target, this.rate * RECOVERY_PER_SECOND ** seconds);
    this.lastChange = now;
  }
}

/** The pause before try `attempt + 1` (attempt counts from 1): exponential, capped, with full jitter in its upper half. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return ceiling / 2 + (random() * ceiling) / 2;
}
