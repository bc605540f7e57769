// The tasks of the warm overhead benchmark and the shape of its results.

export interface TaskStats {
  p50: number;
  min: number;
  max: number;
  mean: number;
  samples: number;
}

export type OverheadResults = Record<string, TaskStats>;

export const TASKS = {
  handler: 'addCustomer handler',
  floor: 'floor handler',
  auth: 'phase: authenticate (cached credentials and org)',
  rate: 'phase: rate limit (takeRequest, block-reserved: an UpdateItem only when its block is used up)',
  read: 'phase: validate + read the body (AJV, phone numbers)',
  transaction: 'phase: plan + send the transaction (runTransaction)',
  route: 'phase: the route wrapper around a handler that does nothing (middy, body parse, cached authentication, log line)',
  log: 'phase: the request log line alone (pino, info, stdout discarded)',
} as const;

/** Not a task: rate counter UpdateItems sent during the handler's samples (min: updates, max: handler calls). */
export const COUNTER = 'counter updates per handler call';
