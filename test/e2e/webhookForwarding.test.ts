import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import type { OrgFile } from '../../lib/org';
import { holdLocalTarget, localTarget, releaseLocalTarget } from '../../lib/store/webhookSubscriptions';
import { storePorts } from '../../lib/webhooks/ports';
import { freePort, stopProcess } from '../../scripts/dynamodbLocal';
import { uniqueMobile } from '../support/customers';
import { basicAuth, TILLS } from '../support/http';
import { LOCAL_TABLE, prepareLocalTable, ROOT, startOffline, type Offline } from '../support/offline';

// The local stack delivers org 100's subscription demo-receiver to `npm run webhook-receiver`
// on whatever port it runs, or with --forward-to to any URL, from the next delivery on and only
// while it runs: the org file (http://127.0.0.1:4500/webhooks) is neither edited nor reloaded.

const TSX = require.resolve('tsx/cli');
const auth = basicAuth(TILLS.demo[0], TILLS.demo[1]);
const DEMO = (JSON.parse(readFileSync(join(ROOT, 'config', 'orgs', 'demo.json'), 'utf8')) as OrgFile[])
  .find((org) => org.orgId === 100)!
  .webhooks!.find((s) => s.id === 'demo-receiver')!;

let offline: Offline;
const started = new Set<ChildProcess>();

beforeAll(async () => {
  await prepareLocalTable();
  offline = await startOffline();
}, 120_000);

afterAll(async () => {
  await Promise.all([...started].map((child) => stopProcess(child)));
  await offline?.stop();
});

interface Receiver {
  child: ChildProcess;
  output: () => string;
  /** Resolves once the receiver has printed a line matching `pattern`. */
  printed(pattern: RegExp, within?: number): Promise<string>;
}

/** `npm run webhook-receiver -- ARGS` as a person runs it beside `npm start` (the run's DynamoDB Local). */
async function receiver(...args: string[]): Promise<Receiver> {
  const child = spawn(process.execPath, [TSX, 'scripts/webhookReceiver.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, TABLE_NAME: LOCAL_TABLE },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  child.on('exit', () => started.delete(child));
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  const printed = async (pattern: RegExp, within = 20_000) => {
    const deadline = Date.now() + within;
    for (;;) {
      const line = output.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`receiver printed only:\n${output}`);
      await sleep(100);
    }
  };
  return { child, output: () => output, printed };
}

async function register(): Promise<number> {
  const response = await fetch(`${offline.url}/v2/customers`, {
    method: 'POST',
    headers: { Authorization: auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      profiles: [{ source: 'INSTORE', firstName: 'Forward', identifiers: [{ type: 'mobile', value: uniqueMobile() }] }],
    }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { createdId: number }).createdId;
}

/** Where the local sender would deliver org 100's demo subscription now. */
async function deliveredTo(): Promise<string | undefined> {
  return (await storePorts().subscription(100, 'demo-receiver'))?.url;
}

beforeEach(() => {
  process.env.TABLE_NAME = LOCAL_TABLE;
  process.env.STAGE_IS_LOCAL = 'true';
});

test('a receiver on another port than the org file names receives and verifies the registration, and the org file counts again once it stops', async () => {
  const port = await freePort();
  const running = await receiver('--port', String(port));
  expect(await running.printed(/^webhook receiver on /)).toBe(
    `webhook receiver on http://127.0.0.1:${port}/ (any path), verifying with 1 secret, answering 200`,
  );
  expect(await running.printed(/^org 100 /)).toBe(
    `org 100 subscription demo-receiver of the local stack (${LOCAL_TABLE}) delivers here until this stops`,
  );
  expect(await deliveredTo()).toBe(`http://127.0.0.1:${port}/webhooks`);

  const id = await register();
  expect(await running.printed(new RegExp(` customer\\.created customer ${id} `))).toMatch(
    new RegExp(`^\\S+ evt_[0-9a-f]{32} customer\\.created customer ${id} org 100 origin api signature ok answer 200$`),
  );

  await stopProcess(running.child);
  expect(running.child.exitCode).toBe(0);
  expect(running.output()).toContain(`org 100 subscription demo-receiver delivers to ${DEMO.url} again\n`);
  expect(await localTarget(100, 'demo-receiver')).toBeUndefined();
  expect(await deliveredTo()).toBe(DEMO.url);
}, 90_000);

test('--forward-to points the subscription at any URL, signed with its secrets, until it stops', async () => {
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += String(chunk)));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${port}/my/hooks`;
    const forwarding = await receiver('--forward-to', url);
    expect(await forwarding.printed(/^org 100 /)).toBe(
      `org 100 subscription demo-receiver of the local stack (${LOCAL_TABLE}) delivers to ${url} until Ctrl-C`,
    );
    const id = await register();
    const deadline = Date.now() + 20_000;
    const mine = () => received.find((r) => (JSON.parse(r.body) as { customerId?: number }).customerId === id);
    while (!mine() && Date.now() < deadline) await sleep(100);
    const delivery = mine()!;
    expect(delivery).toBeDefined();
    const headers = Object.fromEntries(Object.entries(delivery.headers).map(([k, v]) => [k, String(v)]));
    expect(new Webhook(DEMO.secrets[0]).verify(delivery.body, headers)).toMatchObject({ type: 'customer.created', customerId: id });

    await stopProcess(forwarding.child);
    expect(forwarding.child.exitCode).toBe(0);
    expect(await localTarget(100, 'demo-receiver')).toBeUndefined();
    expect(await deliveredTo()).toBe(DEMO.url);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}, 90_000);

test('a second receiver does not take a subscription another one holds: one line and exit status 1', async () => {
  const first = await receiver('--port', String(await freePort()));
  await first.printed(/delivers here until this stops$/);
  const second = await receiver('--forward-to', 'http://127.0.0.1:9/elsewhere');
  await new Promise((resolve) => second.child.once('exit', resolve));
  expect(second.child.exitCode).toBe(1);
  expect(second.output()).toMatch(
    /^webhook-receiver: org 100 subscription demo-receiver is already delivered to http:\/\/127\.0\.0\.1:\d+\/webhooks by another receiver \(pid \d+\); stop it first\n$/,
  );
  await stopProcess(first.child);
  expect(await localTarget(100, 'demo-receiver')).toBeUndefined();
}, 60_000);

test('the redirect counts on the local stage only, and not after its lease has run out', async () => {
  await holdLocalTarget({ orgId: 100, subscriptionId: 'demo-receiver', url: 'http://127.0.0.1:9/held', owner: 'test', pid: process.pid });
  expect(await deliveredTo()).toBe('http://127.0.0.1:9/held');
  // The sender of a regional stage never reads it.
  process.env.STAGE_IS_LOCAL = 'false';
  expect(await deliveredTo()).toBe(DEMO.url);
  process.env.STAGE_IS_LOCAL = 'true';
  // A receiver killed outright stops counting when its lease runs out.
  expect(await localTarget(100, 'demo-receiver', new Date(Date.now() + 60_000))).toBeUndefined();
  await holdLocalTarget(
    { orgId: 100, subscriptionId: 'demo-receiver', url: 'http://127.0.0.1:9/held', owner: 'test', pid: process.pid },
    new Date(Date.now() - 60_000),
  );
  expect(await deliveredTo()).toBe(DEMO.url);
  await releaseLocalTarget(100, 'demo-receiver', 'test');
});
