import type { Context } from 'aws-lambda';
import { timeLeft, withDeadline } from '../lib/deadline';
import { importBatch, type WorkerEvent } from '../lib/import/worker';
import { log } from '../lib/log';
import { withRequestStamp } from '../lib/requestContext';

/** Step Functions Distributed Map worker: one batch of an import's lines (SPEC section 9). */
export const handler = (event: WorkerEvent, context: Context) => {
  log.addContext(context);
  // The history names the import's till and this invocation as who made each change (SPEC section 15).
  // Without a till in the input, the org's default till registers, and the history names it from the profile.
  const till = event?.BatchInput?.till;
  const run = () => importBatch(event, { timeLeft });
  return withDeadline(context.getRemainingTimeInMillis(), () =>
    typeof till === 'string' ? withRequestStamp({ till, requestId: context.awsRequestId }, run) : run(),
  );
};
