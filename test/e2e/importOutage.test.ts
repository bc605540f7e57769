import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../scripts/dynamodbLocal';
import { DEMO_ORGS_FILE, loadOrgFiles } from '../../scripts/loadOrgs';
import { sampleMembers } from '../../scripts/sampleMembers';
import { ensureTable, localClient } from '../../scripts/table';
import { Entity } from '../../lib/store/keys';
import { parseResultRow } from '../../lib/import/outputs';
import { LOCAL_TABLE, ROOT } from '../support/offline';

// `npm run import` when DynamoDB goes away in the middle of a job, as an operator lives it: a
// DynamoDB Local of this test's own (its data on disk) is killed while the import runs. The
// progress says DynamoDB is unavailable and when the next try is, instead of freezing; Ctrl-C
// stops at once rather than waiting out the backoff, with the checkpoint written; and once
// DynamoDB is back the same command finishes the job with every line written once.

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const LINES = 2000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Running {
  /** The process group of npm and the importer under it (a terminal's Ctrl-C goes to the whole group). */
  group: number;
  stderr: () => string;
  exited: Promise<Exit>;
}

/** Process groups started here, stopped after the tests whatever they found. */
const started: number[] = [];

function importer(endpoint: string, args: string[]): Running {
  const child = spawn(NPM, ['run', '--silent', 'import', '--', '--stage', 'local', '--org', '100', ...args], {
    cwd: ROOT,
    env: { ...process.env, DYNAMODB_ENDPOINT: endpoint, TABLE_NAME: LOCAL_TABLE, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  started.push(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const exited = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { group: child.pid!, stderr: () => stderr, exited };
}

async function until(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition();) {
    if (Date.now() > deadline) throw new Error(`not seen within ${timeoutMs / 1000} s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The importer itself: the process of the group running scripts/import.ts under another one
 * (npm starts sh, sh starts tsx, and tsx runs the script in a node process of its own).
 */
function importerPid(group: number): number | undefined {
  const running = new Map<number, number>();
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [ppid, pgrp] = stat
        .slice(stat.lastIndexOf(')') + 2)
        .split(' ')
        .slice(1, 3)
        .map(Number);
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (pgrp === group && args.includes('scripts/import.ts')) running.set(Number(entry), ppid);
    } catch {
      // Gone meanwhile.
    }
  }
  return [...running].find(([, ppid]) => running.has(ppid))?.[0];
}

/** Whether any process of the group is left. */
function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

const rowsOf = (file: string) =>
  readFileSync(`${file}.results.csv`, 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((row) => parseResultRow(row)!);

/** Runs `work` with this process's store pointed at the test's DynamoDB Local. */
async function against<T>(endpoint: string, work: () => Promise<T>): Promise<T> {
  const previous = { endpoint: process.env.DYNAMODB_ENDPOINT, table: process.env.TABLE_NAME };
  process.env.DYNAMODB_ENDPOINT = endpoint;
  process.env.TABLE_NAME = LOCAL_TABLE;
  try {
    return await work();
  } finally {
    process.env.DYNAMODB_ENDPOINT = previous.endpoint;
    process.env.TABLE_NAME = previous.table;
  }
}

async function customerIds(endpoint: string): Promise<number[]> {
  const ids: number[] = [];
  let ExclusiveStartKey: Record<string, never> | undefined;
  do {
    const page = await localClient(endpoint).send(new ScanCommand({ TableName: LOCAL_TABLE, ExclusiveStartKey }));
    for (const item of (page.Items ?? []).map((i) => unmarshall(i))) if (item.entity === Entity.customer) ids.push(Number(item.id));
    ExclusiveStartKey = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (ExclusiveStartKey);
  return ids.sort((a, b) => a - b);
}

describe('npm run import while DynamoDB goes away', () => {
  const dir = mkdtempSync(join(tmpdir(), 'import-outage-'));
  const data = mkdtempSync(join(tmpdir(), 'import-outage-db-'));
  const file = join(dir, 'members.jsonl');
  let dynamo: DynamoDbLocal | undefined;

  beforeAll(async () => {
    dynamo = await startDynamoDbLocal({ dbPath: data });
    const endpoint = dynamo.endpoint;
    await against(endpoint, async () => {
      await ensureTable(localClient(endpoint), LOCAL_TABLE);
      await loadOrgFiles([DEMO_ORGS_FILE]);
    });
    writeFileSync(file, [...sampleMembers({ count: LINES, seed: 21 })].map((line) => `${line}\n`).join(''));
  }, 120_000);

  afterAll(async () => {
    for (const group of started.filter(groupAlive)) process.kill(-group, 'SIGKILL');
    await dynamo?.stop();
  });

  it('says it is retrying, stops at once on Ctrl-C with its checkpoint, and the same command finishes the job once DynamoDB is back', async () => {
    // Slow enough that most of the file is still unread when DynamoDB goes.
    const first = importer(dynamo!.endpoint, ['--rate', '100', file]);
    await until('the first 100 results', () => existsSync(`${file}.results.csv`) && rowsOf(file).length >= 100, 90_000);
    dynamo!.process.kill('SIGKILL');
    await dynamo!.stop();

    await until('the retry on the progress', () => /DynamoDB unavailable, retrying/.test(first.stderr()), 60_000);
    expect(first.stderr()).toMatch(
      /^import: \d+ lines, \d+% of the file, DynamoDB unavailable, (retrying in (\d+m)?\d+s \(retry \d+ of 7\)|retrying now)$/m,
    );

    // Ctrl-C, and the same SIGINT again a moment later as tsx relays it when the importer is slow
    // to acknowledge it (a terminal signals the whole group; here the importer is signalled
    // itself, so that tsx's own relaying on a busy machine does not decide the outcome).
    const pid = importerPid(first.group)!;
    expect(pid).toBeDefined();
    process.kill(pid, 'SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.kill(pid, 'SIGINT');
    const interrupted = Date.now();
    const stopped = await Promise.race([
      first.exited,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20_000).unref()),
    ]);
    // Not the minute or more of backoff left: the pause before the next try is cut short.
    expect(stopped).toBeDefined();
    expect(Date.now() - interrupted).toBeLessThan(20_000);
    await until('every process of the import gone', () => !groupAlive(first.group), 10_000);
    expect(stopped!.code).toBe(130);
    expect(stopped!.stderr).toMatch(/^stopping: /m);
    const [head, , , again] = stopped!.stdout.trim().split('\n');
    expect(head).toMatch(/^import stopped after line \d+: \d+ lines of members\.jsonl done/);
    const prefix = Number(/^import stopped after line (\d+)/.exec(head)![1]);
    expect(prefix).toBeGreaterThanOrEqual(100);
    expect(prefix).toBeLessThan(LINES);
    expect(again).toBe('run the same command again to go on');
    const checkpoint = JSON.parse(readFileSync(`${file}.checkpoint.json`, 'utf8'));
    expect(checkpoint).toMatchObject({ prefixLine: prefix, complete: false });
    expect(rowsOf(file).map((row) => row.line)).toEqual(Array.from({ length: prefix }, (_, i) => i + 1));

    // DynamoDB back, on its data as it was; the same command goes on from the checkpoint.
    dynamo = await startDynamoDbLocal({ dbPath: data });
    const rerun = await importer(dynamo.endpoint, ['--rate', '50000', file]).exited;
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).not.toMatch(/^import: (?!\d+ lines, \d+% of the file|took over job)/m);
    expect(rerun.stdout).toMatch(new RegExp(`this run: ${LINES - prefix} lines in .* after ${prefix} lines done before`));
    const rows = rowsOf(file);
    expect(rows.map((row) => row.line)).toEqual(Array.from({ length: LINES }, (_, i) => i + 1));
    // Every customer in the table is one a results row names: no line was registered twice.
    const named = [...new Set(rows.filter((row) => row.status === 200).map((row) => row.customerId!))].sort((a, b) => a - b);
    expect(await customerIds(dynamo.endpoint)).toEqual(named);
    const counts = /created (\d+), merged (\d+), replayed (\d+), rejected (\d+)/.exec(rerun.stdout)!.slice(1).map(Number);
    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(LINES);
  }, 300_000);
});
