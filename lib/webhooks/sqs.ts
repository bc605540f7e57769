// The webhook queue's side of the sender: an SQS batch becomes queued deliveries, a retry's delay
// becomes the message's visibility (ChangeMessageVisibility), a delivery given up after its last
// attempt is sent to the dead-letter queue (SendMessage of the body as received, with its attempts
// and the last reason as message attributes), and the answer is the partial batch response (the
// event source mapping needs `functionResponseType: ReportBatchItemFailures`), so only the failed
// messages come back and the others, a given-up one included, are deleted from the queue.

import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { awsRegion } from '../config';
import type { WebhookDelivery } from '../events/event';
import { sendDeliveries, type QueuedDelivery, type SenderPorts } from './sender';

let client: SQSClient | undefined;

function sqsClient(): SQSClient {
  client ??= new SQSClient({ region: awsRegion() });
  return client;
}

/** A reason is a sentence or two; this bounds what it adds to a message of up to 256 KiB. */
const MAX_REASON_CHARS = 1000;

export interface WebhookQueues {
  /** The webhook queue the batch comes from (WEBHOOK_QUEUE_URL). */
  queueUrl: string | undefined;
  /** Where a delivery given up goes (WEBHOOK_DEAD_LETTER_QUEUE_URL); unset, the queue's redrive moves it. */
  deadLetterQueueUrl?: string;
}

export async function sendSqsBatch(
  event: SQSEvent,
  ports: Omit<SenderPorts, 'delay' | 'deadLetter'>,
  { queueUrl, deadLetterQueueUrl }: WebhookQueues,
  sqs: Pick<SQSClient, 'send'> = sqsClient(),
): Promise<SQSBatchResponse> {
  // Without it no retry could be scheduled: refuse the batch, which then comes back whole.
  if (!queueUrl) throw new Error('WEBHOOK_QUEUE_URL is not set');
  const receipts = new Map(event.Records.map((record) => [record.messageId, record.receiptHandle]));
  const bodies = new Map(event.Records.map((record) => [record.messageId, record.body]));
  const messages: QueuedDelivery[] = event.Records.map((record) => ({
    id: record.messageId,
    // sendDeliveries checks the shape: a body that is not a delivery is reported, not sent.
    body: parsed(record.body) as WebhookDelivery,
    receiveCount: Number(record.attributes?.ApproximateReceiveCount) || 1,
  }));
  const delay = async (messageId: string, seconds: number) => {
    await sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receipts.get(messageId), VisibilityTimeout: seconds }),
    );
  };
  const deadLetter = async (message: QueuedDelivery, reason: string) => {
    // The sender then reports the message without a delay, and the queue's redrive moves it.
    if (!deadLetterQueueUrl) throw new Error('WEBHOOK_DEAD_LETTER_QUEUE_URL is not set');
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: deadLetterQueueUrl,
        MessageBody: bodies.get(message.id),
        MessageAttributes: {
          attempts: { DataType: 'Number', StringValue: String(message.receiveCount) },
          lastReason: { DataType: 'String', StringValue: reason.slice(0, MAX_REASON_CHARS) || 'unknown' },
        },
      }),
    );
  };
  const { batchItemFailures } = await sendDeliveries(messages, { ...ports, delay, deadLetter });
  return { batchItemFailures };
}

function parsed(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
