// One batch of queued webhook deliveries (SPEC section 10). Each message names an org, one of its
// subscriptions and the event; the subscription (URL, secrets) is read from the org's
// configuration now, so a secret never travels through the queue and a subscription removed
// from the org file stops receiving within CONFIG_CACHE_SECONDS (the configuration's cache).
//
//   unknown or disabled subscription, an import event without includeImports, an event type
//   not subscribed to                 skipped: not a failure, the message is done
//   delivered                         done
//   410                               the subscription is disabled (ports.disable), done
//   refused by the target policy      done: it would be refused every time (logged)
//   retry, or a failure of the ports  the message is delayed by the schedule and reported in
//                                     batchItemFailures
//   the same on the last attempt      given up: the sender moves the message to the dead-letter
//   (ATTEMPTS, or a later receive)    queue itself (ports.deadLetter, with its attempts and the
//                                     last reason) and it is done; if the move fails, it is
//                                     reported without a delay and the queue's redrive moves it,
//                                     within its slack of receives (MAX_RECEIVE_COUNT)
//   a message that is no delivery     reported without a delay: the queue's redrive moves it to the
//                                     dead-letter queue after MAX_RECEIVE_COUNT receives, kept
//                                     there to be looked at
//
// The messages of a batch are sent concurrently. One log line per message: org, subscription,
// event id and type, outcome, status, attempt, ms; never a secret, the URL or the body.

import type { EventType, WebhookDelivery } from '../events/event';
import { log } from '../log';
import type { WebhookSubscription } from '../org';
import { deliverWebhook, type DeliveryOutcome } from './deliver';
import { isLastAttempt, retryDelaySeconds } from './schedule';
import type { TargetPolicy } from './target';

export interface QueuedDelivery {
  /** The queue's message id: what batchItemFailures and `delay` name. */
  id: string;
  body: WebhookDelivery;
  /** How many times the queue has handed the message out, this time included (1 the first time). */
  receiveCount: number;
}

export interface SenderPorts {
  subscription(orgId: number, subscriptionId: string): Promise<WebhookSubscription | undefined>;
  /** Whether a receiver's 410 disabled the subscription at its current URL. */
  isDisabled(orgId: number, subscription: WebhookSubscription): Promise<boolean>;
  disable(orgId: number, subscription: WebhookSubscription, reason: string): Promise<void>;
  /** Makes the message come back after `seconds`. */
  delay(messageId: string, seconds: number): Promise<void>;
  /**
   * Gives the message up after its last attempt: the dead-letter queue in AWS (its body as
   * received, with its attempts and `reason`); a log line locally. Throws if it could not.
   */
  deadLetter(message: QueuedDelivery, reason: string): Promise<void>;
  policy: TargetPolicy;
  /** Per attempt; 15 s unless a test says otherwise. */
  timeoutMs?: number;
}

/** `given-up`: the last attempt was a retry, and the message went to ports.deadLetter. */
export type SendOutcome = DeliveryOutcome | 'skipped' | 'malformed' | 'given-up';

export interface MessageOutcome {
  messageId: string;
  orgId?: number;
  subscriptionId?: string;
  eventId?: string;
  type?: EventType;
  outcome: SendOutcome;
  status?: number;
  reason?: string;
  attempt: number;
  /** Seconds until the next attempt, for a retry that is not the last. */
  delaySeconds?: number;
  ms: number;
}

export interface BatchResult {
  batchItemFailures: { itemIdentifier: string }[];
  outcomes: MessageOutcome[];
}

export async function sendDeliveries(messages: QueuedDelivery[], ports: SenderPorts): Promise<BatchResult> {
  // One read of a subscription's mark per batch; a 410 in the batch skips its later messages.
  const disabled = new Map<string, Promise<boolean>>();
  const isDisabled = (orgId: number, subscription: WebhookSubscription) => {
    const key = `${orgId}|${subscription.id}`;
    if (!disabled.has(key)) disabled.set(key, ports.isDisabled(orgId, subscription));
    return disabled.get(key)!;
  };
  const disable = async (orgId: number, subscription: WebhookSubscription, reason: string) => {
    disabled.set(`${orgId}|${subscription.id}`, Promise.resolve(true));
    await ports.disable(orgId, subscription, reason);
  };
  const outcomes = await Promise.all(messages.map((message) => sendOne(message, { ...ports, isDisabled, disable })));
  return {
    batchItemFailures: outcomes
      .filter((o) => o.outcome === 'retry' || o.outcome === 'malformed')
      .map((o) => ({ itemIdentifier: o.messageId })),
    outcomes,
  };
}

