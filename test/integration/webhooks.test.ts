import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import type { SQSEvent } from 'aws-lambda';
import type { CustomerEvent, WebhookDelivery } from '../../lib/events/event';
import type { OrgFile, WebhookSubscription } from '../../lib/org';
import { saveOrg } from '../../lib/store/orgs';
import { Entity, keys } from '../../lib/store/keys';
import { deliverNow } from '../../lib/api/deliverWebhooks';
import { deliverWebhook } from '../../lib/webhooks/deliver';
import { storePorts } from '../../lib/webhooks/ports';
import { ATTEMPTS, retryDelaySeconds } from '../../lib/webhooks/schedule';
import { sendDeliveries, type QueuedDelivery, type SenderPorts } from '../../lib/webhooks/sender';
import { sendSqsBatch } from '../../lib/webhooks/sqs';
import type { HostLookup } from '../../lib/webhooks/target';
import { freePort } from '../../scripts/dynamodbLocal';
import { DEMO_ORGS_FILE } from '../../scripts/loadOrgs';
import { captureStdoutLines } from '../support/logLines';
import { allItems, useDemoTable } from '../support/table';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Webhook delivery as a brand's receiver meets it (SPEC section 10), against receivers on free
// ports of 127.0.0.1 started by this file, with the subscriptions read from the table of
// DynamoDB Local: signed deliveries that the receiver's own check verifies, retries on the
// schedule with the same webhook-id, 410 disabling the subscription, no redirects, a timeout,
// a target the AWS policy refuses, a secret rotation, and the events a subscription does not take.

useDemoTable();

beforeAll(() => {
  // Reloaded org files are seen at once, as by a new instance.
  process.env.CONFIG_CACHE_SECONDS = '0';
});
afterAll(() => {
  delete process.env.CONFIG_CACHE_SECONDS;
});

const secret = (fill: number) => `whsec_${Buffer.alloc(32, fill).toString('base64')}`;
const OLD_SECRET = secret(11);
const NEW_SECRET = secret(12);
const LOCAL = { local: true };

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Whether the receiver's own check (standardwebhooks' verify with its secret) passed. */
  verified: boolean;
}

type Answer = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

interface Receiver {
  url: string;
  port: number;
  received: Received[];
  answer: (count: number) => Answer;
  stop(): Promise<void>;
}

const receivers: Receiver[] = [];

