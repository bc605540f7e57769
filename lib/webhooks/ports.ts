// The sender's view of the table: subscriptions from the org's configuration (cached per
// instance for CONFIG_CACHE_SECONDS, as every configuration read is) and the disabled marks
// (read each time). The SQS handler and the local queue of `npm start` each add their own delay.

import { getOrgConfig } from '../store/orgs';
import { disableSubscription, isSubscriptionDisabled } from '../store/webhookSubscriptions';
import type { SenderPorts } from './sender';

export function storePorts(): Pick<SenderPorts, 'subscription' | 'isDisabled' | 'disable'> {
  return {
    subscription: async (orgId, subscriptionId) => (await getOrgConfig(orgId))?.webhooks?.find((s) => s.id === subscriptionId),
    isDisabled: (orgId, subscription) => isSubscriptionDisabled(orgId, subscription.id, subscription.url),
    disable: (orgId, subscription, reason) => disableSubscription(orgId, subscription.id, subscription.url, reason),
  };
}
