import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CustomerEvent } from '../../lib/events/event';
import type { OrgFile } from '../../lib/org';
import { deliverWebhook } from '../../lib/webhooks/deliver';
import { freePort, stopProcess } from '../../scripts/dynamodbLocal';

// `npm run webhook-receiver` as a person runs it to watch deliveries (README "Webhooks"): the
// script itself, as a child process (Node with tsx, as the npm script runs it) on a free port of
// 127.0.0.1, receiving what deliverWebhook sends, and stopped by its process id.

const ROOT = join(__dirname, '..', '..');
const TSX_CLI = require.resolve('tsx/cli');
const RECEIVER = join(ROOT, 'scripts', 'webhookReceiver.ts');
const DEMO_SECRET = (JSON.parse(readFileSync(join(ROOT, 'config', 'orgs', 'demo.json'), 'utf8')) as OrgFile[])
  .find((org) => org.orgId === 100)!
  .webhooks!.find((s) => s.id === 'demo-receiver')!.secrets[0];
const OTHER_SECRET = `whsec_${Buffer.alloc(32, 21).toString('base64')}`;
const LOCAL = { local: true };

interface Running {
  child: ChildProcess;
  url: string;
  lines: string[];
  /** Resolves once the receiver has printed `count` lines about deliveries. */
  deliveries(count: number): Promise<string[]>;
  /** The receiver's line number `index` (from 0), once printed. */
  line(index: number): Promise<string>;
}

const running = new Set<ChildProcess>();

afterAll(async () => {
  await Promise.all([...running].map((child) => stopProcess(child)));
});

async function startReceiver(...args: string[]): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, [TSX_CLI, RECEIVER, '--port', String(port), ...args], {
    cwd: ROOT,
    env: withoutLocalStack(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  const lines: string[] = [];
  let buffered = '';
  const waiting: (() => void)[] = [];
  child.stdout!.on('data', (chunk) => {
    buffered += String(chunk);
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    lines.push(...complete);
    waiting.splice(0).forEach((wake) => wake());
  });
  const until = (ready: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`receiver printed only: ${lines.join('\n')}`)), 20_000);
      const check = () => {
        if (ready()) {
          clearTimeout(timer);
          resolve();
        } else waiting.push(check);
      };
      check();
    });
  await until(() => lines.some((line) => line.startsWith('webhook receiver on')));
  const deliveryLines = () => lines.filter((line) => /^\d{4}-\d{2}-\d{2}T/.test(line));
  return {
    child,
    url: `http://127.0.0.1:${port}/webhooks`,
    lines,
    deliveries: async (count) => {
      await until(() => deliveryLines().length >= count);
      return deliveryLines();
    },
    line: async (index) => {
      await until(() => lines.length > index);
      return lines[index];
    },
  };
}

/**
 * A shell with no `npm start` running: no DynamoDB endpoint and an announcement file that does not
 * exist, so that the receiver only listens (and a person's own local stack is left alone).
 */
function withoutLocalStack(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOCAL_STAGE_FILE: join(ROOT, '.local', 'no-such-announcement.json') };
  delete env.DYNAMODB_ENDPOINT;
  return env;
}

let sequence = 0;
function eventOf(changes: Partial<CustomerEvent> = {}): CustomerEvent {
  sequence += 1;
  return {
    id: `evt_receiver_${sequence}`,
    type: 'customer.created',
    version: 1,
    orgId: 100,
    customerId: 500 + sequence,
    occurredAt: new Date().toISOString(),
    origin: 'api',
    sequence: 1,
    data: { sourceAccounts: ['INSTORE'], identifierTypes: ['mobile', 'email'] },
    ...changes,
  };
}

const TIME = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z';

