// `npm run bench`: measures the registration service against the floor of what any
// implementation of POST /v2/customers must spend, prints one line per figure and writes
// BENCHMARKS.md. Runs DynamoDB Local (Java 17) in memory on a free port and stops it.
//
// Environment: BENCH_QUICK=1 for a short smoke run (fewer rounds and samples).
// `npm run bench -- --only customerChanges,dynamoCost` runs only the named parts (with what they
// need) and prints their figures without writing BENCHMARKS.md, which only a full run writes;
// `--out FILE` writes their markdown to FILE instead.
import './support/env';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startDynamoDbLocal, type DynamoDbLocal } from '../scripts/dynamodbLocal';
import { runCommand, UsageError } from '../scripts/cli';
import { DEMO_ORGS_FILE, loadOrgFiles } from '../scripts/loadOrgs';
import { ensureTable, localClient } from '../scripts/table';
import { measureColdStart } from './figures/coldStart';
import { customerChangesSection, measureCustomerChanges } from './figures/customerChanges';
import { measureDynamoCost, roundTripSection, writeUnitSection, type DynamoCost } from './figures/dynamoCost';
import { eventPublisherSection, measureEventPublisher } from './figures/eventPublisher';
import { measureBulk } from './figures/bulk';
import { measureHostileBody } from './figures/hostileBody';
import { measureImporter } from './figures/importer';
import { measureImportAtScale } from './figures/importAtScale';
import { measureOverhead } from './figures/overhead';
import { measureRaceLosers } from './figures/raceLosers';
import { measureRateCounter, rateCounterSection } from './figures/rateCounter';
import { measureThroughput } from './figures/throughput';
import { findingsFor } from './support/findings';
import { machine, markdown, summaryLine, type Section } from './support/report';

const ROOT = resolve(__dirname, '..');
const quick = process.env.BENCH_QUICK === '1';

const PARTS = [
  'overhead',
  'coldStart',
  'dynamoCost',
  'customerChanges',
  'eventPublisher',
  'rateCounter',
  'raceLosers',
  'throughput',
  'bulk',
  'importer',
  'importAtScale',
  'hostileBody',
] as const;
type Part = (typeof PARTS)[number];

const USAGE = `usage: npm run bench [-- --only <part>[,<part>...] [--out FILE]]

Measures the service against the floor of what any implementation must spend and writes
BENCHMARKS.md (about 11 minutes on 2 cores; BENCH_QUICK=1 for a short smoke run).
  --only a,b   run only these parts (and what they need), print their figures and leave
               BENCHMARKS.md alone; parts: ${PARTS.join(', ')}
  --out FILE   with --only: write those parts' markdown to FILE
  -h, --help   this text`;

interface Flags {
  /** The parts `--only` names; undefined for a full run. */
  only?: Set<Part>;
  out?: string;
}

function readFlags(argv: string[]): Flags | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { only: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message.split(/\n|\. /)[0]);
  }
  if (values.help) return 'help';
  if (values.out !== undefined && values.only === undefined)
    throw new UsageError('--out goes with --only: a full run writes BENCHMARKS.md');
  if (values.only === undefined) return {};
  const names = values.only.split(',').filter(Boolean);
  const unknown = names.filter((n) => !(PARTS as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new UsageError(`--only names parts among ${PARTS.join(', ')}, not ${JSON.stringify(values.only)}`);
  }
  return { only: new Set(names as Part[]), ...(values.out !== undefined ? { out: values.out } : {}) };
}

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

