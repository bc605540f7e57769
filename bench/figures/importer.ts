import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { handler as addHandler } from '../../handlers/addCustomer';
import { importFile } from '../../lib/import/importFile';
import { documentClient } from '../../lib/store/client';
import { DEMO_ORGS_FILE, loadOrgFiles } from '../../scripts/loadOrgs';
import { ensureTable } from '../../scripts/table';
import { captureWrites, costsOf, lookupWith } from '../support/capacity';
import { ratioOf, spread, type Figure, type Section } from '../support/report';
import { lambdaContext, postEvent, typicalBody } from '../support/requests';
import { countRoundTrips, describeCounts } from '../support/roundTrips';

// The importer (SPEC section 9) against DynamoDB Local in memory:
// - registrations per second at 16 in flight through importFile (the CLI's core: reading,
//   ordering, pacing, results in order, checkpoints), against the same TransactWriteItems sent
//   raw from the same document client into a second table; rounds alternate the two;
// - DynamoDB round trips and write units per line, against a single add of the same kind sent
//   with an Idempotency-Key (an import line is always keyed: import:<job>:<line>);
// - a 100,000-line import through `scripts/import.ts` in a process of its own: elapsed time
//   against what the raw transactions alone would take, and peak memory against a 10,000-line
//   import's (flat: the file is streamed, never held).

