import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, stopProcess } from '../../scripts/dynamodbLocal';
import { DEMO_ORGS_FILE, loadOrgFiles } from '../../scripts/loadOrgs';
import { ensureTable, localClient } from '../../scripts/table';

export const ROOT = join(__dirname, '..', '..');
export const SERVERLESS = require.resolve('serverless/bin/serverless.js');
/** The local stage's table, as serverless.yml names it. */
export const LOCAL_TABLE = 'loyalty-customers-local';

/** Creates the local stage's table in the run's DynamoDB Local and loads the demo orgs. */
export async function prepareLocalTable(): Promise<void> {
  process.env.TABLE_NAME = LOCAL_TABLE;
  await ensureTable(localClient(process.env.DYNAMODB_ENDPOINT!), LOCAL_TABLE, { stream: true });
  await loadOrgFiles([DEMO_ORGS_FILE]);
}

export interface Offline {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Boots `serverless offline` on free localhost ports against the run's DynamoDB Local (or `env`'s DYNAMODB_ENDPOINT). */
export async function startOffline(options: { env?: Record<string, string> } = {}): Promise<Offline> {
  const httpPort = await freePort();
  const lambdaPort = await freePort();
  const child = spawn(
    process.execPath,
    [SERVERLESS, 'offline', 'start', '--stage', 'local', '--httpPort', String(httpPort), '--lambdaPort', String(lambdaPort), '--noTimeout'],
    {
      cwd: ROOT,
      // The stream's checkpoints of this run stay out of the checkout.
      env: {
        ...process.env,
        LOG_LEVEL: 'silent',
        STREAM_CHECKPOINT_FILE: join(tmpdir(), `stream-checkpoints-${httpPort}.json`),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false,
    },
  );
  let output = '';
  child.stdout!.on('data', (c) => (output += String(c)));
  child.stderr!.on('data', (c) => (output += String(c)));
  const deadline = Date.now() + 90_000;
  while (!/Server ready/.test(output)) {
    if (child.exitCode !== null) throw new Error(`serverless offline exited: ${output}`);
    if (Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`serverless offline not ready after 90 s: ${output}`);
    }
    await sleep(200);
  }
  return { url: `http://127.0.0.1:${httpPort}`, process: child, stop: () => stopProcess(child) };
}

/** This suite's serverless offline: the local table prepared and the API booted before its tests, stopped after them. */
export function useOffline(): { readonly url: string } {
  let offline: Offline | undefined;
  beforeAll(async () => {
    await prepareLocalTable();
    offline = await startOffline();
  }, 120_000);
  afterAll(async () => {
    await offline?.stop();
  });
  return {
    get url() {
      return offline!.url;
    },
  };
}