async function main(argv: string[]): Promise<number> {
  const flags = readFlags(argv);
  if (flags === 'help') {
    console.log(USAGE);
    return 0;
  }
  const started = performance.now();
  const { only } = flags;
  const wanted = (part: Part) => !only || only.has(part);
  const host = machine();
  const workDir = mkdtempSync(join(tmpdir(), 'bench-'));
  let local: DynamoDbLocal | undefined;
  const stopLocal = () => {
    // By its own process id only.
    if (local && local.process.exitCode === null) local.process.kill('SIGKILL');
  };
  process.once('SIGINT', () => {
    stopLocal();
    process.exit(130);
  });
  // The customer changes and the event publisher use the registration figures.
  const needCost = wanted('dynamoCost') || wanted('customerChanges') || wanted('eventPublisher');
  const needTable = needCost || (['rateCounter', 'raceLosers', 'throughput', 'bulk', 'importer', 'importAtScale'] as Part[]).some(wanted);
  try {
    const sections: Section[] = [];
    // Figures 3 and 4 need no database: DynamoDB answers from memory.
    let overhead: Awaited<ReturnType<typeof measureOverhead>> | undefined;
    if (wanted('overhead') || wanted('coldStart')) {
      progress('warm handler overhead (in-memory DynamoDB, its own process)');
      overhead = await measureOverhead({ workDir, taskMs: quick ? 1000 : 4000 });
    }
    let cold: Section | undefined;
    if (wanted('coldStart')) {
      progress('cold start (esbuild bundles, new node processes)');
      cold = await measureColdStart({ workDir, runs: quick ? 3 : 7, memoryItems: overhead!.memoryItems });
    }

    if (needTable) {
      progress('starting DynamoDB Local');
      local = await startDynamoDbLocal();
      process.env.DYNAMODB_ENDPOINT = local.endpoint;
      process.env.TABLE_NAME = `bench-${Date.now()}`;
    }
    // Only the parts that need the table use it.
    const raw = localClient(local?.endpoint ?? 'http://127.0.0.1:1');
    if (needTable) {
      await ensureTable(raw, process.env.TABLE_NAME!);
      await loadOrgFiles([DEMO_ORGS_FILE]);
    }

    let cost: DynamoCost | undefined;
    if (needCost) {
      progress("round trips and write units per request kind, and the rate counter's share");
      cost = await measureDynamoCost(raw, quick ? 300 : 1000);
      if (wanted('dynamoCost')) sections.push(roundTripSection(cost), writeUnitSection(cost));
    }

    if (wanted('customerChanges')) {
      progress('round trips and write units of an update, an identifier change, an erase, a merge and an unmerge');
      sections.push(customerChangesSection(await measureCustomerChanges(raw), cost!.counter));
    }

    if (wanted('eventPublisher')) {
      progress('event publisher per event (a table with the stream: new registrations and merges, batches of 100)');
      sections.push(
        eventPublisherSection(await measureEventPublisher(raw, { customers: quick ? 300 : 1000, mergeEvery: 10, passes: quick ? 3 : 7 }), {
          newCustomer: cost!.kinds.newCustomer.transaction,
          merge: cost!.kinds.merge.transaction,
        }),
      );
    }

    if (wanted('rateCounter')) {
      progress('the rate counter with 1, 10 and 100 instances of one org at its limit');
      sections.push(rateCounterSection(await measureRateCounter(raw)));
    }

    if (wanted('raceLosers')) {
      progress('the losers of 40 identical registrations at once');
      sections.push(await measureRaceLosers(quick ? 3 : 10));
    }

    if (overhead && wanted('overhead')) sections.push(overhead.section);
    if (cold) sections.push(cold);

    if (wanted('throughput')) {
      progress('throughput (16 in flight)');
      sections.push(
        await measureThroughput({
          raw,
          inFlight: 16,
          rounds: quick ? 2 : 5,
          perRound: quick ? 300 : 1200,
          warmup: quick ? 200 : 800,
        }),
      );
    }

    if (wanted('bulk')) {
      progress('bulk of 100 against 100 single adds');
      sections.push(await measureBulk(raw, quick ? 2 : 5));
    }

    if (wanted('importer')) {
      progress('importer (16 in flight; a 100,000-line import in its own process)');
      sections.push(
        await measureImporter({
          raw,
          workDir,
          inFlight: 16,
          rounds: quick ? 2 : 5,
          perRound: quick ? 300 : 1200,
          longLines: quick ? 20_000 : 100_000,
          shortLines: quick ? 2_000 : 10_000,
        }),
      );
    }

    if (wanted('importAtScale')) {
      progress('10 M lines in AWS, modelled from the worker on planned batches');
      sections.push(await measureImportAtScale({ raw, workDir, lines: quick ? 2_000 : 6_000 }));
    }

    if (wanted('hostileBody')) {
      progress('CPU of the largest hostile bodies');
      sections.push(await measureHostileBody(quick ? 3 : 9));
    }

    const figures = sections.flatMap((s) => s.figures);
    const seconds = (performance.now() - started) / 1000;
    const out = only ? flags.out : join(ROOT, 'BENCHMARKS.md');
    if (out) writeFileSync(resolve(out), markdown(sections, host, seconds, findingsFor(figures)));
    for (const figure of figures) console.log(summaryLine(figure));
    console.log(
      only
        ? `ran ${[...only].join(', ')} only (${seconds.toFixed(0)} s)${out ? `, wrote ${out}` : ''}; BENCHMARKS.md not written (a full \`npm run bench\` writes it)`
        : `wrote BENCHMARKS.md (${seconds.toFixed(0)} s; nproc ${host.nproc}, node ${host.node})`,
    );
    return 0;
  } finally {
    if (local) await local.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

runCommand(
  'bench',
  () => main(process.argv.slice(2)),
  (error) => error.stack ?? error.message,
);
