import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Exponential backoff with full jitter between attempts of an optimistic write that lost to a
 * concurrent one (a registration, a change, an erase): short, since the winner is already done.
 */
export async function backoff(attempt: number): Promise<void> {
  await sleep(Math.random() * Math.min(200, 10 * 2 ** attempt));
}
