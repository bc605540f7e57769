// The publisher's ports for the stage it runs in: EventBridge and the webhook queue in AWS;
// in memory locally, where webhooks are delivered at once by the publisher itself.

import { deliveryQueueUrl } from '../config';
import { InlineDeliveries, SqsDeliveryQueue } from '../ports/deliveryQueue';
import { stageBus } from '../ports/eventBus';
import type { PublisherPorts } from './publishEvents';
import { deliverNow } from './deliverWebhooks';

let ports: PublisherPorts | undefined;

export function stagePorts(): PublisherPorts {
  if (!ports) {
    const queue = deliveryQueueUrl();
    ports = { bus: stageBus(), deliveries: queue ? new SqsDeliveryQueue(queue) : new InlineDeliveries(deliverNow) };
  }
  return ports;
}
