import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, stopProcess } from '../../scripts/dynamodbLocal';
import { saveOrg } from '../../lib/store/orgs';
import type { OrgFile } from '../../lib/org';
import { basicAuth, TILLS } from '../support/http';
import { uniqueMobile } from '../support/customers';
import { LOCAL_TABLE, prepareLocalTable, ROOT, startOffline, type Offline } from '../support/offline';

// SPEC section 10 as a person meets it locally: `serverless offline` runs the publisher from
// DynamoDB Local's stream, and `npm run webhook-receiver` (verifying the Standard Webhooks
// signatures) prints the events of a registration over HTTP and of its merge from WeChat.

const TSX = require.resolve('tsx/cli');
const auth = basicAuth(TILLS.demo[0], TILLS.demo[1]);

let offline: Offline;
let receiver: ChildProcess;
let printed = '';
let receiverPort: number;

beforeAll(async () => {
  await prepareLocalTable();
  receiverPort = await freePort();
  // Org 100's demo subscription, pointed at this test's receiver.
  const demo = JSON.parse(readFileSync(join(ROOT, 'config/orgs/demo.json'), 'utf8')) as OrgFile[];
  const org100 = demo.find((org) => org.orgId === 100)!;
  const subscription = org100.webhooks![0];
  process.env.TABLE_NAME = LOCAL_TABLE;
  await saveOrg({ ...org100, webhooks: [{ ...subscription, url: `http://127.0.0.1:${receiverPort}/webhooks` }] });

  receiver = spawn(process.execPath, [TSX, 'scripts/webhookReceiver.ts', '--port', String(receiverPort), '--fail-first', '1'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  receiver.stdout!.on('data', (chunk) => (printed += String(chunk)));
  receiver.stderr!.on('data', (chunk) => (printed += String(chunk)));
  offline = await startOffline();
}, 120_000);

afterAll(async () => {
  await offline?.stop();
  if (receiver) await stopProcess(receiver);
});

async function register(body: unknown) {
  const response = await fetch(`${offline.url}/v2/customers`, {
    method: 'POST',
    headers: { Authorization: auth, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { createdId: number }).createdId;
}

/** The receiver's lines naming the customer and event type, once one was answered 200 (or the deadline passes). */
async function linesFor(customerId: number, type: string, within = 20_000): Promise<string[]> {
  const deadline = Date.now() + within;
  for (;;) {
    const lines = printed.split('\n').filter((line) => line.includes(` ${type} `) && line.includes(`customer ${customerId} `));
    if (lines.some((line) => line.includes('signature ok answer 200')) || Date.now() > deadline) return lines;
    await sleep(200);
  }
}

test('a registration over HTTP arrives as one signed customer.created, after a failed first try; its merge from WeChat as customer.merged', async () => {
  const mobile = uniqueMobile();
  const id = await register({ profiles: [{ source: 'INSTORE', firstName: 'Webhook', identifiers: [{ type: 'mobile', value: mobile }] }] });
  const created = await linesFor(id, 'customer.created');
  // The first delivery was answered 500 and retried under the same webhook id.
  expect(created[0]).toContain('signature ok answer 500');
  expect(created.some((line) => line.includes('signature ok answer 200'))).toBe(true);
  const ids = new Set(created.map((line) => line.split(' ')[1]));
  expect(ids.size).toBe(1);
  expect([...ids][0]).toMatch(/^evt_[0-9a-f]{32}$/);
  expect(created.join('\n')).toContain('org 100 origin api');
  expect(printed).not.toContain('INVALID');
  // Thin by default: no name or value reaches the receiver's lines.
  expect(printed).not.toContain(mobile);
  expect(printed).not.toContain('Webhook ');

  const merged = await register({
    profiles: [{ source: 'WECHAT', accountId: 'wx-main', identifiers: [{ type: 'mobile', value: mobile }] }],
  });
  expect(merged).toBe(id);
  expect((await linesFor(id, 'customer.merged')).some((line) => line.includes('signature ok answer 200'))).toBe(true);
}, 90_000);