const ROOT = resolve(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

export interface ImporterOptions {
  raw: DynamoDBClient;
  workDir: string;
  /** Rounds of importer-then-raw, after one warm-up round. */
  rounds: number;
  perRound: number;
  inFlight: number;
  /** Lines of the long import (100,000) and of the short one it is compared with (10,000). */
  longLines: number;
  shortLines: number;
}

type Transaction = NonNullable<TransactWriteCommandInput['TransactItems']>;

/** A JSON Lines file of `lines` typical new customers, written as a stream. */
async function writeMembers(path: string, lines: number): Promise<string> {
  const out = createWriteStream(path);
  for (let i = 0; i < lines; i++) {
    if (!out.write(`${JSON.stringify(typicalBody())}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r, reject) => {
    out.once('error', reject);
    out.end(() => r());
  });
  return path;
}

/** One importer round: lines per second, and the transactions it sent. */
async function importerRound(options: ImporterOptions, round: string): Promise<{ rate: number; transactions: Transaction[] }> {
  const file = await writeMembers(join(options.workDir, `importer-${round}.jsonl`), options.perRound);
  const transactions: Transaction[] = [];
  const name = `benchImporterCapture${randomUUID()}`;
  const client = documentClient();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (/^TransactWrite(Items)?Command$/.test(context.commandName ?? ''))
        transactions.push((args.input as TransactWriteCommandInput).TransactItems!);
      return next(args);
    },
    { step: 'initialize', name, priority: 'high' },
  );
  try {
    const summary = await importFile({
      file,
      orgId: 100,
      rate: 1e9,
      concurrency: options.inFlight,
      job: `bench-${round}-${randomUUID().slice(0, 8)}`,
    });
    if (summary.total.created !== options.perRound)
      throw new Error(`importer: ${summary.total.created} of ${options.perRound} lines created`);
    return { rate: options.perRound / (summary.elapsedMs / 1000), transactions };
  } finally {
    client.middlewareStack.remove(name);
  }
}

/** The same transactions, raw, into another table, `inFlight` at a time: transactions per second. */
async function rawRound(transactions: Transaction[], table: string, inFlight: number): Promise<number> {
  const client = documentClient();
  const retargeted = transactions.map(
    (items) =>
      items.map((item) =>
        Object.fromEntries(Object.entries(item).map(([kind, body]) => [kind, { ...body, TableName: table }])),
      ) as Transaction,
  );
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < retargeted.length) await client.send(new TransactWriteCommand({ TransactItems: retargeted[next++] }));
    }),
  );
  return retargeted.length / ((performance.now() - started) / 1000);
}

/** Round trips and write units per line of an import, and of a keyed single add of the same kind. */
async function costPerLine(
  options: ImporterOptions,
): Promise<{ trips: number; commands: string; units: number; singleUnits: number; singleTrips: number }> {
  const client = documentClient();
  const counter = countRoundTrips(client);
  const capture = captureWrites(client);
  try {
    const lines = Math.min(options.perRound, 500);
    const file = await writeMembers(join(options.workDir, 'importer-cost.jsonl'), lines);
    counter.reset();
    capture.reset();
    await importFile({ file, orgId: 100, rate: 1e9, concurrency: options.inFlight, job: `bench-cost-${randomUUID().slice(0, 8)}` });
    const trips = counter.httpRequests() / lines;
    const commands = describeCounts(counter.commands());
    const units = (await costsOf(capture.writes(), lookupWith(options.raw))).reduce((sum, c) => sum + c.units, 0) / lines;

    // The floor: single adds with an Idempotency-Key, their transactions only (a single add
    // also pays a share of the rate counter, which an import does not).
    const singles = 100;
    await addHandler(postEvent(typicalBody(), { headers: { 'Idempotency-Key': randomUUID() } }), lambdaContext());
    counter.reset();
    capture.reset();
    for (let i = 0; i < singles; i++) {
      const reply = await addHandler(postEvent(typicalBody(), { headers: { 'Idempotency-Key': randomUUID() } }), lambdaContext());
      if (reply.statusCode !== 200) throw new Error(`single add: ${reply.statusCode} ${reply.body}`);
    }
    const singleTrips = (counter.commands().TransactWriteItems ?? 0) / singles;
    const transactionsOnly = capture.writes().filter((w) => w.operation === 'TransactWriteItems');
    const singleUnits = (await costsOf(transactionsOnly, lookupWith(options.raw))).reduce((sum, c) => sum + c.units, 0) / singles;
    return { trips, commands, units, singleUnits, singleTrips };
  } finally {
    counter.detach();
    capture.detach();
  }
}

interface ChildImport {
  seconds: number;
  peakMb: number;
  lines: number;
}

/** Runs `scripts/import.ts` on a fresh file in a process of its own and reads its summary. */
async function childImport(options: ImporterOptions, lines: number): Promise<ChildImport> {
  const file = await writeMembers(join(options.workDir, `importer-${lines}.jsonl`), lines);
  const args = [
    'scripts/import.ts',
    '--stage',
    'local',
    '--org',
    '100',
    '--rate',
    '1000000',
    '--concurrency',
    String(options.inFlight),
    file,
  ];
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done, reject) => {
    const child = spawn(TSX, args, { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += String(chunk)));
    child.stderr.on('data', (chunk) => (err += String(chunk)));
    child.on('error', reject);
    child.on('close', (exit) => done({ code: exit, stdout: out, stderr: err }));
  });
  const match = /this run: (\d+) lines in ([\d.]+) s, \d+\/s; peak memory (\d+) MB/.exec(stdout);
  if (code !== 0 || !match) throw new Error(`import of ${lines} lines: exit ${code}: ${stdout} ${stderr.split('\n').slice(-3).join(' ')}`);
  return { lines: Number(match[1]), seconds: Number(match[2]), peakMb: Number(match[3]) };
}

export async function measureImporter(options: ImporterOptions): Promise<Section> {
  const table = process.env.TABLE_NAME!;
  const rawTable = `${table}-import-raw`;
  await ensureTable(options.raw, rawTable);

  const warm = await importerRound(options, 'warm');
  await rawRound(warm.transactions, rawTable, options.inFlight);
  const importerRates: number[] = [];
  const rawRates: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const { rate, transactions } = await importerRound(options, String(round));
    importerRates.push(rate);
    rawRates.push(await rawRound(transactions, rawTable, options.inFlight));
  }
  const importer = spread(importerRates);
  const raw = spread(rawRates);
  const rateRatio = ratioOf(importer.median, raw.median);
  const perSecond = (s: ReturnType<typeof spread>) => `${s.median.toFixed(0)}/s (min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)})`;

  const cost = await costPerLine(options);

  // The long and short imports go to a table of their own, so the bench's table stays small.
  const longTable = `${table}-import-long`;
  await ensureTable(options.raw, longTable);
  process.env.TABLE_NAME = longTable;
  let short: ChildImport;
  let long: ChildImport;
  try {
    await loadOrgFiles([DEMO_ORGS_FILE]);
    short = await childImport(options, options.shortLines);
    long = await childImport(options, options.longLines);
  } finally {
    process.env.TABLE_NAME = table;
  }
  const floorSeconds = long.lines / raw.median;
  const elapsedRatio = ratioOf(long.seconds, floorSeconds);
  const memoryRatio = ratioOf(long.peakMb, short.peakMb);

  const figures: Figure[] = [
    {
      group: 'importer',
      name: `importer / registrations per second, ${options.inFlight} in flight`,
      value: perSecond(importer),
      floor: perSecond(raw),
      ratio: rateRatio,
      target: '≥ 0.9',
      met: rateRatio >= 0.9,
      note:
        `${options.rounds} rounds of a ${options.perRound}-line JSON Lines file of typical new customers through importFile (--concurrency ${options.inFlight}, no pacing; reading, ordering, results and checkpoints included), ` +
        `each followed by the same TransactWriteItems (5 items: the customer, 3 identifiers, the line's idempotency record) sent raw from the same document client into a second table of the same DynamoDB Local, ${options.inFlight} in flight; after a warm-up of each. Medians of the rounds.`,
      evidence: { importer: importer.median, raw: raw.median },
    },
    {
      group: 'importer',
      name: 'importer / round trips per line, new customer',
      value: `${cost.trips.toFixed(3)} (${cost.commands})`,
      floor: cost.singleTrips.toFixed(3),
      ratio: ratioOf(cost.trips, cost.singleTrips),
      target: '= floor',
      met: cost.trips <= cost.singleTrips + 0.01,
      note: 'HTTP requests to DynamoDB per line of a 500-line import (the org configuration is read once per job); floor: the transactions of a single add with an Idempotency-Key, which also sends its share of the rate counter while an import has none.',
    },
    {
      group: 'importer',
      name: 'importer / write units per line, new customer',
      value: cost.units.toFixed(2),
      floor: cost.singleUnits.toFixed(2),
      ratio: ratioOf(cost.units, cost.singleUnits),
      target: '= floor',
      met: Math.abs(cost.units - cost.singleUnits) < 0.05,
      note: 'write units of the items written, computed from the items as sent (2 per KB of each transaction item); floor: the transaction of a single add of the same kind with an Idempotency-Key (the record is an item of the transaction in both).',
    },
    {
      group: 'importer',
      name: `importer / ${long.lines.toLocaleString('en')}-line import, elapsed`,
      value: `${long.seconds.toFixed(1)} s (${(long.lines / long.seconds).toFixed(0)}/s)`,
      floor: `${floorSeconds.toFixed(1)} s`,
      ratio: elapsedRatio,
      target: '≤ 1.2',
      met: elapsedRatio <= 1.2,
      note: `\`scripts/import.ts --rate 1000000 --concurrency ${options.inFlight}\` in its own process on a file of typical new customers, against a table of its own; the figure is the summary's elapsed time (the file's hash pass included); floor: the same number of raw transactions at the raw rate above.`,
      evidence: { seconds: long.seconds, floorSeconds },
    },
    {
      group: 'importer',
      name: `importer / peak memory, ${long.lines.toLocaleString('en')} lines against ${short.lines.toLocaleString('en')}`,
      value: `${long.peakMb} MB`,
      floor: `${short.peakMb} MB`,
      ratio: memoryRatio,
      target: '≤ 1.25',
      met: memoryRatio <= 1.25,
      note: `peak resident memory (getrusage maxrss) of the import process, as its summary prints it, for ${long.lines.toLocaleString('en')} lines against ${short.lines.toLocaleString('en')} lines (${short.seconds.toFixed(1)} s): flat, since the file is streamed and at most a few thousand lines are held.`,
      evidence: { longMb: long.peakMb, shortMb: short.peakMb },
    },
  ];
  return { title: 'Importer', figures, notes: [] };
}
