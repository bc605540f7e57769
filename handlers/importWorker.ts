import type { Context } from 'aws-lambda';
import { timeLeft, withDeadline } from '../lib/deadline';
import { importBatch, type WorkerEvent } from '../lib/import/worker';

/** Step Functions Distributed Map worker: one batch of an import's lines (SPEC section 9). */
export const handler = (event: WorkerEvent, context: Context) =>
  withDeadline(context.getRemainingTimeInMillis(), () => importBatch(event, { timeLeft }));
