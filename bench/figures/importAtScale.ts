import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import IMPORT_SIZING from '../../config/import.json';
import { planText } from '../../lib/import/plan';
import { importBatch } from '../../lib/import/worker';
import { DirectoryImportObjects } from '../../lib/ports/importObjects';
import { documentClient } from '../../lib/store/client';
import { captureWrites, costsOf, lookupWith } from '../support/capacity';
import { ratioOf, type Figure, type Section } from '../support/report';
import { typicalBody } from '../support/requests';
import { countRoundTrips } from '../support/roundTrips';

// 10 million members imported in AWS (SPEC section 9: under an hour, under $100), modelled from
// what this machine can measure: the importWorker driven with the Distributed Map's own batch
// events (a planned batch of whole lines, read from a directory laid out like the bucket)
// against DynamoDB Local, for its CPU, DynamoDB requests and write units per line, and the
// planner's CPU per byte; with the template's sizing (config/import.json, which serverless.yml
// reads). The model's assumptions about AWS (latencies, throughput of one S3 stream, the
// publisher's cost per event) are written next to the figures.

const LINES = 10_000_000;

/**
 * AWS list prices, us-east-1 (the asia1 stage), as published in November 2024 (DynamoDB's
 * on-demand prices after their 2024-11-01 reduction); eu-west-1 and ap-southeast-1 list prices
 * are within REGIONAL_MARGIN of these, which the cost includes.
 */
const PRICES = {
  dynamoWritePerMillion: 0.625,
  dynamoReadPerMillion: 0.125,
  stepFunctionsPerThousandTransitions: 0.025,
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  eventBridgePerMillionEvents: 1.0,
  s3GetPerThousand: 0.0004,
  s3PutPerThousand: 0.005,
  logsIngestionPerGb: 0.5,
} as const;
const PRICES_AS_OF = 'November 2024 list prices, us-east-1, +15 % for the other regions';
const REGIONAL_MARGIN = 1.15;

/** Assumptions about AWS, not measurable here. */
const ASSUMED = {
  /** One S3 GetObject stream into a Lambda of 1 GB. */
  s3StreamMbPerSecond: 80,
  /** Starting a child execution, invoking the worker, the first byte of its range and the org's read, per batch. */
  batchOverheadSeconds: 0.3,
  /** Step Functions transitions per child (its start, its one Task, its end) and of the parent. */
  transitionsPerChild: 3,
  parentTransitions: 10,
  /** The publisher's Lambda time per stream record (512 MB), and the log bytes it writes per event. */
  publisherMsPerRecord: 2,
  publisherMemoryGb: 0.5,
  logBytesPerEvent: 300,
  /** A vCPU of Lambda per 1,769 MB of memory. */
  mbPerVcpu: 1769,
};

export interface ImportAtScaleOptions {
  raw: DynamoDBClient;
  workDir: string;
  /** Lines of the measured run (in batches of config/import.json's size). */
  lines: number;
}

interface Measured {
  cpuMsPerLine: number;
  tripsPerLine: number;
  readsPerLine: number;
  writeUnitsPerLine: number;
  bytesPerLine: number;
  plannerMbPerCpuSecond: number;
  localLinesPerSecond: number;
  createdShare: number;
}