async function sendOne(message: QueuedDelivery, ports: SenderPorts): Promise<MessageOutcome> {
  const started = performance.now();
  const attempt = message.receiveCount;
  const delivery = message.body;
  if (!isDelivery(delivery)) {
    const outcome: MessageOutcome = {
      messageId: message.id,
      outcome: 'malformed',
      reason: 'the message is not a webhook delivery',
      attempt,
      ms: 0,
    };
    log.error('webhook', { ...outcome });
    return outcome;
  }
  const { orgId, subscriptionId, event } = delivery;
  const about = { messageId: message.id, orgId, subscriptionId, eventId: event.id, type: event.type, attempt };
  let result: Pick<MessageOutcome, 'outcome' | 'status' | 'reason'>;
  try {
    result = await attemptOne(delivery, ports);
  } catch (error) {
    // The configuration or the mark could not be read or written: the delivery waits like any other retry.
    result = { outcome: 'retry', reason: `the sender failed: ${(error as Error).message}` };
  }
  const outcome: MessageOutcome = { ...about, ...result, ms: Math.round(performance.now() - started) };
  if (result.outcome === 'retry' && !isLastAttempt(attempt)) {
    outcome.delaySeconds = retryDelaySeconds(attempt);
    try {
      await ports.delay(message.id, outcome.delaySeconds);
    } catch (error) {
      // The message then comes back after the queue's own visibility timeout: sooner, not lost.
      outcome.reason = `${outcome.reason}; the delay failed: ${(error as Error).message}`;
      delete outcome.delaySeconds;
    }
  } else if (result.outcome === 'retry') {
    try {
      await ports.deadLetter(message, result.reason ?? 'the last attempt failed');
      outcome.outcome = 'given-up';
      outcome.reason = `${outcome.reason}; the last attempt: given up`;
    } catch (error) {
      // Reported without a delay, it comes back after the queue's visibility timeout, is tried
      // (and given up) again, and at worst the queue's redrive moves it after MAX_RECEIVE_COUNT.
      outcome.reason = `${outcome.reason}; the last attempt: moving it to the dead-letter queue failed (${(error as Error).message})`;
    }
  }
  log.info('webhook', { ...outcome });
  return outcome;
}

async function attemptOne(delivery: WebhookDelivery, ports: SenderPorts): Promise<Pick<MessageOutcome, 'outcome' | 'status' | 'reason'>> {
  const { orgId, subscriptionId, event } = delivery;
  const subscription = await ports.subscription(orgId, subscriptionId);
  if (!subscription) return { outcome: 'skipped', reason: 'the org has no such subscription' };
  if (await ports.isDisabled(orgId, subscription)) return { outcome: 'skipped', reason: 'the subscription is disabled (410)' };
  if (event.origin === 'import' && !subscription.includeImports) return { outcome: 'skipped', reason: 'import events are not sent' };
  if (!subscription.events.includes(event.type)) return { outcome: 'skipped', reason: `not subscribed to ${event.type}` };
  const result = await deliverWebhook({ subscription, event, policy: ports.policy, timeoutMs: ports.timeoutMs });
  if (result.outcome === 'gone') await ports.disable(orgId, subscription, result.reason ?? 'the receiver answered 410 Gone');
  return result;
}

function isDelivery(body: unknown): body is WebhookDelivery {
  const delivery = body as Partial<WebhookDelivery> | null | undefined;
  return (
    typeof delivery?.orgId === 'number' &&
    typeof delivery.subscriptionId === 'string' &&
    typeof delivery.event === 'object' &&
    delivery.event !== null &&
    typeof delivery.event.id === 'string' &&
    typeof delivery.event.type === 'string' &&
    delivery.event.orgId === delivery.orgId
  );
}
