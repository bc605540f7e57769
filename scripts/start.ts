import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { JavaMissingError, startDynamoDbLocal, stopProcess, type DynamoDbLocal } from './dynamodbLocal';
import { DEMO_ORGS_FILE, loadOrgFiles } from './loadOrgs';
import { announceLocalStage, withdrawLocalStage } from './stage';
import { ensureTable, localClient } from './table';

// `npm start`: DynamoDB Local (data under .dynamodb/, or in memory with --in-memory), the
// table, the demo orgs, and `serverless offline` on http://localhost:3000 (PORT to change it).

const root = join(__dirname, '..');

async function main(): Promise<void> {
  const inMemory = process.argv.includes('--in-memory') || process.env.DYNAMODB_IN_MEMORY === 'true';
  const httpPort = Number(process.env.PORT || 3000);
  const dbPath = join(root, '.dynamodb');
  noticeOldNode();
  // Before anything starts: serverless offline would otherwise fail on the port with a page of stack trace.
  for (const port of [httpPort, httpPort + 2]) {
    if (!(await portIsFree(port))) {
      console.error(
        `start: port ${port} on 127.0.0.1 is in use (another npm start?); stop it, or start on another port: PORT=${httpPort + 1000} npm start`,
      );
      process.exit(1);
    }
  }
  if (!inMemory) mkdirSync(dbPath, { recursive: true });

  let dynamo: DynamoDbLocal;
  try {
    dynamo = await startDynamoDbLocal({
      port: process.env.DYNAMODB_PORT ? Number(process.env.DYNAMODB_PORT) : undefined,
      dbPath: inMemory ? undefined : dbPath,
    });
  } catch (error) {
    if (error instanceof JavaMissingError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const tableName = 'loyalty-customers-local';
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
  process.env.TABLE_NAME = tableName;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  await ensureTable(localClient(dynamo.endpoint), tableName, { stream: true });
  const orgs = await loadOrgFiles([DEMO_ORGS_FILE]);
  console.log(
    `DynamoDB Local on ${dynamo.endpoint} (${inMemory ? 'in memory' : `data in ${dbPath}`}), table ${tableName}, demo orgs ${orgs.join(', ')}`,
  );

  const offline = spawn(
    process.execPath,
    [
      require.resolve('serverless/bin/serverless.js'),
      'offline',
      'start',
      '--stage',
      'local',
      '--httpPort',
      String(httpPort),
      '--lambdaPort',
      String(httpPort + 2),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env },
  );
  let announced = false;
  const relay = (out: NodeJS.WriteStream) => (chunk: Buffer) => {
    out.write(chunk);
    if (!announced && /Server ready/.test(String(chunk))) {
      announced = true;
      // Once the API holds its port (a second `npm start` stops before this): `npm run load-orgs`,
      // `npm run import` and `serverless invoke local` find the local stage's table here.
      announceLocalStage(dynamo.endpoint);
      announce(httpPort, dynamo.endpoint);
    }
  };
  offline.stdout!.on('data', relay(process.stdout));
  offline.stderr!.on('data', relay(process.stderr));

  const stop = async (code: number) => {
    withdrawLocalStage();
    await Promise.all([stopProcess(offline), dynamo.stop()]);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  offline.on('exit', (code) => void stop(code ?? 1));
}

/** Whether a server could listen on 127.0.0.1:port now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Node releases past their end of life still run this, with a notice; the supported LTS lines are 22 and 24. */
function noticeOldNode(): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) console.error(`start: Node ${process.versions.node} is past its end of life; use Node 22 or 24 (LTS). Starting anyway.`);
}

function announce(port: number, endpoint: string): void {
  const auth = Buffer.from('demo.till:' + createHash('md5').update('demo-password').digest('hex')).toString('base64');
  console.log(`
API ready on http://localhost:${port}  (Ctrl-C stops it and DynamoDB Local)

  curl -s http://localhost:${port}/v2/customers \\
    -H 'Authorization: Basic ${auth}' \\
    -H 'Content-Type: application/json' \\
    -d '{"profiles":[{"source":"INSTORE","firstName":"Asha","identifiers":[{"type":"mobile","value":"9845'$((100000 + RANDOM))'"}]}]}'

  (a fresh mobile each time it is pasted)

  npx serverless invoke local -f addCustomer -p events/add-customer.json   (DynamoDB Local: ${endpoint})
`);
}

main().catch((error) => {
  console.error(`start: ${(error as Error).message}`);
  process.exit(1);
});
