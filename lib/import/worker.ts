// The Step Functions worker of an import at scale (SPEC section 9): a Distributed Map reads a JSON
// Lines object in S3 and hands each invocation a batch,
//
//   {"Items": [...], "BatchInput": {"orgId": 100, "job": "members-2026-11", "till": "demo.till"}}
//
// and the lines go through the same per-line core and pipeline as the CLI's (ordered where they
// share an identifier, paced, 503s retried). An item is what the state machine's ItemSelector
// makes of a line, `{"line": N, "text": "<the line's JSON>"}`, or `{"line": N, "body": {...}}`, or
// the parsed line itself as the JSONL reader gives it without an ItemSelector. An item without a
// line number is keyed by a hash of its content (and its place among identical items of the
// batch), so identical lines in two batches count as one line.
//
// What the state machine sends is a batch of its plan (lib/import/plan.ts): one item
// `{"first": N, "lines": L, "start": S, "end": E}`, the byte range [S, E) of the members' object
// `BatchInput.key`, read here (insisting on the version `BatchInput.tag` that was planned) and cut
// into lines exactly as the CLI does, so a line that is not JSON or not UTF-8 is one rejected
// line, numbered as in the file.
//
// The output is one result per line, in order (line, status, customerId, codes, outcome and a
// short reason: no values), which the map's ResultWriter writes to S3. DynamoDB staying unavailable throws
// ImportUnavailable, for the state machine's Retry; a batch input that cannot work throws
// ImportInvalidInput, which is not retried.

import { createHash } from 'node:crypto';
import { log } from '../log';
import { DirectoryImportObjects, ObjectChangedError, S3ImportObjects, type ImportObjects } from '../ports/importObjects';
import { readJsonLine, type LineInput, type LineResult } from './lineCore';
import { linesOf as physicalLinesOf, type PhysicalLine } from './lines';
import { jsonlRecordsOf } from './records';
import { DEFAULT_RETRY, TokenBucket } from './pacing';
import { LinePipeline } from './pipeline';
import { importBucket, importObjectsDir, workerConcurrency, workerRate } from './settings';
import { count, emptyTally, type Tally } from './tally';
import { loadTarget } from './target';
import { checkJob } from './job';

export interface WorkerEvent {
  Items?: unknown;
  BatchInput?: { orgId?: unknown; job?: unknown; till?: unknown; key?: unknown; tag?: unknown };
}

export interface WorkerOutput {
  orgId: number;
  job: string;
  counts: Tally;
  results: LineResult[];
}

export class InvalidBatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportInvalidInput';
  }
}

export interface WorkerOptions {
  /** Milliseconds left before the deadline (the Lambda's remaining time, less a margin). */
  timeLeft?: () => number;
  concurrency?: number;
  rate?: number;
  /** Where planned batches' bytes are read: the import bucket, or IMPORT_OBJECTS_DIR locally. */
  objects?: ImportObjects;
}

/** A reason in the results is cut to this many characters: 1,000 results stay well under Step Functions' 256 KiB. */
const REASON_CHARACTERS = 160;

export async function importBatch(event: WorkerEvent, options: WorkerOptions = {}): Promise<WorkerOutput> {
  const started = performance.now();
  const batch = readEvent(event);
  const { orgId, job, till } = batch;
  const target = await loadTarget(orgId, till, job).catch((error: Error) => {
    throw error.name === 'ImportError' ? new InvalidBatchError(error.message) : error;
  });
  const results: LineResult[] = [];
  const place = new Map<LineInput, number>();
  const pipeline = new LinePipeline({
    target,
    concurrency: options.concurrency ?? workerConcurrency(),
    pacing: new TokenBucket(options.rate ?? workerRate()),
    retry: { ...DEFAULT_RETRY, timeLeft: options.timeLeft },
    onResult: (input, result) => {
      results[place.get(input)!] = shortened(result);
    },
  });
  try {
    for await (const input of inputsOf(batch, () => options.objects ?? defaultObjects())) {
      place.set(input, place.size);
      await pipeline.push(input);
    }
  } catch (error) {
    throw error instanceof ObjectChangedError ? new InvalidBatchError(error.message) : error;
  } finally {
    await pipeline.drain().catch(() => undefined);
  }
  if (pipeline.failed !== undefined) throw pipeline.failed;
  const counts = emptyTally();
  for (const result of results) count(counts, result);
  log.info('import batch', { orgId, job, lines: results.length, ...counts, ms: Math.round(performance.now() - started) });
  return { orgId, job, counts, results };
}

// One per warm worker (and per place), so each batch does not build a new S3 client.
const objectsByPlace = new Map<string, ImportObjects>();

