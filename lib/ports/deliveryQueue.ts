// Webhook deliveries waiting to be sent: an SQS queue in AWS (retries with backoff through its
// visibility timeout, a dead-letter queue at the end), delivered at once in the publisher's
// process locally, with a few quick retries so that a person can watch them.

import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { WebhookDelivery } from '../events/event';
import { awsRegion } from '../config';
import { log } from '../log';
import { batchesBySize } from './batches';

export interface DeliveryQueue {
  /** Queues every delivery or throws. */
  enqueue(deliveries: WebhookDelivery[]): Promise<void>;
}

/** SQS's limits on one SendMessageBatch call: 10 messages, and their bodies together (kept under 256 KiB). */
const MESSAGES_PER_CALL = 10;
const BYTES_PER_CALL = 240 * 1024;

export class SqsDeliveryQueue implements DeliveryQueue {
  constructor(
    private readonly queueUrl: string,
    private readonly client = new SQSClient({ region: awsRegion() }),
  ) {}

  async enqueue(deliveries: WebhookDelivery[]): Promise<void> {
    for (const batch of batchesOf(deliveries.map((delivery) => JSON.stringify(delivery)))) {
      const result = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((body, index) => ({ Id: String(index), MessageBody: body })),
        }),
      );
      if (result.Failed?.length) throw new Error(`SQS refused ${result.Failed.length} webhook deliveries: ${result.Failed[0].Code}`);
    }
  }
}

/** Message bodies in calls of at most 10 and about 240 KiB (a full event may be large; one is sent alone). */
export function batchesOf(bodies: string[]): string[][] {
  return batchesBySize(bodies, (body) => Buffer.byteLength(body), { count: MESSAGES_PER_CALL, bytes: BYTES_PER_CALL });
}

/** Sends one round of deliveries; answers the ones to try again. */
export type SendRound = (deliveries: WebhookDelivery[], attempt: number) => Promise<WebhookDelivery[]>;

/**
 * Locally: delivered in the publisher's process, beside it rather than before it returns (a
 * receiver that is down must not hold up the stream), retried after each of `delaysMs`.
 */
export class InlineDeliveries implements DeliveryQueue {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly send: SendRound,
    private readonly delaysMs: number[] = [1000, 3000],
    /** Batches being delivered at once; past it, enqueue waits, so a slow receiver slows the publisher instead of filling memory. */
    private readonly most = 32,
  ) {}

  async enqueue(deliveries: WebhookDelivery[]): Promise<void> {
    while (this.inFlight.size >= this.most) await Promise.race(this.inFlight);
    const running = this.deliver(deliveries).catch((error: Error) =>
      log.error('local webhook delivery failed', { error, deliveries: deliveries.length }),
    );
    this.inFlight.add(running);
    void running.finally(() => this.inFlight.delete(running));
  }

  /** Resolves once every delivery queued so far has been sent or given up on. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private async deliver(deliveries: WebhookDelivery[]): Promise<void> {
    let pending = deliveries;
    for (let attempt = 1; pending.length > 0; attempt++) {
      pending = await this.send(pending, attempt);
      const delay = this.delaysMs[attempt - 1];
      if (pending.length === 0 || delay === undefined) return;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
