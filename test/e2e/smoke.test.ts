import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { loadCustomer } from '../../lib/store/customers';
import { freePort, stopProcess } from '../../scripts/dynamodbLocal';
import { prepareLocalTable, ROOT, startOffline, type Offline } from '../support/offline';

// `npm run smoke` as an operator runs it after a deploy: the command itself, as a child process
// (Node with tsx, as the npm script runs it), against `serverless offline` on free ports over
// the run's DynamoDB Local, with the demo orgs loaded.

const TSX_CLI = require.resolve('tsx/cli');
const SMOKE = join(ROOT, 'scripts', 'smoke.ts');
const DEMO = ['--till', 'demo.till', '--password', 'demo-password'];

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();

function smoke(args: string[], env: Record<string, string> = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    // A loaded CI machine may take a while over a function's first invocation offline.
    const patient = args.includes('--url') ? ['--timeout', '60'] : [];
    const child = spawn(process.execPath, [TSX_CLI, SMOKE, ...args, ...patient], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
    child.on('error', reject);
    child.on('close', (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

const lines = (text: string) => text.split('\n').filter(Boolean);

let offline: Offline;

beforeAll(async () => {
  await prepareLocalTable();
  offline = await startOffline();
}, 120_000);

afterAll(async () => {
  // A command still running (a test that timed out) is stopped by its process id, then the API.
  await Promise.all([...running].map((child) => stopProcess(child)));
  await offline?.stop();
});

describe('npm run smoke against a running stage', () => {
  let run: Finished;
  let customerId: number;

  beforeAll(async () => {
    run = await smoke(['--url', offline.url, ...DEMO]);
    customerId = Number(/ customer (\d+)$/.exec(run.stdout.trim())?.[1]);
  }, 60_000);

  test('passes with the demo till: one OK line naming the stage, the steps and the customer, and exit 0', () => {
    expect(run.stderr).toBe('');
    expect(lines(run.stdout)).toEqual([
      expect.stringMatching(/^smoke: OK http:\/\/127\.0\.0\.1:\d+ \(openapi, register 200 in \d+ ms, replay, lookup, read\) customer \d+$/),
    ]);
    expect(run.stdout).toContain(`smoke: OK ${offline.url} `);
    expect(run.code).toBe(0);
  });

  test('leaves the customer it registered in the table, once, marked as a test customer', async () => {
    const customer = await loadCustomer(100, customerId);
    expect(customer).toBeDefined();
    expect(customer!.endPointsEnabled).toEqual(['TIMELINE_ENDPOINT']);
    expect(customer!.associatedWith).toBe('demo.till');
    expect(customer!.profiles).toHaveLength(1);
    expect(customer!.profiles[0]).toMatchObject({ source: 'INSTORE', firstName: 'Smoke', lastName: 'Test' });
    expect(customer!.profiles[0].identifiers).toEqual([
      { type: 'email', value: expect.stringMatching(/^smoke\+\d+-[0-9a-f]{8}@example\.com$/) },
    ]);
  });

  test('registers a new customer on every run (here with the password in SMOKE_PASSWORD)', async () => {
    const again = await smoke(['--url', offline.url, '--till', 'demo.till'], { SMOKE_PASSWORD: 'demo-password' });
    expect(again.code).toBe(0);
    const second = Number(/ customer (\d+)$/.exec(again.stdout.trim())?.[1]);
    expect(second).not.toBe(customerId);
    expect((await loadCustomer(100, second))?.endPointsEnabled).toEqual(['TIMELINE_ENDPOINT']);
  }, 60_000);
});

test('with --verbose prints one line per check, step by step, before the verdict; --source and --account-id choose the profile', async () => {
  const run = await smoke(['--url', offline.url, ...DEMO, '--source', 'WECHAT', '--account-id', 'wx-main', '--verbose']);
  expect(run.code).toBe(0);
  const printed = lines(run.stdout);
  const checks = printed.slice(0, -1);
  expect(checks.every((line) => /^ok {3}(openapi|register|replay|lookup|read): \S/.test(line))).toBe(true);
  expect([...new Set(checks.map((line) => line.split(/\s+/)[1]))]).toEqual(['openapi:', 'register:', 'replay:', 'lookup:', 'read:']);
  expect(checks).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^ok {3}register: X-RateLimit-Limit 100000, -Remaining \d+, -Reset in \d+ s$/),
      'ok   replay: Idempotent-Replayed: true',
      'ok   replay: the same body as the first answer',
      'ok   read: marked as a test customer (endPointsEnabled TIMELINE_ENDPOINT)',
      "ok   read: the WECHAT wx-main profile holds the run's email",
    ]),
  );
  expect(printed.at(-1)).toMatch(/^smoke: OK /);
  const id = Number(/ customer (\d+)$/.exec(printed.at(-1)!)?.[1]);
  expect((await loadCustomer(100, id))?.profiles[0]).toMatchObject({ source: 'WECHAT', accountId: 'wx-main' });
}, 60_000);

test('fails at the register step with a wrong password: the 401 in one line, and exit 1', async () => {
  const run = await smoke(['--url', offline.url, '--till', 'demo.till', '--password', 'not-the-password']);
  expect(lines(run.stdout)).toEqual(['smoke: FAILED register: HTTP 401, expected 200: missing or wrong credentials (code 401)']);
  expect(run.code).toBe(1);
}, 60_000);

test('fails at the first step when nothing answers at --url, and exit 1', async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const run = await smoke(['--url', url, ...DEMO]);
  expect(lines(run.stdout)).toEqual([`smoke: FAILED openapi: cannot reach ${url}/v2/openapi.json: ECONNREFUSED`]);
  expect(run.code).toBe(1);
}, 60_000);

test('without --url says so in one line pointing at --help, sends nothing, and exits 2', async () => {
  const run = await smoke(DEMO);
  expect(run.stdout).toBe('');
  expect(run.stderr).toBe('smoke: --url is required (see --help)\n');
  expect(run.code).toBe(2);
}, 60_000);

test('--help shows an example that runs against npm start, and exits 0', async () => {
  const run = await smoke(['--help']);
  expect(run.stdout).toContain('npm run smoke -- --url http://localhost:3000 --till demo.till --password demo-password');
  expect(run.code).toBe(0);
}, 60_000);
