import type { Context } from 'aws-lambda';
import { timeLeft, withDeadline } from '../lib/deadline';
import { importBatch, type WorkerEvent } from '../lib/import/worker';
import { log } from '../lib/log';

/** Step Functions Distributed Map worker: one batch of an import's lines (SPEC section 9). */
export const handler = (event: WorkerEvent, context: Context) => {
  log.addContext(context);
  return withDeadline(context.getRemainingTimeInMillis(), () => importBatch(event, { timeLeft }));
};