function defaultObjects(): ImportObjects {
  const bucket = importBucket();
  const dir = importObjectsDir();
  const place = bucket ? `s3:${bucket}` : dir ? `dir:${dir}` : undefined;
  if (!place) throw new InvalidBatchError('planned batches need IMPORT_BUCKET (or IMPORT_OBJECTS_DIR locally)');
  if (!objectsByPlace.has(place)) objectsByPlace.set(place, bucket ? new S3ImportObjects(bucket) : new DirectoryImportObjects(dir!));
  return objectsByPlace.get(place)!;
}

function shortened(result: LineResult): LineResult {
  return result.reason !== undefined && result.reason.length > REASON_CHARACTERS
    ? { ...result, reason: `${result.reason.slice(0, REASON_CHARACTERS - 1)}…` }
    : result;
}

interface PlannedItem {
  first: number;
  lines: number;
  start: number;
  end: number;
}

function isPlannedItem(item: unknown): item is PlannedItem {
  const planned = item as Partial<PlannedItem> | null;
  return (
    isLineNumber(planned?.first) &&
    Number.isSafeInteger(planned.lines) &&
    Number.isSafeInteger(planned.start) &&
    Number.isSafeInteger(planned.end) &&
    planned.start! >= 0 &&
    planned.end! >= planned.start!
  );
}

/** The batch's lines: planned byte ranges read from the object, or items that carry their lines. */
async function* inputsOf(batch: BatchOf, objects: () => ImportObjects): AsyncGenerator<LineInput> {
  if (!batch.items.some(isPlannedItem)) {
    yield* itemLinesOf(batch.items);
    return;
  }
  if (!batch.key) throw new InvalidBatchError('BatchInput.key must name the object the batch was planned from');
  for (const item of batch.items) {
    if (!isPlannedItem(item)) throw new InvalidBatchError('a batch mixes planned ranges and other items');
    let seen = 0;
    const counted = async function* (lines: AsyncIterable<PhysicalLine>) {
      for await (const line of lines) {
        seen++;
        yield line;
      }
    };
    const chunks = objects().readRange(batch.key, item.start, item.end, batch.tag);
    for await (const record of jsonlRecordsOf(counted(physicalLinesOf(chunks, { number: item.first, offset: item.start })))) {
      const { line, keyPart, body, unreadable } = record;
      yield unreadable ? { line, keyPart, unreadable } : { line, keyPart, body };
    }
    if (seen !== item.lines) throw new ObjectChangedError(batch.key);
  }
}

interface BatchOf {
  orgId: number;
  job: string;
  till?: string;
  items: unknown[];
  key?: string;
  tag?: string;
}

function readEvent(event: WorkerEvent): BatchOf {
  if (!Array.isArray(event?.Items)) throw new InvalidBatchError('the event has no Items array (is ItemBatcher set?)');
  const input = event.BatchInput ?? {};
  const orgId = typeof input.orgId === 'string' && /^\d+$/.test(input.orgId) ? Number(input.orgId) : input.orgId;
  if (!Number.isSafeInteger(orgId) || (orgId as number) < 1) throw new InvalidBatchError('BatchInput.orgId must be a positive integer');
  if (typeof input.job !== 'string') throw new InvalidBatchError('BatchInput.job must be a string');
  try {
    checkJob(input.job);
  } catch (error) {
    throw new InvalidBatchError((error as Error).message);
  }
  if (input.till !== undefined && input.till !== null && typeof input.till !== 'string') {
    throw new InvalidBatchError('BatchInput.till must be a till code');
  }
  if (input.key !== undefined && (typeof input.key !== 'string' || !input.key.startsWith('imports/')))
    throw new InvalidBatchError('BatchInput.key must name an object under imports/');
  if (input.tag !== undefined && typeof input.tag !== 'string') throw new InvalidBatchError('BatchInput.tag must be a string');
  return {
    orgId: orgId as number,
    job: input.job,
    till: (input.till as string | null) ?? undefined,
    items: event.Items,
    key: input.key as string | undefined,
    tag: input.tag as string | undefined,
  };
}

/** Each item as a line: wrapped ones keep their line number; raw ones are keyed by content. */
function itemLinesOf(items: unknown[]): LineInput[] {
  const seen = new Map<string, number>();
  return items.map((item) => {
    const wrapped = item as { line?: unknown; text?: unknown; body?: unknown };
    if (isLineNumber(wrapped?.line) && typeof wrapped.text === 'string')
      return { line: wrapped.line, keyPart: String(wrapped.line), ...readJsonLine(wrapped.text) };
    if (isLineNumber(wrapped?.line) && 'body' in wrapped) return { line: wrapped.line, keyPart: String(wrapped.line), body: wrapped.body };
    const hash = createHash('sha256').update(JSON.stringify(item)).digest('hex').slice(0, 32);
    const n = (seen.get(hash) ?? 0) + 1;
    seen.set(hash, n);
    return { line: null, keyPart: `h${hash}${n > 1 ? `.${n}` : ''}`, body: item };
  });
}

function isLineNumber(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}
