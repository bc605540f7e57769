import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../scripts/dynamodbLocal';
import { expectDocumented } from '../support/contract';
import { prepareLocalTable, ROOT, SERVERLESS } from '../support/offline';

// `serverless invoke local -f <fn> -p events/<file>.json` against the local table.

const run = promisify(execFile);

async function invoke(fn: string, eventFile: string) {
  const { stdout } = await run(process.execPath, [SERVERLESS, 'invoke', 'local', '-f', fn, '-p', eventFile, '--stage', 'local'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent' },
    maxBuffer: 10 * 1024 * 1024,
  });
  // The handler's result is the JSON object at the end of the output; invoke local prints a
  // JSON body already parsed.
  const result = JSON.parse(stdout.slice(stdout.indexOf('{\n'))) as { statusCode: number; headers?: Record<string, string>; body: unknown };
  const reply = { status: result.statusCode, body: (typeof result.body === 'string' ? JSON.parse(result.body) : result.body) as any };
  const event = JSON.parse(readFileSync(join(ROOT, eventFile), 'utf8')) as { httpMethod: string; path: string };
  expectDocumented(event.httpMethod, event.path, { ...reply, headers: result.headers ?? {} });
  return reply;
}

beforeAll(async () => {
  await prepareLocalTable();
}, 60_000);

test('the example events register a customer, merge it from WeChat and find it by lookup', async () => {
  const created = await invoke('addCustomer', 'events/add-customer.json');
  expect(created.status).toBe(200);
  expect(created.body.createdId).toEqual(expect.any(Number));

  const merged = await invoke('addCustomer', 'events/add-customer-merge.json');
  expect(merged.status).toBe(200);
  expect(merged.body.createdId).toBe(created.body.createdId);
  expect(merged.body.warnings.map((w: { code: number }) => w.code)).toContain(8050);

  const found = await invoke('lookupCustomer', 'events/lookup-customer.json');
  expect(found).toEqual({ status: 200, body: { entity: created.body.createdId, warnings: [] } });
}, 180_000);

test('the invalid example is rejected with every problem and its path', async () => {
  const rejected = await invoke('addCustomer', 'events/add-customer-invalid.json');
  expect(rejected.status).toBe(400);
  expect(rejected.body.errors).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ code: 8045, path: '/profiles/0/accountId' }),
      expect.objectContaining({ code: 8014, path: '/profiles/0/identifiers/0/value' }),
      expect.objectContaining({ code: 8055, path: '/profiles/0/identifiers/1/value' }),
    ]),
  );
}, 120_000);

test('the bulk example answers one result per item, in order, and replays with its key', async () => {
  const first = await invoke('bulkAddCustomers', 'events/bulk-add-customers.json');
  expect(first.status).toBe(200);
  expect(first.body.map((item: { status: number }) => item.status)).toEqual([200, 200, 400, 200]);
  // The second item shares the first one's email from another source: a merge into it.
  expect(first.body[1].entity.id).toBe(first.body[0].entity.id);
  expect(first.body[1].warnings.map((w: { code: number }) => w.code)).toContain(8050);
  expect(first.body[2].errors[0]).toEqual(expect.objectContaining({ code: 8014, path: '/profiles/0/identifiers/0/value' }));

  const again = await invoke('bulkAddCustomers', 'events/bulk-add-customers.json');
  expect(again.body).toEqual(first.body);
}, 120_000);

test('the stream example is published as one customer.created event, with no record reported as failed', async () => {
  const { stdout } = await run(
    process.execPath,
    [SERVERLESS, 'invoke', 'local', '-f', 'publishEvents', '-p', 'events/publish-events.json', '--stage', 'local'],
    // LOG_LEVEL info: the local bus writes each event as a log line.
    { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'info' }, maxBuffer: 10 * 1024 * 1024 },
  );
  const events = stdout
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"message":"event"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(events).toEqual([
    expect.objectContaining({
      type: 'customer.created',
      orgId: 100,
      customerId: 4810934829312737,
      origin: 'api',
      eventId: expect.stringMatching(/^evt_/),
    }),
  ]);
  expect(stdout).toContain('"batchItemFailures": []');
}, 120_000);

test('without a running DynamoDB Local, invoke local says to start it with `npm start` in one line and exits 1, running nothing', async () => {
  // A loopback port nothing listens on, as when `npm start` is not running.
  const endpoint = `http://127.0.0.1:${await freePort()}`;
  const result = await run(process.execPath, [SERVERLESS, 'invoke', 'local', '-f', 'addCustomer', '-p', 'events/add-customer.json'], {
    cwd: ROOT,
    env: { ...process.env, DYNAMODB_ENDPOINT: endpoint, LOG_LEVEL: 'silent' },
  }).then(
    () => ({ code: 0, stdout: '', stderr: '' }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({
    code: 1,
    stdout: '',
    stderr: `serverless: the local stage needs DynamoDB Local (nothing answers on ${endpoint}): start it with \`npm start\` in another terminal\n`,
  });
}, 60_000);
