// Webhook deliveries sent at once, in the publisher's own process: the local stage's queue
// (`npm start`). Each round goes through the sender as a queue batch would; what it answers to
// try again comes back in the next round. There is no dead-letter queue: a delivery given up
// after the schedule's last attempt is one log line. (InlineDeliveries' three rounds end long
// before that: what its last round leaves is dropped, its retry logged by the sender.)

import { randomUUID } from 'node:crypto';
import { stageIsLocal } from '../config';
import type { WebhookDelivery } from '../events/event';
import { log } from '../log';
import type { SendRound } from '../ports/deliveryQueue';
import { storePorts } from '../webhooks/ports';
import { sendDeliveries } from '../webhooks/sender';

export const deliverNow: SendRound = async (deliveries: WebhookDelivery[], attempt: number) => {
  const messages = deliveries.map((body) => ({ id: randomUUID(), body, receiveCount: attempt }));
  const result = await sendDeliveries(messages, {
    ...storePorts(),
    // The rounds' own pauses are the local delays.
    delay: async () => undefined,
    deadLetter: async (message, reason) => {
      const { orgId, subscriptionId, event } = message.body;
      log.warn('webhook given up', { orgId, subscriptionId, eventId: event.id, type: event.type, attempts: message.receiveCount, reason });
    },
    policy: { local: stageIsLocal() },
  });
  const retry = new Set(result.batchItemFailures.map((failure) => failure.itemIdentifier));
  return messages.filter((message) => retry.has(message.id)).map((message) => message.body);
};
