// The webhook queue's side of the sender: an SQS batch becomes queued deliveries, a retry's delay
// becomes the message's visibility (ChangeMessageVisibility), and the answer is the partial batch
// response (the event source mapping needs `functionResponseType: ReportBatchItemFailures`), so
// only the failed messages come back.

import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { awsRegion } from '../config';
import type { WebhookDelivery } from '../events/event';
import { sendDeliveries, type QueuedDelivery, type SenderPorts } from './sender';

let client: SQSClient | undefined;

function sqsClient(): SQSClient {
  client ??= new SQSClient({ region: awsRegion() });
  return client;
}

export async function sendSqsBatch(
  event: SQSEvent,
  ports: Omit<SenderPorts, 'delay'>,
  queueUrl: string | undefined,
  sqs: Pick<SQSClient, 'send'> = sqsClient(),
): Promise<SQSBatchResponse> {
  // Without it no retry could be scheduled: refuse the batch, which then comes back whole.
  if (!queueUrl) throw new Error('WEBHOOK_QUEUE_URL is not set');
  const receipts = new Map(event.Records.map((record) => [record.messageId, record.receiptHandle]));
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
  const { batchItemFailures } = await sendDeliveries(messages, { ...ports, delay });
  return { batchItemFailures };
}

function parsed(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
