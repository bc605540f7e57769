import { Webhook } from 'standardwebhooks';
import type { CustomerEvent, WebhookDelivery } from '../../lib/events/event';
import type { WebhookSubscription } from '../../lib/org';
import { deliverWebhook, MAX_EVENT_BYTES } from '../../lib/webhooks/deliver';
import { ATTEMPTS, isLastAttempt, MAX_RECEIVE_COUNT, retryDelaySeconds } from '../../lib/webhooks/schedule';
import { sendDeliveries, type SenderPorts } from '../../lib/webhooks/sender';
import { signedHeaders, USER_AGENT } from '../../lib/webhooks/signature';
import { checkTarget, problemOfAddress, type HostLookup } from '../../lib/webhooks/target';

// Webhook delivery's pure parts (SPEC section 10): Standard Webhooks signatures, the retry
// schedule, which targets may be sent to, and what the sender does with a message before it
// sends anything. Nothing here leaves the process: host names resolve through fake lookups.

const OLD_SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
const NEW_SECRET = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;

const event: CustomerEvent = {
  id: 'evt_0001',
  type: 'customer.created',
  version: 1,
  orgId: 100,
  customerId: 42,
  occurredAt: '2026-01-02T03:04:05.000Z',
  origin: 'api',
  sequence: 1,
  data: { sourceAccounts: ['INSTORE'], identifierTypes: ['mobile'] },
};

describe('Standard Webhooks signatures', () => {
  const body = JSON.stringify(event);

  test('a receiver verifies a delivery with the standardwebhooks package', () => {
    const headers = signedHeaders(event.id, body, [OLD_SECRET]);
    expect(new Webhook(OLD_SECRET).verify(body, { ...headers })).toEqual(event);
  });

  test('the headers are the webhook-id (the event id), unix seconds, v1 signatures, JSON and our user agent', () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    const headers = signedHeaders(event.id, body, [OLD_SECRET], at);
    expect(headers).toEqual({
      'webhook-id': 'evt_0001',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
    });
    expect(headers['webhook-signature']).toBe(new Webhook(OLD_SECRET).sign(event.id, at, body));
  });

  test('during a rotation every secret signs, so a receiver that knows either the old or the new one verifies', () => {
    const headers = signedHeaders(event.id, body, [NEW_SECRET, OLD_SECRET]);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(OLD_SECRET).verify(body, { ...headers })).toEqual(event);
    expect(new Webhook(NEW_SECRET).verify(body, { ...headers })).toEqual(event);
    const stranger = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
    expect(() => new Webhook(stranger).verify(body, { ...headers })).toThrow('No matching signature found');
  });

  test('a body changed on the way does not verify', () => {
    const headers = signedHeaders(event.id, body, [OLD_SECRET]);
    expect(() => new Webhook(OLD_SECRET).verify(body.replace('42', '43'), { ...headers })).toThrow('No matching signature found');
  });
});

describe('the retry schedule', () => {
  const attemptTimes = () => {
    const times = [0];
    for (let attempt = 1; attempt < ATTEMPTS; attempt++) times.push(times[attempt - 1] + retryDelaySeconds(attempt));
    return times;
  };

  test('backs off from a minute to about twelve hours', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(retryDelaySeconds)).toEqual([60, 300, 1800, 7200, 18000, 36000, 42900, 42900]);
  });

  test('never asks SQS for more than its 12 hours of invisibility', () => {
    for (let attempt = 1; attempt <= 50; attempt++) expect(retryDelaySeconds(attempt)).toBeLessThanOrEqual(12 * 3600);
  });

  test(`gives ${ATTEMPTS} attempts over about three days before the dead-letter queue`, () => {
    const lastAttempt = attemptTimes()[ATTEMPTS - 1];
    expect(lastAttempt / 86400).toBeGreaterThan(2.75);
    expect(lastAttempt / 86400).toBeLessThan(3.5);
    expect(isLastAttempt(ATTEMPTS - 1)).toBe(false);
    expect(isLastAttempt(ATTEMPTS)).toBe(true);
  });

  test("the queue's redrive is a backstop three receives beyond the attempts, for receives that never became one", () => {
    expect(ATTEMPTS).toBe(12);
    expect(MAX_RECEIVE_COUNT).toBe(ATTEMPTS + 3);
    expect(isLastAttempt(MAX_RECEIVE_COUNT)).toBe(true);
  });
});