async function measure(options: ImportAtScaleOptions): Promise<Measured> {
  const bucket = join(options.workDir, `bucket-${randomUUID().slice(0, 8)}`);
  mkdirSync(join(bucket, 'imports'), { recursive: true });
  const text = Array.from({ length: options.lines }, () => `${JSON.stringify(typicalBody())}\n`).join('');
  writeFileSync(join(bucket, 'imports', 'members.jsonl'), text);
  const objects = new DirectoryImportObjects(bucket);
  const job = `bench-scale-${randomUUID().slice(0, 8)}`;
  const object = await objects.read('imports/members.jsonl');
  const { text: plan } = await planText(object.chunks, { lines: IMPORT_SIZING.linesPerBatch, bytes: IMPORT_SIZING.bytesPerBatch });
  const batches = plan
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

  // The planner's CPU on a larger text (newlines counted, nothing decoded).
  const big = Buffer.from(text.repeat(Math.max(1, Math.ceil((64 * 1024 * 1024) / text.length))));
  const plannerStart = process.cpuUsage();
  await planText(
    (async function* () {
      for (let at = 0; at < big.length; at += 1024 * 1024) yield big.subarray(at, at + 1024 * 1024);
    })(),
    { lines: IMPORT_SIZING.linesPerBatch, bytes: IMPORT_SIZING.bytesPerBatch },
  );
  const plannerCpu = process.cpuUsage(plannerStart);
  const plannerMbPerCpuSecond = big.length / 1024 / 1024 / ((plannerCpu.user + plannerCpu.system) / 1e6);

  const client = documentClient();
  const counter = countRoundTrips(client);
  const capture = captureWrites(client);
  const event = (item: unknown) => ({
    Items: [item],
    BatchInput: { orgId: 100, job, till: null, key: 'imports/members.jsonl', tag: object.tag },
  });
  try {
    // A warm-up batch, as a warm worker would be (its figures are left out).
    await importBatch(event(batches[0]), { objects, concurrency: IMPORT_SIZING.workerConcurrency, rate: 1e9 });
    counter.reset();
    capture.reset();
    let lines = 0;
    let created = 0;
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    for (const batch of batches.slice(1)) {
      const output = await importBatch(event(batch), { objects, concurrency: IMPORT_SIZING.workerConcurrency, rate: 1e9 });
      lines += output.results.length;
      created += output.counts.created;
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const commands = counter.commands();
    const reads = (commands.GetItem ?? 0) + (commands.BatchGetItem ?? 0) + (commands.Query ?? 0);
    const units = (await costsOf(capture.writes(), lookupWith(options.raw))).reduce((sum, c) => sum + c.units, 0);
    return {
      cpuMsPerLine: (cpu.user + cpu.system) / 1000 / lines,
      tripsPerLine: counter.httpRequests() / lines,
      readsPerLine: reads / lines,
      writeUnitsPerLine: units / lines,
      bytesPerLine: text.length / options.lines,
      plannerMbPerCpuSecond,
      localLinesPerSecond: lines / seconds,
      createdShare: created / lines,
    };
  } finally {
    counter.detach();
    capture.detach();
  }
}

export interface ScaleModel {
  elapsedSeconds: number;
  plannerSeconds: number;
  mapSeconds: number;
  linesPerSecond: number;
  binding: string;
  costs: Record<string, number>;
  cost: number;
}

/** Elapsed time and charges of LINES lines with the template's sizing and the measured figures. */
export function modelOf(measured: Measured, sizing = IMPORT_SIZING): ScaleModel {
  const vcpu = sizing.workerMemoryMb / ASSUMED.mbPerVcpu;
  const perWorker = {
    paced: sizing.workerRate,
    cpu: (vcpu * 1000) / measured.cpuMsPerLine,
  };
  const limits: Record<string, number> = {
    [`${sizing.maxConcurrency} workers × ${sizing.workerRate}/s (the pace)`]: sizing.maxConcurrency * perWorker.paced,
    [`${sizing.maxConcurrency} workers' CPU (${vcpu.toFixed(2)} vCPU each)`]: sizing.maxConcurrency * perWorker.cpu,
    [`the table's warm ${sizing.tableWarmWriteUnits} write units a second`]: sizing.tableWarmWriteUnits / measured.writeUnitsPerLine,
  };
  const [binding, linesPerSecond] = Object.entries(limits).sort((a, b) => a[1] - b[1])[0];
  const workerRate = linesPerSecond / sizing.maxConcurrency;
  const batches = Math.ceil(LINES / sizing.linesPerBatch);
  const batchSeconds = sizing.linesPerBatch / workerRate + ASSUMED.batchOverheadSeconds;
  const mapSeconds = Math.ceil(batches / sizing.maxConcurrency) * batchSeconds;
  const fileMb = (LINES * measured.bytesPerLine) / 1024 / 1024;
  const plannerSeconds =
    fileMb / Math.min(ASSUMED.s3StreamMbPerSecond, measured.plannerMbPerCpuSecond * (sizing.plannerMemoryMb / ASSUMED.mbPerVcpu));
  const events = LINES * measured.createdShare;
  const costs = {
    'DynamoDB writes': LINES * measured.writeUnitsPerLine * (PRICES.dynamoWritePerMillion / 1e6) * REGIONAL_MARGIN,
    'DynamoDB reads': (LINES * measured.readsPerLine + batches) * (PRICES.dynamoReadPerMillion / 1e6) * REGIONAL_MARGIN,
    'Step Functions transitions':
      ((batches * ASSUMED.transitionsPerChild + ASSUMED.parentTransitions) * PRICES.stepFunctionsPerThousandTransitions * REGIONAL_MARGIN) /
      1000,
    'Lambda (worker, planner, publisher)':
      (sizing.maxConcurrency * mapSeconds * (sizing.workerMemoryMb / 1024) +
        plannerSeconds * (sizing.plannerMemoryMb / 1024) +
        (LINES * ASSUMED.publisherMsPerRecord * ASSUMED.publisherMemoryGb) / 1000) *
        PRICES.lambdaArmPerGbSecond *
        REGIONAL_MARGIN +
      ((batches + LINES / 100) * PRICES.lambdaPerMillionRequests * REGIONAL_MARGIN) / 1e6,
    'EventBridge events': events * (PRICES.eventBridgePerMillionEvents / 1e6) * REGIONAL_MARGIN,
    S3: ((batches + 1) * PRICES.s3GetPerThousand + (fileMb / 8 + batches / 100 + 2) * PRICES.s3PutPerThousand) * (REGIONAL_MARGIN / 1000),
    'CloudWatch Logs': ((events * ASSUMED.logBytesPerEvent + batches * 400) / 1024 ** 3) * PRICES.logsIngestionPerGb * REGIONAL_MARGIN,
  };
  const cost = Object.values(costs).reduce((a, b) => a + b, 0);
  return { elapsedSeconds: plannerSeconds + mapSeconds, plannerSeconds, mapSeconds, linesPerSecond, binding, costs, cost };
}

const minutes = (seconds: number) => `${Math.floor(seconds / 60)} min ${String(Math.round(seconds % 60)).padStart(2, '0')} s`;

export async function measureImportAtScale(options: ImportAtScaleOptions): Promise<Section> {
  const measured = await measure(options);
  const model = modelOf(measured);
  const breakdown = Object.entries(model.costs)
    .map(([what, dollars]) => `${what} $${dollars.toFixed(2)}`)
    .join(', ');
  const figures: Figure[] = [
    {
      name: '10 M lines, elapsed',
      group: 'import at scale',
      value: `${minutes(model.elapsedSeconds)} (${Math.round(model.linesPerSecond)} lines/s)`,
      floor: '1 h',
      ratio: ratioOf(model.elapsedSeconds, 3600),
      target: '≤ 1',
      met: model.elapsedSeconds <= 3600,
      note:
        `A model: the planner's pass over the file (${minutes(model.plannerSeconds)}, ${((measured.bytesPerLine * LINES) / 1024 ** 3).toFixed(1)} GB at ` +
        `min(${ASSUMED.s3StreamMbPerSecond} MB/s assumed for one S3 stream, the planner's measured ${Math.round(measured.plannerMbPerCpuSecond)} MB per CPU second)), then ` +
        `${Math.ceil(LINES / IMPORT_SIZING.linesPerBatch)} batches of ${IMPORT_SIZING.linesPerBatch} lines, ${IMPORT_SIZING.maxConcurrency} at a time ` +
        `(${minutes(model.mapSeconds)}), each taking its lines at the binding rate plus ${ASSUMED.batchOverheadSeconds} s assumed for the child's start, ` +
        `the invocation and the range's first byte. Binding: ${model.binding}. Measured here (the worker driven with planned batch events against ` +
        `DynamoDB Local, ${options.lines} typical new customers): ${measured.cpuMsPerLine.toFixed(2)} ms of CPU per line ` +
        `(${Math.round(measured.localLinesPerSecond)} lines/s on this machine, DynamoDB Local sharing it), ${measured.tripsPerLine.toFixed(3)} DynamoDB requests ` +
        `and ${measured.writeUnitsPerLine.toFixed(2)} write units per line. Other limits: Lambda's default 1,000 concurrent executions per account and region ` +
        `(the import takes ${IMPORT_SIZING.maxConcurrency + 1}), DynamoDB's 1,000 write units a second per partition (keys spread by customer and identifier; ` +
        `the org's item is read once per batch), S3's 5,500 GETs a second per prefix (${(IMPORT_SIZING.maxConcurrency / (IMPORT_SIZING.linesPerBatch / (model.linesPerSecond / IMPORT_SIZING.maxConcurrency))).toFixed(1)} a second).`,
      evidence: { elapsedSeconds: model.elapsedSeconds, linesPerSecond: model.linesPerSecond, cpuMsPerLine: measured.cpuMsPerLine },
    },
    {
      name: '10 M lines, cost',
      group: 'import at scale',
      value: `$${model.cost.toFixed(2)}`,
      floor: '$100',
      ratio: ratioOf(model.cost, 100),
      target: '≤ 1',
      met: model.cost <= 100,
      note:
        `${PRICES_AS_OF}: ${breakdown}. Writes at the measured ${measured.writeUnitsPerLine.toFixed(2)} write units per line, one event per new customer ` +
        `(${(measured.createdShare * 100).toFixed(0)} % of the lines here), the publisher at ${ASSUMED.publisherMsPerRecord} ms of a ${ASSUMED.publisherMemoryGb * 1024} MB Lambda per record (assumed), ` +
        `Standard child executions at ${ASSUMED.transitionsPerChild} transitions each. Not in it: the table's storage and point-in-time recovery (monthly, not per import: ` +
        `about 2 KB a member), webhooks to subscriptions that take imports (an SQS message and a delivery each), and the one-time pre-warm of the table (WarmThroughput, at creation).`,
      evidence: { cost: model.cost },
    },
  ];
  return { title: 'Import at scale (10 M lines, modelled)', figures, notes: [] };
}