/** A receiver on 127.0.0.1 that verifies each request with `knows` and answers as told. */
async function startReceiver(knows: string = OLD_SECRET, answer: (count: number) => Answer = () => ({ status: 200 })): Promise<Receiver> {
  const port = await freePort();
  const received: Received[] = [];
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hooks/in?brand=example`,
    port,
    received,
    answer,
    stop: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
  const server: Server = createServer((req, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk) => (body += String(chunk)));
    req.on('end', () => {
      let verified = true;
      try {
        new Webhook(knows).verify(body, req.headers as Record<string, string>);
      } catch {
        verified = false;
      }
      received.push({ path: req.url ?? '', headers: req.headers, body, verified });
      const reply = receiver.answer(received.length);
      if (reply === 'hang') return;
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  receivers.push(receiver);
  return receiver;
}

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

let sequence = 0;
function eventOf(changes: Partial<CustomerEvent> = {}): CustomerEvent {
  sequence += 1;
  return {
    id: `evt_test_${sequence}`,
    type: 'customer.created',
    version: 1,
    orgId: 100,
    customerId: 1000 + sequence,
    occurredAt: new Date().toISOString(),
    origin: 'api',
    sequence: 1,
    data: { sourceAccounts: ['INSTORE'], identifierTypes: ['mobile'] },
    ...changes,
  };
}

const subscriptionAt = (url: string, changes: Partial<WebhookSubscription> = {}): WebhookSubscription => ({
  id: 'crm',
  url,
  events: ['customer.created', 'customer.updated'],
  secrets: [OLD_SECRET],
  ...changes,
});

/** Org 100 of the demo file with these subscriptions, loaded into this file's table. */
async function loadOrg100With(...webhooks: WebhookSubscription[]): Promise<void> {
  const demo = (JSON.parse(readFileSync(DEMO_ORGS_FILE, 'utf8')) as OrgFile[]).find((org) => org.orgId === 100)!;
  await saveOrg({ ...demo, webhooks });
}

const queued = (event: CustomerEvent, receiveCount = 1, subscriptionId = 'crm'): QueuedDelivery => ({
  id: `msg-${event.id}-${receiveCount}`,
  body: { orgId: event.orgId, subscriptionId, event } satisfies WebhookDelivery,
  receiveCount,
});

/** The sender's ports over this file's table, with the delays and the moves to the dead-letter queue it asks for recorded. */
function tablePorts(changes: Partial<SenderPorts> = {}): SenderPorts & { delays: [string, number][]; deadLettered: [string, string][] } {
  const delays: [string, number][] = [];
  const deadLettered: [string, string][] = [];
  return {
    ...storePorts(),
    delay: async (messageId, seconds) => {
      delays.push([messageId, seconds]);
    },
    deadLetter: async (message, reason) => {
      deadLettered.push([message.id, reason]);
    },
    policy: LOCAL,
    delays,
    deadLettered,
    ...changes,
  };
}

describe('a delivery', () => {
  test('is POSTed as the event JSON with Standard Webhooks headers that the receiver verifies', async () => {
    const receiver = await startReceiver();
    const event = eventOf();
    const result = await deliverWebhook({ subscription: subscriptionAt(receiver.url), event, policy: LOCAL });
    expect(result).toEqual({ outcome: 'delivered', status: 200 });
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request.verified).toBe(true);
    expect(JSON.parse(request.body)).toEqual(event);
    expect(request.path).toBe('/hooks/in?brand=example');
    expect(request.headers).toMatchObject({
      'webhook-id': event.id,
      'webhook-timestamp': expect.stringMatching(/^\d{10}$/),
      'webhook-signature': expect.stringMatching(/^v1,\S+$/),
      'content-type': 'application/json',
      'user-agent': 'loyalty-customers-webhooks/1',
      host: `127.0.0.1:${receiver.port}`,
    });
    expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
  });

  test("goes to the address checked, with the URL's host as Host, whatever the name resolves to later (no DNS rebinding)", async () => {
    const receiver = await startReceiver();
    const answers = ['127.0.0.1', '10.0.0.1'];
    const lookup = jest.fn<ReturnType<HostLookup>, Parameters<HostLookup>>(async () => [
      { address: answers.shift() ?? '10.0.0.1', family: 4 },
    ]);
    const url = `http://hooks.brand.test:${receiver.port}/in`;
    const result = await deliverWebhook({ subscription: subscriptionAt(url), event: eventOf(), policy: { local: true, lookup } });
    expect(result).toEqual({ outcome: 'delivered', status: 200 });
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(receiver.received[0].headers.host).toBe(`hooks.brand.test:${receiver.port}`);
  });

  // A process of its own, which trusts a certificate made here for hooks.brand.test (Node reads
  // NODE_EXTRA_CA_CERTS at start only); skipped where openssl is missing.
  const openssl = spawnSync('openssl', ['version']).status === 0;
  (openssl ? test : test.skip)(
    "over https, to the pinned address: the TLS server name and the certificate check are the URL's host",
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'webhook-tls-'));
      const made = spawnSync('openssl', [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=hooks.brand.test'],
        ...['-addext', 'subjectAltName=DNS:hooks.brand.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      ]);
      expect(made.status).toBe(0);
      const script = join(dir, 'tls.ts');
      writeFileSync(
        script,
        `
        import { createServer } from 'node:https';
        import { readFileSync } from 'node:fs';
        import { deliverWebhook } from ${JSON.stringify(join(__dirname, '..', '..', 'lib', 'webhooks', 'deliver'))};
        const tls = { key: readFileSync(${JSON.stringify(join(dir, 'key.pem'))}), cert: readFileSync(${JSON.stringify(join(dir, 'cert.pem'))}) };
        const seen: string[] = [];
        const server = createServer(tls, (req, res) => {
          seen.push(\`\${req.headers.host} \${(req.socket as { servername?: string }).servername}\`);
          res.writeHead(204).end();
        });
        server.listen(0, '127.0.0.1', async () => {
          const port = (server.address() as { port: number }).port;
          const event = ${JSON.stringify(eventOf())};
          const policy = { local: true, lookup: async () => [{ address: '127.0.0.1', family: 4 }] };
          const secrets = [${JSON.stringify(OLD_SECRET)}];
          const results = [];
          for (const host of ['hooks.brand.test', 'other.brand.test']) {
            results.push(await deliverWebhook({ subscription: { url: \`https://\${host}:\${port}/in\`, secrets }, event, policy }));
          }
          console.log(JSON.stringify({ results, seen: seen.map((s) => s.replace(String(port), 'PORT')) }));
          server.close();
        });
        `,
      );
      const run = spawnSync(process.execPath, [require.resolve('tsx/cli'), script], {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') },
        encoding: 'utf8',
        timeout: 20_000,
      });
      rmSync(dir, { recursive: true, force: true });
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual({
        results: [
          { outcome: 'delivered', status: 204 },
          { outcome: 'retry', reason: expect.stringContaining("does not match certificate's altnames") },
        ],
        seen: ['hooks.brand.test:PORT hooks.brand.test'],
      });
    },
    30_000,
  );

  test('reads at most 64 KiB of a long answer, then drops it: the status is what counts', async () => {
    const receiver = await startReceiver(OLD_SECRET, () => ({ status: 202, body: 'x'.repeat(1024 * 1024) }));
    expect(await deliverWebhook({ subscription: subscriptionAt(receiver.url), event: eventOf(), policy: LOCAL })).toEqual({
      outcome: 'delivered',
      status: 202,
    });
  });

  test('during a secret rotation verifies at a receiver that knows only the old secret and at one that knows only the new', async () => {
    const knowsOld = await startReceiver(OLD_SECRET);
    const knowsNew = await startReceiver(NEW_SECRET);
    const event = eventOf();
    for (const receiver of [knowsOld, knowsNew]) {
      const rotating = subscriptionAt(receiver.url, { secrets: [NEW_SECRET, OLD_SECRET] });
      expect(await deliverWebhook({ subscription: rotating, event, policy: LOCAL })).toMatchObject({ outcome: 'delivered' });
    }
    expect([...knowsOld.received, ...knowsNew.received].map((r) => r.verified)).toEqual([true, true]);
    expect(String(knowsOld.received[0].headers['webhook-signature']).split(' ')).toHaveLength(2);
    // Once the old secret is gone, the receiver that has not switched refuses the delivery.
    await deliverWebhook({ subscription: subscriptionAt(knowsOld.url, { secrets: [NEW_SECRET] }), event, policy: LOCAL });
    expect(knowsOld.received[1].verified).toBe(false);
  });

  test('does not follow a redirect: a 3xx is a retry, and the place it points to gets nothing', async () => {
    const elsewhere = await startReceiver();
    const receiver = await startReceiver(OLD_SECRET, () => ({ status: 307, headers: { location: elsewhere.url } }));
    expect(await deliverWebhook({ subscription: subscriptionAt(receiver.url), event: eventOf(), policy: LOCAL })).toEqual({
      outcome: 'retry',
      status: 307,
      reason: 'the receiver answered 307: redirects are not followed',
    });
    expect(elsewhere.received).toEqual([]);
  });

  test('that gets no answer within the timeout is a retry', async () => {
    const receiver = await startReceiver(OLD_SECRET, () => 'hang');
    const started = Date.now();
    expect(await deliverWebhook({ subscription: subscriptionAt(receiver.url), event: eventOf(), policy: LOCAL, timeoutMs: 300 })).toEqual({
      outcome: 'retry',
      reason: 'no answer within 300 ms',
    });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(receiver.received).toHaveLength(1);
  });

  test('to a port nobody listens on is a retry', async () => {
    const port = await freePort();
    expect(await deliverWebhook({ subscription: subscriptionAt(`http://127.0.0.1:${port}/`), event: eventOf(), policy: LOCAL })).toEqual({
      outcome: 'retry',
      reason: expect.stringContaining('ECONNREFUSED'),
    });
  });

  test.each([400, 404, 429, 500, 503])('answered %i is a retry', async (status) => {
    const receiver = await startReceiver(OLD_SECRET, () => ({ status }));
    expect(await deliverWebhook({ subscription: subscriptionAt(receiver.url), event: eventOf(), policy: LOCAL })).toEqual({
      outcome: 'retry',
      status,
      reason: `the receiver answered ${status}`,
    });
  });

  test('to a loopback http URL under the AWS policy is refused, and nothing is sent', async () => {
    const receiver = await startReceiver();
    expect(await deliverWebhook({ subscription: subscriptionAt(receiver.url), event: eventOf(), policy: { local: false } })).toEqual({
      outcome: 'refused',
      reason: 'only https URLs are sent to in AWS stages',
    });
    const https = subscriptionAt(`https://127.0.0.1:${receiver.port}/in`);
    expect(await deliverWebhook({ subscription: https, event: eventOf(), policy: { local: false } })).toEqual({
      outcome: 'refused',
      reason: '127.0.0.1 is a loopback address',
    });
    expect(receiver.received).toEqual([]);
  });
});

