// The publisher and the webhook sender for the stage they run in: EventBridge and the webhook
// queue in AWS; in memory locally, where webhooks are delivered by the publisher's process.

import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deliveryDeadLetterQueueUrl, deliveryQueueUrl, stageIsLocal } from '../config';
import { InlineDeliveries, SqsDeliveryQueue } from '../ports/deliveryQueue';
import { stageBus } from '../ports/eventBus';
import type { StreamRecord } from '../store/stream';
import { storePorts } from '../webhooks/ports';
import { sendSqsBatch } from '../webhooks/sqs';
import { publishRecords, type BatchResponse, type PublisherPorts } from './publishEvents';
import { deliverNow } from './deliverWebhooks';

let ports: PublisherPorts | undefined;

export function stagePorts(): PublisherPorts {
  if (!ports) {
    const queue = deliveryQueueUrl();
    ports = { bus: stageBus(), deliveries: queue ? new SqsDeliveryQueue(queue) : new InlineDeliveries(deliverNow) };
  }
  return ports;
}

/**
 * One batch of the stage's stream. Lambda retries from a reported record; serverless offline
 * ignores the report and moves on, so locally a failure is thrown to have the batch retried
 * (event ids are stable: what was published again is deduplicated downstream).
 */
export async function publishStageRecords(records: StreamRecord[]): Promise<BatchResponse> {
  const result = await publishRecords(records, stagePorts());
  if (stageIsLocal() && result.batchItemFailures.length > 0) {
    throw new Error(`event publishing failed at record ${result.batchItemFailures[0].itemIdentifier}; retrying the batch`);
  }
  return result;
}

/** One batch of the webhook queue (SPEC section 10): the deliveries to retry are reported, the ones given up dead-lettered. */
export function sendQueuedWebhooks(event: SQSEvent): Promise<SQSBatchResponse> {
  return sendSqsBatch(
    event,
    { ...storePorts(), policy: { local: stageIsLocal() } },
    { queueUrl: deliveryQueueUrl(), deadLetterQueueUrl: deliveryDeadLetterQueueUrl() },
  );
}