describe('npm run webhook-receiver', () => {
  test('verifies a delivery with the demo subscription secret by default and prints one line for it', async () => {
    const receiver = await startReceiver('--verbose');
    expect(receiver.lines[0]).toMatch(
      /^webhook receiver on http:\/\/127\.0\.0\.1:\d+\/ \(any path\), verifying with 1 secret, answering 200$/,
    );
    const event = eventOf({ type: 'customer.merged', origin: 'bulk' });
    const sent = await deliverWebhook({ subscription: { url: receiver.url, secrets: [DEMO_SECRET] }, event, policy: LOCAL });
    expect(sent).toEqual({ outcome: 'delivered', status: 200 });
    const [line] = await receiver.deliveries(1);
    expect(line).toMatch(
      new RegExp(`^${TIME} ${event.id} customer\\.merged customer ${event.customerId} org 100 origin bulk signature ok answer 200$`),
    );
    expect(receiver.lines).toContain(`  data ${JSON.stringify(event.data)}`);
    await stopProcess(receiver.child);
    expect(receiver.child.exitCode).toBe(0);
  });

  test('without a running `npm start` it says it redirects nothing and only listens', async () => {
    const receiver = await startReceiver();
    expect(await receiver.line(1)).toBe(
      "not redirecting org 100's subscription: the local stage needs DynamoDB Local: start it with `npm start` in another terminal, then run this again",
    );
    await stopProcess(receiver.child);
    expect(receiver.child.exitCode).toBe(0);
  });

  test('with --fail-first 1 answers 500 to the first delivery of each webhook-id, then 200, so that a retry can be watched', async () => {
    const receiver = await startReceiver('--fail-first', '1');
    const subscription = { url: receiver.url, secrets: [DEMO_SECRET] };
    const event = eventOf();
    expect(await deliverWebhook({ subscription, event, policy: LOCAL })).toEqual({
      outcome: 'retry',
      status: 500,
      reason: 'the receiver answered 500',
    });
    expect(await deliverWebhook({ subscription, event, policy: LOCAL })).toEqual({ outcome: 'delivered', status: 200 });
    const other = eventOf();
    expect(await deliverWebhook({ subscription, event: other, policy: LOCAL })).toMatchObject({ outcome: 'retry', status: 500 });
    const lines = await receiver.deliveries(3);
    expect(lines.map((line) => line.split(' ').slice(1, 2).concat(line.split(' ').slice(-3)).join(' '))).toEqual([
      `${event.id} ok answer 500`,
      `${event.id} ok answer 200`,
      `${other.id} ok answer 500`,
    ]);
    await stopProcess(receiver.child);
  });

  test('answers 401 to a delivery signed with a secret it does not know, and says INVALID', async () => {
    const receiver = await startReceiver();
    const event = eventOf();
    const sent = await deliverWebhook({ subscription: { url: receiver.url, secrets: [OTHER_SECRET] }, event, policy: LOCAL });
    expect(sent).toEqual({ outcome: 'retry', status: 401, reason: 'the receiver answered 401' });
    const [line] = await receiver.deliveries(1);
    expect(line).toMatch(
      new RegExp(`^${TIME} ${event.id} customer\\.created customer \\d+ org 100 origin api signature INVALID answer 401$`),
    );
    await stopProcess(receiver.child);
  });

  test('with --answer 410 tells the sender the subscription is gone; with two --secret it verifies either', async () => {
    const receiver = await startReceiver('--answer', '410', '--secret', DEMO_SECRET, '--secret', OTHER_SECRET);
    expect(receiver.lines[0]).toMatch(/verifying with 2 secrets, answering 410$/);
    const sent = await deliverWebhook({ subscription: { url: receiver.url, secrets: [OTHER_SECRET] }, event: eventOf(), policy: LOCAL });
    expect(sent).toMatchObject({ outcome: 'gone', status: 410 });
    expect((await receiver.deliveries(1))[0]).toMatch(/ signature ok answer 410$/);
    await stopProcess(receiver.child);
  });

  test.each([
    [['--answer', '302'], 'webhook-receiver: --answer must be 200, 500 or 410, not 302 (see --help)'],
    [['--port', 'http'], 'webhook-receiver: --port must be a whole number, not "http" (see --help)'],
    [['--fail-first=-1'], 'webhook-receiver: --fail-first must be a whole number, not "-1" (see --help)'],
    [['--secret', 'hunter2'], 'webhook-receiver: --secret must be "whsec_" followed by the base64 of 24 to 64 random bytes (see --help)'],
    [['--colour'], "webhook-receiver: Unknown option '--colour' (see --help)"],
    [
      ['--stage', 'emea'],
      "webhook-receiver: only the local stage's deliveries can be redirected; stage emea delivers where its org file says (see --help)",
    ],
    [
      ['--forward-to', 'ftp://127.0.0.1/x'],
      'webhook-receiver: --forward-to must be an http or https URL, not "ftp://127.0.0.1/x" (see --help)',
    ],
    [
      ['--forward-to', 'http://127.0.0.1:9/x', '--answer', '500'],
      'webhook-receiver: --forward-to receives nothing here: it takes no --answer (see --help)',
    ],
    [['--subscription', 'a b'], 'webhook-receiver: --subscription must be 1 to 64 of A-Z a-z 0-9 _ -, not "a b" (see --help)'],
  ])('refuses %j with one line and exit status 2', (args, message) => {
    const run = spawnSync(process.execPath, [TSX_CLI, RECEIVER, ...args], {
      cwd: ROOT,
      env: withoutLocalStack(),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect({ status: run.status, stderr: run.stderr, stdout: run.stdout }).toEqual({ status: 2, stderr: `${message}\n`, stdout: '' });
  });

  test('--help says how to use it', () => {
    const run = spawnSync(process.execPath, [TSX_CLI, RECEIVER, '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run webhook-receiver -- \[options\]/);
    expect(run.stdout).toContain('--fail-first <n>');
    expect(run.stdout).toContain('--forward-to <url>');
  });
});