describe('the sender, with subscriptions from the org configuration in the table', () => {
  test('a receiver that fails and then succeeds: the retry waits by the schedule and comes with the same webhook-id, signed again', async () => {
    const receiver = await startReceiver(OLD_SECRET, (count) => ({ status: count === 1 ? 503 : 200 }));
    await loadOrg100With(subscriptionAt(receiver.url));
    const ports = tablePorts();
    const event = eventOf();
    const first = await sendDeliveries([queued(event, 1)], ports);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: `msg-${event.id}-1` }]);
    expect(first.outcomes[0]).toMatchObject({ outcome: 'retry', status: 503, attempt: 1, delaySeconds: retryDelaySeconds(1) });
    expect(ports.delays).toEqual([[`msg-${event.id}-1`, 60]]);

    const second = await sendDeliveries([queued(event, 2)], ports);
    expect(second).toEqual({
      batchItemFailures: [],
      outcomes: [expect.objectContaining({ outcome: 'delivered', status: 200, attempt: 2 })],
    });
    expect(receiver.received.map((r) => [r.headers['webhook-id'], r.verified, r.body])).toEqual([
      [event.id, true, JSON.stringify(event)],
      [event.id, true, JSON.stringify(event)],
    ]);
  });

  test('410 disables the subscription: the next delivery is skipped, loading the same file again does not enable it, a new url does', async () => {
    const receiver = await startReceiver(OLD_SECRET, () => ({ status: 410 }));
    await loadOrg100With(subscriptionAt(receiver.url));
    const ports = tablePorts();
    const gone = await sendDeliveries([queued(eventOf())], ports);
    expect(gone).toEqual({ batchItemFailures: [], outcomes: [expect.objectContaining({ outcome: 'gone', status: 410 })] });
    const mark = (await allItems()).find((item) => item.pk === keys.webhookSubscription(100, 'crm').pk);
    expect(mark).toMatchObject({
      entity: Entity.webhookSubscription,
      url: receiver.url,
      reason: 'the receiver answered 410 Gone',
      disabledAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });

    const skipped = await sendDeliveries([queued(eventOf())], ports);
    expect(skipped.outcomes[0]).toMatchObject({ outcome: 'skipped', reason: 'the subscription is disabled (410)' });
    await loadOrg100With(subscriptionAt(receiver.url));
    expect((await sendDeliveries([queued(eventOf())], ports)).outcomes[0]).toMatchObject({ outcome: 'skipped' });
    expect(receiver.received).toHaveLength(1);

    const moved = await startReceiver();
    await loadOrg100With(subscriptionAt(moved.url));
    expect((await sendDeliveries([queued(eventOf())], ports)).outcomes[0]).toMatchObject({ outcome: 'delivered' });
    expect(moved.received).toHaveLength(1);
  });

  test('a 410 in a batch skips the later messages of the same subscription in that batch', async () => {
    const receiver = await startReceiver(OLD_SECRET, () => ({ status: 410 }));
    await loadOrg100With(subscriptionAt(receiver.url, { id: 'batch-gone' }));
    const ports = tablePorts();
    await sendDeliveries([queued(eventOf(), 1, 'batch-gone')], ports);
    const result = await sendDeliveries([queued(eventOf(), 1, 'batch-gone'), queued(eventOf(), 1, 'batch-gone')], ports);
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['skipped', 'skipped']);
    expect(receiver.received).toHaveLength(1);
  });

  test('import events are not sent without includeImports, and are with it', async () => {
    const receiver = await startReceiver();
    await loadOrg100With(subscriptionAt(receiver.url), subscriptionAt(receiver.url, { id: 'with-imports', includeImports: true }));
    const ports = tablePorts();
    const event = eventOf({ origin: 'import' });
    const result = await sendDeliveries([queued(event, 1, 'crm'), queued(event, 1, 'with-imports')], ports);
    expect(result.outcomes.map((o) => [o.subscriptionId, o.outcome, o.reason])).toEqual([
      ['crm', 'skipped', 'import events are not sent'],
      ['with-imports', 'delivered', undefined],
    ]);
    expect(receiver.received).toHaveLength(1);
  });

  test('an event type the subscription does not take is skipped, and nothing is sent', async () => {
    const receiver = await startReceiver();
    await loadOrg100With(subscriptionAt(receiver.url));
    const result = await sendDeliveries([queued(eventOf({ type: 'customer.erased' }))], tablePorts());
    expect(result).toEqual({
      batchItemFailures: [],
      outcomes: [expect.objectContaining({ outcome: 'skipped', reason: 'not subscribed to customer.erased' })],
    });
    expect(receiver.received).toEqual([]);
  });

  test('a subscription removed from the org file is skipped', async () => {
    await loadOrg100With();
    const result = await sendDeliveries([queued(eventOf())], tablePorts());
    expect(result.outcomes[0]).toMatchObject({ outcome: 'skipped', reason: 'the org has no such subscription' });
  });

  test('under the AWS policy a loopback receiver is refused: not retried, and it gets nothing', async () => {
    const receiver = await startReceiver();
    await loadOrg100With(subscriptionAt(receiver.url));
    const ports = tablePorts({ policy: { local: false } });
    const result = await sendDeliveries([queued(eventOf())], ports);
    expect(result).toEqual({ batchItemFailures: [], outcomes: [expect.objectContaining({ outcome: 'refused' })] });
    expect(ports.delays).toEqual([]);
    expect(receiver.received).toEqual([]);
  });

  test('logs one line per delivery with the org, subscription, event, outcome, status, attempt and time, never a secret, the URL or the body', async () => {
    const receiver = await startReceiver(OLD_SECRET, (count) => ({ status: count === 1 ? 500 : 200 }));
    await loadOrg100With(subscriptionAt(receiver.url));
    const event = eventOf();
    const lines = await captureStdoutLines(() =>
      sendDeliveries([queued(event, 4), queued(eventOf({ type: 'customer.merged' }))], tablePorts()),
    );
    const webhookLines = lines.filter((line) => line.message === 'webhook');
    expect(webhookLines).toHaveLength(2);
    expect(webhookLines).toContainEqual(
      expect.objectContaining({
        level: 'INFO',
        orgId: 100,
        subscriptionId: 'crm',
        eventId: event.id,
        type: 'customer.created',
        outcome: 'retry',
        status: 500,
        attempt: 4,
        delaySeconds: 7200,
        ms: expect.any(Number),
      }),
    );
    const text = JSON.stringify(lines);
    expect(text).not.toContain(OLD_SECRET.slice(6));
    expect(text).not.toContain(receiver.url);
    expect(text).not.toContain('identifierTypes');
  });
});