describe('webhook targets', () => {
  const resolvesTo =
    (...addresses: string[]): HostLookup =>
    async () =>
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  const aws = (lookup: HostLookup) => ({ local: false, lookup });

  test('a public address over https is allowed, and the checked address is the one to connect to', async () => {
    expect(await checkTarget('https://hooks.example.com/in', aws(resolvesTo('93.184.215.14')))).toMatchObject({
      kind: 'allowed',
      address: '93.184.215.14',
      family: 4,
    });
    expect(await checkTarget('https://hooks.example.com/in', aws(resolvesTo('2606:2800:21f:cb07:6820:80da:af6b:8b2c')))).toMatchObject({
      kind: 'allowed',
      family: 6,
    });
  });

  test('http is refused in AWS stages, before any lookup', async () => {
    const lookup = jest.fn(resolvesTo('93.184.215.14'));
    expect(await checkTarget('http://hooks.example.com/in', aws(lookup))).toEqual({
      kind: 'refused',
      reason: 'only https URLs are sent to in AWS stages',
    });
    expect(lookup).not.toHaveBeenCalled();
  });

  test.each([
    ['10.1.2.3', '10.1.2.3 is a private address'],
    ['172.16.0.1', '172.16.0.1 is a private address'],
    ['172.31.255.255', '172.31.255.255 is a private address'],
    ['192.168.1.1', '192.168.1.1 is a private address'],
    ['127.0.0.1', '127.0.0.1 is a loopback address'],
    ['127.8.9.10', '127.8.9.10 is a loopback address'],
    ['::1', '::1 is a loopback address'],
    ['169.254.169.254', '169.254.169.254 is a link-local address'],
    ['fe80::1', 'fe80::1 is a link-local address'],
    ['fc00::1', 'fc00::1 is a unique-local address'],
    ['fd12:3456::1', 'fd12:3456::1 is a unique-local address'],
    ['100.64.0.1', '100.64.0.1 is a carrier-grade NAT (100.64.0.0/10) address'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1 is IPv4-mapped 10.0.0.1, a private address'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1 is IPv4-mapped 127.0.0.1, a loopback address'],
    ['64:ff9b::a9fe:a9fe', '64:ff9b::a9fe:a9fe is NAT64 for 169.254.169.254, a link-local address'],
    ['0.0.0.0', '0.0.0.0 is an unspecified address'],
    ['::', ':: is an unspecified address'],
    ['224.0.0.1', '224.0.0.1 is a multicast address'],
    ['ff02::1', 'ff02::1 is a multicast address'],
    ['255.255.255.255', '255.255.255.255 is a broadcast address'],
    ['240.0.0.1', '240.0.0.1 is a reserved address'],
    ['192.0.2.1', '192.0.2.1 is a reserved address'],
    ['2002:a00:1::1', '2002:a00:1::1 is a 6to4 address'],
    ['::7f00:1', '::7f00:1 is a non-global IPv6 (outside 2000::/3) address'],
  ])('%s is refused in AWS stages', async (address, reason) => {
    expect(await checkTarget('https://hooks.example.com/in', aws(resolvesTo(address)))).toEqual({ kind: 'refused', reason });
  });

  test('one private address among public ones refuses the host (no choosing the bad one later)', async () => {
    const target = await checkTarget('https://hooks.example.com/in', aws(resolvesTo('93.184.215.14', '10.0.0.5')));
    expect(target).toEqual({ kind: 'refused', reason: '10.0.0.5 is a private address' });
  });

  test('an IP literal is checked like a resolved name', async () => {
    expect(await checkTarget('https://[::1]:8443/in', { local: false })).toEqual({ kind: 'refused', reason: '::1 is a loopback address' });
    expect(await checkTarget('https://169.254.169.254/latest/meta-data', { local: false })).toEqual({
      kind: 'refused',
      reason: '169.254.169.254 is a link-local address',
    });
    // The WHATWG URL parser turns this into 127.0.0.1 before anything resolves it.
    expect(await checkTarget('https://2130706433/', { local: false })).toEqual({
      kind: 'refused',
      reason: '127.0.0.1 is a loopback address',
    });
  });

  test('locally, http and loopback are allowed, other private addresses still are not', async () => {
    const local = (lookup: HostLookup) => ({ local: true, lookup });
    expect(await checkTarget('http://127.0.0.1:4500/webhooks', { local: true })).toMatchObject({ kind: 'allowed', address: '127.0.0.1' });
    expect(await checkTarget('http://localhost:4500/', local(resolvesTo('::1', '127.0.0.1')))).toMatchObject({
      kind: 'allowed',
      address: '::1',
    });
    expect(await checkTarget('http://printer.lan/', local(resolvesTo('192.168.1.20')))).toEqual({
      kind: 'refused',
      reason: '192.168.1.20 is a private address',
    });
    expect(await checkTarget('ftp://127.0.0.1/', { local: true })).toMatchObject({ kind: 'refused' });
  });

  test('a name that does not resolve is worth a retry, not a refusal', async () => {
    const failing: HostLookup = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND hooks.example.com'), { code: 'ENOTFOUND' });
    };
    expect(await checkTarget('https://hooks.example.com/in', aws(failing))).toEqual({
      kind: 'unresolved',
      reason: 'the host does not resolve (ENOTFOUND)',
    });
  });

  test('the address rule alone', () => {
    expect(problemOfAddress('8.8.8.8', { local: false })).toBeUndefined();
    expect(problemOfAddress('::ffff:8.8.8.8', { local: false })).toBeUndefined();
    expect(problemOfAddress('64:ff9b::808:808', { local: false })).toBeUndefined();
    expect(problemOfAddress('not-an-address', { local: false })).toBe('not-an-address is not an IP address');
  });
});

