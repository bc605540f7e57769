// Webhook deliveries waiting to be sent: an SQS queue in AWS (retries with backoff through its
// visibility timeout, a dead-letter queue at the end), delivered at once in the publisher's
// process locally, with a few quick retries so that a person can watch them.

import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { WebhookDelivery } from '../events/event';
import { awsRegion } from '../config';

export interface DeliveryQueue {
  /** Queues every delivery or throws. */
  enqueue(deliveries: WebhookDelivery[]): Promise<void>;
}

/** SQS's limit on the messages of one SendMessageBatch call. */
const MESSAGES_PER_CALL = 10;

export class SqsDeliveryQueue implements DeliveryQueue {
  constructor(
    private readonly queueUrl: string,
    private readonly client = new SQSClient({ region: awsRegion() }),
  ) {}

  async enqueue(deliveries: WebhookDelivery[]): Promise<void> {
    for (let start = 0; start < deliveries.length; start += MESSAGES_PER_CALL) {
      const batch = deliveries.slice(start, start + MESSAGES_PER_CALL);
      const result = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((delivery, index) => ({ Id: String(index), MessageBody: JSON.stringify(delivery) })),
        }),
      );
      if (result.Failed?.length) throw new Error(`SQS refused ${result.Failed.length} webhook deliveries: ${result.Failed[0].Code}`);
    }
  }
}

/** Sends one round of deliveries; answers the ones to try again. */
export type SendRound = (deliveries: WebhookDelivery[], attempt: number) => Promise<WebhookDelivery[]>;

/** Locally: delivered before the publisher returns, retried after each of `delaysMs`. */
export class InlineDeliveries implements DeliveryQueue {
  constructor(
    private readonly send: SendRound,
    private readonly delaysMs: number[] = [1000, 3000],
  ) {}

  async enqueue(deliveries: WebhookDelivery[]): Promise<void> {
    let pending = deliveries;
    for (let attempt = 1; pending.length > 0; attempt++) {
      pending = await this.send(pending, attempt);
      const delay = this.delaysMs[attempt - 1];
      if (pending.length === 0 || delay === undefined) return;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
