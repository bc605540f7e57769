// Who a write is made for: the till and the request id of the API request (or the import) that
// makes it. The route sets it around the handler; the store stamps it on the customer item it
// writes (`changedBy`), and the history read from the table's stream (SPEC section 15) tells
// it. Ambient like the deadline, so that no rule or plan signature carries it.

import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestStamp {
  till: string;
  requestId: string;
}

const current = new AsyncLocalStorage<RequestStamp>();

export function withRequestStamp<T>(stamp: RequestStamp, work: () => Promise<T>): Promise<T> {
  return current.run(stamp, work);
}

/** The stamp of the current request; undefined outside one (tools, tests of plans). */
export function requestStamp(): RequestStamp | undefined {
  return current.getStore();
}