describe('delivering, before anything is sent', () => {
  const subscription = { url: 'https://hooks.example.com/in', secrets: [OLD_SECRET] };

  test('an event over 256 KiB is refused without a lookup', async () => {
    const lookup = jest.fn();
    const big = { ...event, data: { ...event.data, customer: { note: 'x'.repeat(MAX_EVENT_BYTES) } } };
    expect(await deliverWebhook({ subscription, event: big, policy: { local: false, lookup } })).toEqual({
      outcome: 'refused',
      reason: expect.stringMatching(/^the event is \d+ bytes, more than 262144$/),
    });
    expect(lookup).not.toHaveBeenCalled();
  });

  test('a host that resolves to a private address is refused', async () => {
    const lookup: HostLookup = async () => [{ address: '10.0.0.1', family: 4 }];
    expect(await deliverWebhook({ subscription, event, policy: { local: false, lookup } })).toEqual({
      outcome: 'refused',
      reason: '10.0.0.1 is a private address',
    });
  });

  test('a lookup that hangs is a retry once the timeout has passed', async () => {
    const lookup: HostLookup = () => new Promise(() => undefined);
    expect(await deliverWebhook({ subscription, event, policy: { local: false, lookup }, timeoutMs: 50 })).toEqual({
      outcome: 'retry',
      reason: 'the host did not resolve within 50 ms',
    });
  });
});

