// One deadline per request (SPEC section 6: a request never outlives its function). The route
// sets it from the Lambda context's remaining time; every DynamoDB call of the request, and
// every retry of the register loop, shares it, so a slow but alive table gives a 503 before the
// function times out instead of a 504 without a body.

import { AsyncLocalStorage } from 'node:async_hooks';

/** Time kept back from the function's remaining time to answer and log. */
export const ANSWER_MARGIN_MS = 1500;

const current = new AsyncLocalStorage<number>();

/** Runs `work` with a deadline `remainingMs` from now, less the margin to answer. */
export function withDeadline<T>(remainingMs: number | undefined, work: () => Promise<T>): Promise<T> {
  if (remainingMs === undefined || !Number.isFinite(remainingMs)) return work();
  return current.run(Date.now() + Math.max(0, remainingMs - ANSWER_MARGIN_MS), work);
}

/** Milliseconds left before the current request's deadline; Infinity outside a request. */
export function timeLeft(): number {
  const deadline = current.getStore();
  return deadline === undefined ? Infinity : deadline - Date.now();
}
