import { batchesOf, InlineDeliveries } from '../../lib/ports/deliveryQueue';
import type { WebhookDelivery } from '../../lib/events/event';

// The webhook queue's calls: SendMessageBatch takes 10 messages and about 256 KiB together, so
// full events (the customer document in each) are split by size as well as by count.

test('ten small bodies to a call, in order', () => {
  const bodies = Array.from({ length: 23 }, (_, i) => `{"n":${i}}`);
  const batches = batchesOf(bodies);
  expect(batches.map((b) => b.length)).toEqual([10, 10, 3]);
  expect(batches.flat()).toEqual(bodies);
});

test('large bodies go in calls of at most 240 KiB, one alone when it is that large', () => {
  const body = (kib: number) => 'x'.repeat(kib * 1024);
  const batches = batchesOf([body(100), body(100), body(100), body(250), body(10)]);
  expect(batches.map((b) => b.map((x) => x.length / 1024))).toEqual([[100, 100], [100], [250], [10]]);
});

test('local deliveries run beside the publisher and retry what the round answers, then give up', async () => {
  const rounds: number[] = [];
  const delivery = { orgId: 100, subscriptionId: 'demo', event: { id: 'evt_1' } } as unknown as WebhookDelivery;
  const queue = new InlineDeliveries(
    async (deliveries, attempt) => {
      rounds.push(attempt);
      return deliveries;
    },
    [1, 1],
  );
  await queue.enqueue([delivery]);
  // The enqueue returned before the first round was done.
  expect(rounds.length).toBeLessThanOrEqual(1);
  await queue.settled();
  expect(rounds).toEqual([1, 2, 3]);
});

test('local deliveries to a slow receiver hold up the publisher past a bound, rather than pile up in memory', async () => {
  const delivery = { orgId: 100, subscriptionId: 'demo', event: { id: 'evt_1' } } as unknown as WebhookDelivery;
  const releases: (() => void)[] = [];
  let started = 0;
  const queue = new InlineDeliveries(
    async () => {
      started += 1;
      await new Promise<void>((resolve) => releases.push(resolve));
      return [];
    },
    [],
    2,
  );
  await queue.enqueue([delivery]);
  await queue.enqueue([delivery]);
  let third = false;
  const enqueued = queue.enqueue([delivery]).then(() => (third = true));
  await new Promise((resolve) => setImmediate(resolve));
  // Two batches are being delivered: the third waits for one of them.
  expect({ started, third }).toEqual({ started: 2, third: false });
  releases.shift()!();
  await enqueued;
  expect(third).toBe(true);
  while (releases.length > 0 || started < 3) {
    await new Promise((resolve) => setImmediate(resolve));
    releases.shift()?.();
  }
  await queue.settled();
  expect(started).toBe(3);
});
