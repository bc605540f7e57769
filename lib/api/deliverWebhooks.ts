// Webhook deliveries sent at once, in the publisher's own process: the local stage's queue
// (`npm start`). Each round goes through the sender as a queue batch would; what it answers to
// try again comes back in the next round.

import { randomUUID } from 'node:crypto';
import { stageIsLocal } from '../config';
import type { WebhookDelivery } from '../events/event';
import type { SendRound } from '../ports/deliveryQueue';
import { storePorts } from '../webhooks/ports';
import { sendDeliveries } from '../webhooks/sender';

export const deliverNow: SendRound = async (deliveries: WebhookDelivery[], attempt: number) => {
  const messages = deliveries.map((body) => ({ id: randomUUID(), body, receiveCount: attempt }));
  const result = await sendDeliveries(messages, {
    ...storePorts(),
    // The rounds' own pauses are the local delays.
    delay: async () => undefined,
    policy: { local: stageIsLocal() },
  });
  const retry = new Set(result.batchItemFailures.map((failure) => failure.itemIdentifier));
  return messages.filter((message) => retry.has(message.id)).map((message) => message.body);
};
