import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getOrgConfig } from '../../lib/store/orgs';
import { LOCAL_TABLE, prepareLocalTable, ROOT, SERVERLESS } from '../support/offline';

// Which table `--stage` means for the operator's commands: the local stage is always the
// DynamoDB Local that a running `npm start` announced (or a loopback DYNAMODB_ENDPOINT); a
// regional stage is always AWS, whatever the shell holds. The announcement is moved to a
// scratch file (LOCAL_STAGE_FILE) so that a person's own `npm start` is left alone.

const run = promisify(execFile);
const TSX = require.resolve('tsx/cli');
const endpoint = () => process.env.DYNAMODB_ENDPOINT!;

let scratch: string;
let announcement: string;

beforeAll(async () => {
  await prepareLocalTable();
  scratch = mkdtempSync(join(tmpdir(), 'stages-'));
  announcement = join(scratch, 'dynamodb.json');
}, 60_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The shell of an operator: no DynamoDB endpoint unless given. */
function shell(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOCAL_STAGE_FILE: announcement, TABLE_NAME: undefined, LOG_LEVEL: 'silent' };
  delete env.DYNAMODB_ENDPOINT;
  delete env.TABLE_NAME;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

async function loadOrgs(args: string[], env: NodeJS.ProcessEnv) {
  return run(process.execPath, [TSX, 'scripts/loadOrgs.ts', ...args], { cwd: ROOT, env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

function announce(pid: number) {
  writeFileSync(announcement, JSON.stringify({ endpoint: endpoint(), pid }));
}

test('load-orgs --stage local without a running npm start says so in one line and exits 2', async () => {
  rmSync(announcement, { force: true });
  const result = await loadOrgs(['--stage', 'local'], shell({}));
  expect(result.code).toBe(2);
  expect(result.stderr.trim()).toBe('load-orgs: the local stage needs DynamoDB Local: start it with `npm start` in another terminal');
});

test("load-orgs --stage local writes into the table of the npm start that announced itself, and not to a stopped one's", async () => {
  // An announcement left by a start that is gone (no such process) is not followed.
  announce(2 ** 22 + 12345);
  expect((await loadOrgs(['--stage', 'local'], shell({}))).code).toBe(2);

  announce(process.pid);
  const result = await loadOrgs(['--stage', 'local', 'config/orgs/example-brand.json'], shell({}));
  expect(result).toMatchObject({ code: 0, stderr: '' });
  expect(result.stdout).toContain(`into ${LOCAL_TABLE} (local: DynamoDB Local on ${endpoint()})`);
  process.env.TABLE_NAME = LOCAL_TABLE;
  expect((await getOrgConfig(4100))?.orgId).toBe(4100);
});

test("a regional stage refuses an org file whose webhook is not https, before writing anything (the demo orgs' local receiver)", async () => {
  const result = await loadOrgs(['--stage', 'emea', 'config/orgs/demo.json'], shell({ AWS_REGION: undefined }));
  expect(result.code).toBe(2);
  expect(result.stderr.trim()).toBe(
    'load-orgs: org 100: /webhooks/0/url must be an https URL in stage emea (http://127.0.0.1:4500/webhooks)',
  );
});

test('the local stage refuses an endpoint that is not on this machine', async () => {
  const result = await loadOrgs(['--stage', 'local'], shell({ DYNAMODB_ENDPOINT: 'https://dynamodb.us-east-1.amazonaws.com' }));
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('is not a loopback address');
});

test.each(['asia1', 'asia2', 'emea'])('load-orgs --stage %s refuses a DynamoDB endpoint or another region in the shell', async (stage) => {
  const withEndpoint = await loadOrgs(['--stage', stage], shell({ DYNAMODB_ENDPOINT: endpoint() }));
  expect(withEndpoint.code).toBe(2);
  expect(withEndpoint.stderr.trim()).toMatch(
    new RegExp(`^load-orgs: stage ${stage} is AWS's table in [a-z0-9-]+, but DYNAMODB_ENDPOINT is set`),
  );
  const withRegion = await loadOrgs(['--stage', stage], shell({ AWS_REGION: 'ap-south-1' }));
  expect(withRegion.code).toBe(2);
  expect(withRegion.stderr.trim()).toMatch(
    new RegExp(`^load-orgs: stage ${stage} is in [a-z0-9-]+, but AWS_REGION is ap-south-1; unset it$`),
  );
});

test('load-orgs --help, and one line for an unknown stage or option', async () => {
  const help = await loadOrgs(['--help'], shell({}));
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('usage: npm run load-orgs');
  const unknown = await loadOrgs(['--stage', 'mars'], shell({}));
  expect(unknown).toMatchObject({ code: 2, stderr: 'load-orgs: unknown stage mars; one of local, asia1, asia2, emea\n' });
  expect((await loadOrgs(['--force'], shell({}))).stderr).toBe('load-orgs: unknown option --force (see --help)\n');
});

test('serverless invoke local, with no endpoint in the shell, uses the announced DynamoDB Local', async () => {
  announce(process.pid);
  const { stdout } = await run(
    process.execPath,
    [SERVERLESS, 'invoke', 'local', '-f', 'getExtendedFields', '-p', 'events/get-extended-fields.json', '--stage', 'local'],
    { cwd: ROOT, env: shell({}), maxBuffer: 10 * 1024 * 1024 },
  );
  const result = JSON.parse(stdout.slice(stdout.indexOf('{\n'))) as { statusCode: number; body: string | { success: boolean } };
  expect(result.statusCode).toBe(200);
  const body = typeof result.body === 'string' ? JSON.parse(result.body) : result.body;
  expect(body.success).toBe(true);
}, 60_000);
