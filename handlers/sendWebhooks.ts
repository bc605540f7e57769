import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deliveryQueueUrl, stageIsLocal } from '../lib/config';
import { withDeadline } from '../lib/deadline';
import { log } from '../lib/log';
import { storePorts } from '../lib/webhooks/ports';
import { sendSqsBatch } from '../lib/webhooks/sqs';

/** The webhook queue's worker: delivers one batch (SPEC section 10) and reports the deliveries to retry. */
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  log.addContext(context);
  const ports = { ...storePorts(), policy: { local: stageIsLocal() } };
  return withDeadline(context.getRemainingTimeInMillis(), () => sendSqsBatch(event, ports, deliveryQueueUrl()));
};
