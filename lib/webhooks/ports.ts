// The sender's view of the table: subscriptions from the org's configuration (cached per
// instance for CONFIG_CACHE_SECONDS, as every configuration read is) and the disabled marks
// (read each time). The SQS handler and the local queue of `npm start` each add their own delay.
// On the local stage only, a subscription held by `npm run webhook-receiver` is delivered to the
// URL it holds (read each time, so it counts at once and ends when the receiver stops); the
// sender in AWS never reads it.

import { stageIsLocal } from '../config';
import type { WebhookSubscription } from '../org';
import { getOrgConfig } from '../store/orgs';
import { disableSubscription, isSubscriptionDisabled, localTarget } from '../store/webhookSubscriptions';
import type { SenderPorts } from './sender';

async function subscription(orgId: number, subscriptionId: string): Promise<WebhookSubscription | undefined> {
  const configured = (await getOrgConfig(orgId))?.webhooks?.find((s) => s.id === subscriptionId);
  if (!configured || !stageIsLocal()) return configured;
  const target = await localTarget(orgId, subscriptionId);
  return target ? { ...configured, url: target.url } : configured;
}

export function storePorts(): Pick<SenderPorts, 'subscription' | 'isDisabled' | 'disable'> {
  return {
    subscription,
    isDisabled: (orgId, subscription) => isSubscriptionDisabled(orgId, subscription.id, subscription.url),
    disable: (orgId, subscription, reason) => disableSubscription(orgId, subscription.id, subscription.url, reason),
  };
}
