// `npm run bench`: measures the registration service against the floor of what any
// implementation of POST /v2/customers must spend, prints one line per figure and writes
// BENCHMARKS.md. Runs DynamoDB Local (Java 17) in memory on a free port and stops it.
//
// Environment: BENCH_QUICK=1 for a short smoke run (fewer rounds and samples).
import './support/env';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDynamoDbLocal, type DynamoDbLocal } from '../scripts/dynamodbLocal';
import { DEMO_ORGS_FILE, loadOrgFiles } from '../scripts/loadOrgs';
import { ensureTable, localClient } from '../scripts/table';
import { measureColdStart } from './figures/coldStart';
import { measureDynamoCost, roundTripSection, writeUnitSection } from './figures/dynamoCost';
import { eventPublisherSection, measureEventPublisher } from './figures/eventPublisher';
import { measureBulk } from './figures/bulk';
import { measureHostileBody } from './figures/hostileBody';
import { measureImporter } from './figures/importer';
import { measureOverhead } from './figures/overhead';
import { measureRateCounter, rateCounterSection } from './figures/rateCounter';
import { measureThroughput } from './figures/throughput';
import { findingsFor } from './support/findings';
import { machine, markdown, summaryLine, type Section } from './support/report';

const ROOT = resolve(__dirname, '..');
const quick = process.env.BENCH_QUICK === '1';

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

async function main(): Promise<void> {
  const started = performance.now();
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
  try {
    // Figures 3 and 4 need no database: DynamoDB answers from memory.
    progress('warm handler overhead (in-memory DynamoDB, its own process)');
    const overhead = await measureOverhead({ workDir, taskMs: quick ? 1000 : 4000 });
    progress('cold start (esbuild bundles, new node processes)');
    const cold = await measureColdStart({ workDir, runs: quick ? 3 : 7, memoryItems: overhead.memoryItems });

    progress('starting DynamoDB Local');
    local = await startDynamoDbLocal();
    process.env.DYNAMODB_ENDPOINT = local.endpoint;
    process.env.TABLE_NAME = `bench-${Date.now()}`;
    const raw = localClient(local.endpoint);
    await ensureTable(raw, process.env.TABLE_NAME);
    await loadOrgFiles([DEMO_ORGS_FILE]);

    progress("round trips and write units per request kind, and the rate counter's share");
    const cost = await measureDynamoCost(raw, quick ? 300 : 1000);
    const roundTrips = roundTripSection(cost);
    const writeUnits = writeUnitSection(cost);

    progress('event publisher per event (a table with the stream: new registrations and merges, batches of 100)');
    const events = eventPublisherSection(
      await measureEventPublisher(raw, { customers: quick ? 300 : 1000, mergeEvery: 10, passes: quick ? 3 : 7 }),
      { newCustomer: cost.kinds.newCustomer.transaction, merge: cost.kinds.merge.transaction },
    );

    progress('the rate counter with 1, 10 and 100 instances of one org at its limit');
    const rateCounter = rateCounterSection(await measureRateCounter(raw));

    progress('throughput (16 in flight)');
    const throughput = await measureThroughput({
      raw,
      inFlight: 16,
      rounds: quick ? 2 : 5,
      perRound: quick ? 300 : 1200,
      warmup: quick ? 200 : 800,
    });

    progress('bulk of 100 against 100 single adds');
    const bulk = await measureBulk(raw, quick ? 2 : 5);

    progress('importer (16 in flight; a 100,000-line import in its own process)');
    const importer = await measureImporter({
      raw,
      workDir,
      inFlight: 16,
      rounds: quick ? 2 : 5,
      perRound: quick ? 300 : 1200,
      longLines: quick ? 20_000 : 100_000,
      shortLines: quick ? 2_000 : 10_000,
    });

    progress('CPU of the largest hostile bodies');
    const hostile = await measureHostileBody(quick ? 3 : 9);

    const sections: Section[] = [roundTrips, writeUnits, events, rateCounter, overhead.section, cold, throughput, bulk, importer, hostile];
    const figures = sections.flatMap((s) => s.figures);
    const seconds = (performance.now() - started) / 1000;
    writeFileSync(join(ROOT, 'BENCHMARKS.md'), markdown(sections, host, seconds, findingsFor(figures)));
    for (const figure of figures) console.log(summaryLine(figure));
    console.log(`wrote BENCHMARKS.md (${seconds.toFixed(0)} s; nproc ${host.nproc}, node ${host.node})`);
  } finally {
    if (local) await local.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
