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
// The output is one result per item, in item order (line, status, customerId, codes, outcome:
// no values), which the map's ResultWriter writes to S3. DynamoDB staying unavailable throws
// ImportUnavailable, for the state machine's Retry; a batch input that cannot work throws
// ImportInvalidInput, which is not retried.

import { createHash } from 'node:crypto';
import { log } from '../log';
import { readJsonLine, type LineInput, type LineResult } from './lineCore';
import { DEFAULT_RETRY, TokenBucket } from './pacing';
import { LinePipeline } from './pipeline';
import { workerConcurrency, workerRate } from './settings';
import { count, emptyTally, type Tally } from './tally';
import { loadTarget } from './target';
import { checkJob } from './job';

export interface WorkerEvent {
  Items?: unknown;
  BatchInput?: { orgId?: unknown; job?: unknown; till?: unknown };
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
}

export async function importBatch(event: WorkerEvent, options: WorkerOptions = {}): Promise<WorkerOutput> {
  const started = performance.now();
  const { orgId, job, till, items } = readEvent(event);
  const target = await loadTarget(orgId, till, job).catch((error: Error) => {
    throw error.name === 'ImportError' ? new InvalidBatchError(error.message) : error;
  });
  const inputs = linesOf(items);
  const results: (LineResult | undefined)[] = new Array(inputs.length);
  const place = new Map<LineInput, number>(inputs.map((input, index) => [input, index]));
  const pipeline = new LinePipeline({
    target,
    concurrency: options.concurrency ?? workerConcurrency(),
    pacing: new TokenBucket(options.rate ?? workerRate()),
    retry: { ...DEFAULT_RETRY, timeLeft: options.timeLeft },
    onResult: (input, result) => {
      results[place.get(input)!] = result;
    },
  });
  try {
    for (const input of inputs) await pipeline.push(input);
  } finally {
    await pipeline.drain().catch(() => undefined);
  }
  if (pipeline.failed !== undefined) throw pipeline.failed;
  const counts = emptyTally();
  for (const result of results) count(counts, result!);
  log.info('import batch', { orgId, job, lines: inputs.length, ...counts, ms: Math.round(performance.now() - started) });
  return { orgId, job, counts, results: results as LineResult[] };
}

function readEvent(event: WorkerEvent): { orgId: number; job: string; till?: string; items: unknown[] } {
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
  return { orgId: orgId as number, job: input.job, till: (input.till as string | null) ?? undefined, items: event.Items };
}

/** Each item as a line: wrapped ones keep their line number; raw ones are keyed by content. */
function linesOf(items: unknown[]): LineInput[] {
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
