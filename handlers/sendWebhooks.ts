import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { sendQueuedWebhooks } from '../lib/api/eventPorts';
import { withDeadline } from '../lib/deadline';
import { log } from '../lib/log';

/** The webhook queue's worker: delivers one batch (SPEC section 10) and reports the deliveries to retry. */
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  log.addContext(context);
  return withDeadline(context.getRemainingTimeInMillis(), () => sendQueuedWebhooks(event));
};