describe('the sender, for messages it does not send', () => {
  const subscriptionOf = (changes: Partial<WebhookSubscription> = {}): WebhookSubscription => ({
    id: 'crm',
    url: 'https://hooks.example.com/in',
    events: ['customer.created'],
    secrets: [OLD_SECRET],
    ...changes,
  });
  const message = (changes: Partial<CustomerEvent> = {}, receiveCount = 1) => ({
    id: `m-${receiveCount}`,
    body: { orgId: 100, subscriptionId: 'crm', event: { ...event, ...changes } } satisfies WebhookDelivery,
    receiveCount,
  });
  const ports = (subscription: WebhookSubscription | undefined, changes: Partial<SenderPorts> = {}): SenderPorts => ({
    subscription: jest.fn(async () => subscription),
    isDisabled: jest.fn(async () => false),
    disable: jest.fn(async () => undefined),
    delay: jest.fn(async () => undefined),
    deadLetter: jest.fn(async () => undefined),
    // Resolves to a private address: anything that got as far as sending would be refused.
    policy: { local: false, lookup: async () => [{ address: '10.0.0.1', family: 4 }] },
    ...changes,
  });

  test.each([
    ['a subscription the org does not have (any more)', undefined, {}, 'the org has no such subscription'],
    ['an import event, without includeImports', subscriptionOf(), { origin: 'import' as const }, 'import events are not sent'],
    ['an event type not subscribed to', subscriptionOf(), { type: 'customer.erased' as const }, 'not subscribed to customer.erased'],
  ])('skips %s: not a failure', async (_label, subscription, changes, reason) => {
    const given = ports(subscription);
    const result = await sendDeliveries([message(changes)], given);
    expect(result).toEqual({ batchItemFailures: [], outcomes: [expect.objectContaining({ outcome: 'skipped', reason })] });
    expect(given.delay).not.toHaveBeenCalled();
  });

  test('skips a disabled subscription, reading its mark once per batch', async () => {
    const given = ports(subscriptionOf(), { isDisabled: jest.fn(async () => true) });
    const result = await sendDeliveries([message({}, 1), message({}, 2)], given);
    expect(result.outcomes.map((o) => [o.outcome, o.reason])).toEqual([
      ['skipped', 'the subscription is disabled (410)'],
      ['skipped', 'the subscription is disabled (410)'],
    ]);
    expect(given.isDisabled).toHaveBeenCalledTimes(1);
  });

  test('an import event goes on with includeImports (here as far as the target check)', async () => {
    const result = await sendDeliveries([message({ origin: 'import' })], ports(subscriptionOf({ includeImports: true })));
    expect(result.outcomes[0]).toMatchObject({ outcome: 'refused', reason: '10.0.0.1 is a private address' });
    expect(result.batchItemFailures).toEqual([]);
  });

  test('a message that is no delivery is reported without a delay, so that it ends in the dead-letter queue', async () => {
    const given = ports(subscriptionOf());
    const result = await sendDeliveries([{ id: 'junk', body: undefined as never, receiveCount: 1 }], given);
    expect(result).toEqual({
      batchItemFailures: [{ itemIdentifier: 'junk' }],
      outcomes: [expect.objectContaining({ outcome: 'malformed' })],
    });
    expect(given.delay).not.toHaveBeenCalled();
  });

  test('a configuration that cannot be read is a retry on the schedule', async () => {
    const given = ports(undefined, {
      subscription: async () => {
        throw new Error('the customer table is unavailable');
      },
    });
    const result = await sendDeliveries([message({}, 3)], given);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-3' }]);
    expect(result.outcomes[0]).toMatchObject({ outcome: 'retry', attempt: 3, delaySeconds: 1800 });
    expect(given.delay).toHaveBeenCalledWith('m-3', 1800);
  });

  const unreadable = () => ({
    subscription: async () => {
      throw new Error('the customer table is unavailable');
    },
  });

  test(`the ${ATTEMPTS}th failed attempt moves the message to the dead-letter queue itself: it is done, not reported`, async () => {
    const given = ports(undefined, unreadable());
    const last = message({}, ATTEMPTS);
    const result = await sendDeliveries([last], given);
    expect(result.batchItemFailures).toEqual([]);
    expect(given.deadLetter).toHaveBeenCalledWith(last, 'the sender failed: the customer table is unavailable');
    expect(result.outcomes[0]).toMatchObject({ outcome: 'given-up', attempt: ATTEMPTS });
    expect(result.outcomes[0].reason).toBe('the sender failed: the customer table is unavailable; the last attempt: given up');
    expect(given.delay).not.toHaveBeenCalled();
  });

  test("a receive in the queue's slack (after a receive that never became an attempt) is a last attempt too", async () => {
    const given = ports(undefined, unreadable());
    const result = await sendDeliveries([message({}, ATTEMPTS + 2)], given);
    expect(result.batchItemFailures).toEqual([]);
    expect(given.deadLetter).toHaveBeenCalledTimes(1);
  });

  test("when the move fails, the message is reported without a delay: the queue's redrive moves it within its slack", async () => {
    const given = ports(undefined, {
      ...unreadable(),
      deadLetter: jest.fn(async () => {
        throw new Error('SQS is unavailable');
      }),
    });
    const result = await sendDeliveries([message({}, ATTEMPTS)], given);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: `m-${ATTEMPTS}` }]);
    expect(result.outcomes[0]).toMatchObject({ outcome: 'retry', attempt: ATTEMPTS });
    expect(result.outcomes[0].delaySeconds).toBeUndefined();
    expect(result.outcomes[0].reason).toMatch(/; the last attempt: moving it to the dead-letter queue failed \(SQS is unavailable\)/);
    expect(given.delay).not.toHaveBeenCalled();
  });

  test(`attempt ${ATTEMPTS - 1} is still delayed by the schedule, and nothing is dead-lettered`, async () => {
    const given = ports(undefined, unreadable());
    const result = await sendDeliveries([message({}, ATTEMPTS - 1)], given);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: `m-${ATTEMPTS - 1}` }]);
    expect(given.delay).toHaveBeenCalledWith(`m-${ATTEMPTS - 1}`, retryDelaySeconds(ATTEMPTS - 1));
    expect(given.deadLetter).not.toHaveBeenCalled();
  });

  test(`a ${ATTEMPTS}th attempt that does not fail (skipped, refused) is done without the dead-letter queue`, async () => {
    const given = ports(subscriptionOf());
    const result = await sendDeliveries([message({}, ATTEMPTS), message({ type: 'customer.erased' }, ATTEMPTS + 1)], given);
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['refused', 'skipped']);
    expect(result.batchItemFailures).toEqual([]);
    expect(given.deadLetter).not.toHaveBeenCalled();
  });
});
