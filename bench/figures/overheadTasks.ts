/** The tasks of the warm overhead benchmark and the shape of its results. */

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
  rate: 'phase: rate counter (takeRequest, one UpdateItem)',
  read: 'phase: validate + read the body (AJV, phone numbers)',
  transaction: 'phase: plan + send the transaction (runTransaction)',
  noCounter: 'diagnostic: handler with the rate counter answered without the SDK',
} as const;