describe('the SQS worker', () => {
  const QUEUES = { queueUrl: 'https://sqs.test/queue', deadLetterQueueUrl: 'https://sqs.test/dead-letter' };
  const record = (body: string, messageId: string, receiveCount: number) => ({
    messageId,
    receiptHandle: `receipt-of-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: String(receiveCount) },
  });

  test('delays a failed message by its visibility and answers the partial batch response', async () => {
    const receiver = await startReceiver(OLD_SECRET, (count) => ({ status: count === 1 ? 500 : 200 }));
    await loadOrg100With(subscriptionAt(receiver.url));
    const sent: unknown[] = [];
    const sqs = { send: jest.fn(async (command: { input: unknown }) => void sent.push(command.input)) };
    const failing = eventOf();
    const event = {
      Records: [
        record(JSON.stringify(queued(failing).body), 'm-1', 2),
        record('{"not": "a delivery"', 'm-2', 1),
        record(JSON.stringify(queued(eventOf({ type: 'customer.erased' })).body), 'm-3', 1),
      ],
    } as unknown as SQSEvent;
    const answer = await sendSqsBatch(event, { ...storePorts(), policy: LOCAL }, QUEUES, sqs as never);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }] });
    expect(sent).toEqual([
      { QueueUrl: 'https://sqs.test/queue', ReceiptHandle: 'receipt-of-m-1', VisibilityTimeout: retryDelaySeconds(2) },
    ]);
  });

  test('without its queue URL refuses the batch whole, before sending anything', async () => {
    const receiver = await startReceiver();
    await loadOrg100With(subscriptionAt(receiver.url));
    const event = { Records: [record(JSON.stringify(queued(eventOf()).body), 'm-1', 1)] } as unknown as SQSEvent;
    await expect(
      sendSqsBatch(event, { ...storePorts(), policy: LOCAL }, { queueUrl: undefined, deadLetterQueueUrl: QUEUES.deadLetterQueueUrl }),
    ).rejects.toThrow('WEBHOOK_QUEUE_URL is not set');
    expect(receiver.received).toEqual([]);
  });

  test(`moves a message whose ${ATTEMPTS}th attempt failed to the dead-letter queue itself: the same body, its attempts and last reason; then it is done`, async () => {
    const receiver = await startReceiver(OLD_SECRET, () => ({ status: 503 }));
    await loadOrg100With(subscriptionAt(receiver.url));
    const sent: { constructor: { name: string }; input: unknown }[] = [];
    const sqs = { send: jest.fn(async (command: (typeof sent)[number]) => void sent.push(command)) };
    const body = JSON.stringify(queued(eventOf()).body);
    const event = { Records: [record(body, 'm-last', ATTEMPTS)] } as unknown as SQSEvent;
    const answer = await sendSqsBatch(event, { ...storePorts(), policy: LOCAL }, QUEUES, sqs as never);
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(receiver.received).toHaveLength(1);
    expect(sent.map((command) => [command.constructor.name, command.input])).toEqual([
      [
        'SendMessageCommand',
        {
          QueueUrl: QUEUES.deadLetterQueueUrl,
          MessageBody: body,
          MessageAttributes: {
            attempts: { DataType: 'Number', StringValue: String(ATTEMPTS) },
            lastReason: { DataType: 'String', StringValue: 'the receiver answered 503' },
          },
        },
      ],
    ]);
  });

  test("when the dead-letter queue cannot be sent to, reports the message without a delay, for the queue's redrive", async () => {
    const receiver = await startReceiver(OLD_SECRET, () => ({ status: 503 }));
    await loadOrg100With(subscriptionAt(receiver.url));
    const sqs = {
      send: jest.fn(async () => {
        throw new Error('Access to the resource is denied');
      }),
    };
    const event = { Records: [record(JSON.stringify(queued(eventOf()).body), 'm-last', ATTEMPTS)] } as unknown as SQSEvent;
    const answer = await sendSqsBatch(event, { ...storePorts(), policy: LOCAL }, QUEUES, sqs as never);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-last' }] });
    // The one call was the move; no ChangeMessageVisibility: the message comes back after the queue's timeout.
    expect(sqs.send).toHaveBeenCalledTimes(1);
  });

  test('without a dead-letter queue URL, a last attempt that fails is reported without a delay, as before the sender moved messages', async () => {
    const receiver = await startReceiver(OLD_SECRET, () => ({ status: 503 }));
    await loadOrg100With(subscriptionAt(receiver.url));
    const sqs = { send: jest.fn(async () => undefined) };
    const event = { Records: [record(JSON.stringify(queued(eventOf()).body), 'm-last', ATTEMPTS)] } as unknown as SQSEvent;
    const answer = await sendSqsBatch(event, { ...storePorts(), policy: LOCAL }, { queueUrl: QUEUES.queueUrl }, sqs as never);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-last' }] });
    expect(sqs.send).not.toHaveBeenCalled();
  });

  test(`a ${ATTEMPTS}th attempt that succeeds is delivered, and nothing goes to the dead-letter queue`, async () => {
    const receiver = await startReceiver();
    await loadOrg100With(subscriptionAt(receiver.url));
    const sqs = { send: jest.fn(async () => undefined) };
    const event = { Records: [record(JSON.stringify(queued(eventOf()).body), 'm-last', ATTEMPTS)] } as unknown as SQSEvent;
    const answer = await sendSqsBatch(event, { ...storePorts(), policy: LOCAL }, QUEUES, sqs as never);
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(receiver.received).toHaveLength(1);
    expect(sqs.send).not.toHaveBeenCalled();
  });
});

describe('the local stage, without a queue', () => {
  beforeAll(() => {
    process.env.STAGE_IS_LOCAL = 'true';
  });
  afterAll(() => {
    delete process.env.STAGE_IS_LOCAL;
  });

  test('a last attempt that fails is given up with one log line, without a secret, the URL or the body, and not tried again', async () => {
    const receiver = await startReceiver(OLD_SECRET, () => ({ status: 503 }));
    await loadOrg100With(subscriptionAt(receiver.url));
    const event = eventOf();
    let again: WebhookDelivery[] = [];
    // Warnings go to stderr: both streams, as the function's log has them.
    const stderr: string[] = [];
    const spy = jest
      .spyOn(process.stderr, 'write')
      .mockImplementation(((chunk: string | Uint8Array) => stderr.push(String(chunk)) > 0) as never);
    let lines: Record<string, unknown>[];
    try {
      lines = await captureStdoutLines(async () => {
        again = await deliverNow([{ orgId: 100, subscriptionId: 'crm', event }], ATTEMPTS);
      });
    } finally {
      spy.mockRestore();
    }
    lines.push(...stderr.flatMap((chunk) => chunk.split('\n').filter((text) => text.startsWith('{'))).map((text) => JSON.parse(text)));
    expect(again).toEqual([]);
    expect(receiver.received).toHaveLength(1);
    const givenUp = lines.filter((line) => line.message === 'webhook given up');
    expect(givenUp).toEqual([
      expect.objectContaining({
        level: 'WARN',
        orgId: 100,
        subscriptionId: 'crm',
        eventId: event.id,
        type: 'customer.created',
        attempts: ATTEMPTS,
        reason: 'the receiver answered 503',
      }),
    ]);
    const text = JSON.stringify(lines);
    expect(text).not.toContain(OLD_SECRET.slice(6));
    expect(text).not.toContain(receiver.url);
    expect(text).not.toContain('identifierTypes');
  });
});
