import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readAllHistory } from '../../lib/store/history';
import { uniqueMobile } from '../support/customers';
import { LOCAL_TABLE, prepareLocalTable, ROOT, startOffline, type Offline } from '../support/offline';
import { DynamoProxy } from '../support/proxy';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../scripts/dynamodbLocal';

// `npm start` while `npm run import` writes faster than the local publisher keeps up: the
// publisher reaches DynamoDB Local through a slow link, so a backlog of thousands of customers
// builds up in the table's stream. Serverless offline reads the stream a page at a time, only
// once the page before is handled, so its memory does not grow with the backlog; once the link
// is quick again every imported customer gets its history.

const LINES = 2500;
/** Per chunk each way between the publisher and DynamoDB Local: it falls far behind the import. */
const SLOW_LINK_MS = 40;
/** The most custom fields a profile takes (50 of 255 characters), on four profiles: large customers, large stream images. */
const FIELDS = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`note${i}`, `${i}`.padEnd(255, 'x')]));

function member(i: number, run: string): unknown {
  const mobile = uniqueMobile();
  return {
    profiles: [
      { source: 'INSTORE', firstName: `Backlog${i}`, fields: FIELDS, identifiers: [{ type: 'mobile', value: mobile }] },
      { source: 'ECOMMERCE', fields: FIELDS, identifiers: [{ type: 'email', value: `backlog.${run}.${i}@example.com` }] },
      { source: 'WECHAT', accountId: 'wx-main', fields: FIELDS, identifiers: [{ type: 'wechat', value: `wx_${run}_${i}` }] },
      { source: 'MOBILE_APP', accountId: 'app-ios', fields: FIELDS, identifiers: [{ type: 'mobile', value: mobile }] },
    ],
  };
}

/**
 * What serverless offline may grow by, above itself once warm, while the backlog builds and is
 * caught up. It holds one page of 100 stream records at a time (about 2 MB of these images in
 * the process and its copy in the publisher's worker thread) and the publisher's working set:
 * about 40 MB above warm on 2 cores, most of it the two heaps' garbage not yet collected. The
 * stream plugin's own reader, holding up to 316 pages ahead, went 83 MB above warm here, and
 * further the longer the publisher stays behind.
 */
const GROWTH_BOUND_MB = 80;

/**
 * Resident memory of a process and its threads (the publisher runs in a worker thread), in MB.
 * Offline's one child, esbuild's service, holds the bundles and never sees a stream record.
 */
function residentMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) / 1024;
}

function runImport(file: string, endpoint: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [require.resolve('tsx/cli'), 'scripts/import.ts', '--stage', 'local', '--org', '100', '--rate', '50000', file],
      { cwd: ROOT, env: { ...process.env, DYNAMODB_ENDPOINT: endpoint, TABLE_NAME: LOCAL_TABLE }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr = (stderr + String(chunk)).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** The customers, in import order, that have no history entry yet (the stream is in order: stops at the first). */
async function firstWithoutHistory(ids: number[], from: number): Promise<number> {
  let next = from;
  while (next < ids.length && (await readAllHistory(100, ids[next])).length > 0) next++;
  return next;
}

describe('the local publisher far behind an import', () => {
  const dir = mkdtempSync(join(tmpdir(), 'publisher-backlog-'));
  const file = join(dir, 'members.jsonl');
  // A DynamoDB Local of its own: thousands of large customers and their stream images would
  // otherwise fill the heap of the one every other test file shares.
  let own: DynamoDbLocal;
  const shared = process.env.DYNAMODB_ENDPOINT;
  let endpoint: string;
  let proxy: DynamoProxy;
  let offline: Offline;

  beforeAll(async () => {
    own = await startDynamoDbLocal();
    endpoint = own.endpoint;
    process.env.DYNAMODB_ENDPOINT = endpoint;
    await prepareLocalTable();
    proxy = await DynamoProxy.start(endpoint);
    offline = await startOffline({ env: { DYNAMODB_ENDPOINT: proxy.endpoint } });
    const run = randomUUID().slice(0, 8);
    const lines = Array.from({ length: LINES }, (_, i) => JSON.stringify(member(i, run)));
    writeFileSync(file, lines.join('\n') + '\n');
  }, 120_000);

  afterAll(async () => {
    await offline?.stop();
    await proxy?.close();
    await own?.stop();
    process.env.DYNAMODB_ENDPOINT = shared;
  });

  test('serverless offline stays within a bound of memory, and every imported customer gets its history', async () => {
    // Warm: the publisher's worker and bundle loaded by a first customer's record.
    const warmup = join(dir, 'warmup.jsonl');
    writeFileSync(
      warmup,
      JSON.stringify({ profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: uniqueMobile() }] }] }) + '\n',
    );
    expect(await runImport(warmup, endpoint)).toMatchObject({ code: 0 });
    const [warmId] = customerIds(warmup);
    while ((await readAllHistory(100, warmId)).length === 0) await sleep(200);
    const warm = residentMb(offline.process.pid!);

    proxy.delay(SLOW_LINK_MS);
    let peak = warm;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, residentMb(offline.process.pid!));
        await sleep(250);
      }
    })();

    const run = await runImport(file, endpoint);
    expect(run).toMatchObject({ code: 0 });
    const ids = customerIds(file);
    expect({ rejected: LINES - ids.length, stderr: run.stderr.split('\n').filter((l) => !/^import: \d+ lines/.test(l)) }).toMatchObject({
      rejected: 0,
    });
    // Behind: most of the file's customers still wait in the stream when the import ends.
    const published = await firstWithoutHistory(ids, 0);
    expect(published).toBeLessThan(LINES / 2);

    proxy.delay(0);
    let next = published;
    const deadline = Date.now() + 60_000;
    while (next < ids.length && Date.now() < deadline) {
      await sleep(1000);
      next = await firstWithoutHistory(ids, next);
    }
    sampling = false;
    await sampler;

    const missing: number[] = [];
    for (const id of ids) if ((await readAllHistory(100, id)).length === 0) missing.push(id);
    expect(missing).toEqual([]);
    const memory = { warmMb: Math.round(warm), peakMb: Math.round(peak) };
    expect({ ...memory, withinBound: peak - warm < GROWTH_BOUND_MB }).toEqual({ ...memory, withinBound: true });
  }, 110_000);
});

/** The created customers of an import's results file, in line order. */
function customerIds(file: string): number[] {
  return readFileSync(`${file}.results.csv`, 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((row) => row.split(','))
    .filter(([, status]) => status === '200')
    .map(([, , id]) => Number(id));
}
