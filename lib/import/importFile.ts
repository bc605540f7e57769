// `npm run import` (SPEC section 9): a brand's members from a JSON Lines or CSV file into the
// stage's table, through the per-line core (lineCore.ts), paced by --rate and bounded by
// --concurrency instead of the per-org request limit. Checks that can fail the whole job (the
// file, the CSV header, the org, the table) run before any line is sent, so a job that fails
// there leaves nothing half-done; then the job's lock is taken (jobLock.ts: one importer at a
// time, and a job is for one file), and the outputs of an earlier run are checked against their
// checkpoint (repair.ts). Then the file is streamed: lines are read while there is room (at most
// a few thousand held), results are written in line order, and a checkpoint records the
// finished prefix every second, on a stop (the signal: tries under way finish first; a line
// waiting to be tried again while DynamoDB is unavailable is left for the rerun at once), on a
// failure and at the end.

import { setMaxListeners } from 'node:events';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImportError } from './errors';
import { checkJob, hashOfFile, jobOfHash } from './job';
import { lockJob, type JobLock, type LockOptions } from './jobLock';
import type { ImportTarget, LineResult } from './lineCore';
import { DEFAULT_RETRY, TokenBucket, type RetryPolicy } from './pacing';
import { OrderedOutputs, outputPathsOf, readCheckpoint, type Checkpoint, type OutputPaths } from './outputs';
import { LinePipeline } from './pipeline';
import { silentProgress, type Progress } from './progress';
import { readCsvHeader, recordsOf, type CsvHeader, type ImportFormat, type ImportRecord } from './records';
import { resumePoint } from './repair';
import { linesOf, type Tally } from './tally';
import { loadTarget } from './target';

export interface ImportOptions {
  file: string;
  orgId: number;
  till?: string;
  /** Registrations per second. */
  rate: number;
  concurrency: number;
  /** Default: a hash of the file's content. */
  job?: string;
  /** Default: csv for a `.csv` file, else jsonl. */
  format?: ImportFormat;
  /** Aborting stops taking lines; tries under way finish, pauses before a retry end, the checkpoint is written. */
  signal?: AbortSignal;
  progress?: Progress;
  retry?: RetryPolicy;
  checkpointEveryMs?: number;
  /** Told of each line as it is written to the results (tests stop a job after N lines). */
  onLine?: (result: LineResult) => void;
  /** Told what an operator should know that is not a failure (a lock taken over). */
  notice?: (message: string) => void;
  /** The job lock's lease and renewal (tests shorten them). */
  lock?: LockOptions;
}

export interface ImportSummary {
  job: string;
  paths: OutputPaths;
  /** The whole file has been gone through (now or by an earlier run). */
  complete: boolean;
  /** The last line of the finished prefix. */
  prefixLine: number;
  /** Lines of the whole job so far (earlier runs' included). */
  total: Tally;
  /** Lines this run wrote. */
  run: Tally;
  /** Lines of the prefix an earlier run had finished (skipped). */
  skipped: number;
  elapsedMs: number;
}

/** Lines finished behind an unfinished one before reading waits (memory stays flat). */
const MAX_WAITING = 4096;

export async function importFile(options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const file = options.file;
  const size = checkReadable(file);
  const format = options.format ?? (extname(file).toLowerCase() === '.csv' ? 'csv' : 'jsonl');
  const header = format === 'csv' ? await readCsvHeader(file, basename(file)) : undefined;
  const given = options.job !== undefined ? checkJob(options.job) : undefined;
  const fileHash = await hashOfFile(file);
  const job = given ?? jobOfHash(fileHash);
  const target = await loadTarget(options.orgId, options.till, job);
  const lock = await lockJob({ orgId: options.orgId, job, fileHash, till: target.till }, options.lock);
  if (lock.tookOverFrom) {
    const { pid, host, since } = lock.tookOverFrom;
    options.notice?.(`took over job ${job} from pid ${pid} on host ${host} (running since ${since}), which is gone`);
  }
  try {
    return await runJob({ options, started, size, format, header, target, lock });
  } finally {
    await lock.release();
  }
}

interface Job {
  options: ImportOptions;
  started: number;
  size: number;
  format: ImportFormat;
  header: CsvHeader | undefined;
  target: ImportTarget;
  lock: JobLock;
}

/** The job once its lock is held: resume point, pipeline, outputs and checkpoints. */
async function runJob({ options, started, size, format, header, target, lock }: Job): Promise<ImportSummary> {
  const { file } = options;
  const job = target.job;
  const paths = outputPathsOf(file, extensionOf(file, format));
  const from = await resumePoint(paths, readCheckpoint(paths, job), () => recordsOf(file, format, header), header?.bytes);
  const skipped = from ? linesOf(from.tally) : 0;
  const outputs = new OrderedOutputs(paths, job, from, header?.bytes, options.onLine, () => lock.assertHeld());
  const summary = (complete: boolean): ImportSummary => ({
    job,
    paths,
    complete,
    prefixLine: outputs.prefix.line,
    total: outputs.tally,
    run: outputs.runTally,
    skipped,
    elapsedMs: performance.now() - started,
  });
  if (from?.complete) {
    outputs.close();
    return summary(true);
  }

  // Reading stops on the caller's signal, or when the lock is lost (another importer may have the files).
  const stop = new AbortController();
  // Every line pausing before a retry listens to it, up to the concurrency: no leak to warn of.
  setMaxListeners(0, stop.signal);
  if (options.signal?.aborted) stop.abort();
  options.signal?.addEventListener('abort', () => stop.abort(), { once: true });
  lock.onLost(() => stop.abort());

  const progress = options.progress ?? silentProgress;
  progress.start(size, outputs.prefix.offset);
  const pipeline = new LinePipeline<ImportRecord>({
    target,
    concurrency: options.concurrency,
    pacing: new TokenBucket(options.rate),
    retry: {
      ...(options.retry ?? DEFAULT_RETRY),
      signal: stop.signal,
      onPause: (pauseMs, attempt, attempts) => progress.retrying(pauseMs, attempt, attempts),
    },
    onResult: (record, result) => {
      outputs.finish(record.line, result, record.bytes, record.end);
      progress.update(outputs.prefix.offset, linesOf(outputs.runTally));
    },
  });
  const timer = setInterval(() => {
    if (lock.holds()) outputs.checkpoint(false);
  }, options.checkpointEveryMs ?? 1000);
  timer.unref();
  let endOfFile = false;
  try {
    try {
      endOfFile = await feed(pipeline, outputs, file, format, header, from, stop.signal);
    } finally {
      // Lines in flight finish whatever stopped the reading.
      await pipeline.drain().catch(() => undefined);
    }
    if (pipeline.failed !== undefined) throw pipeline.failed;
    lock.assertHeld();
    return summary(endOfFile && outputs.checkpoint(endOfFile).complete);
  } finally {
    clearInterval(timer);
    if ((pipeline.failed !== undefined || !endOfFile) && lock.holds()) outputs.checkpoint(false);
    progress.stop();
    outputs.close();
  }
}

/** Reads the file into the pipeline from after the checkpoint's prefix; true when it reached the end. */
async function feed(
  pipeline: LinePipeline<ImportRecord>,
  outputs: OrderedOutputs,
  file: string,
  format: ImportFormat,
  header: CsvHeader | undefined,
  from: Checkpoint | undefined,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const skipThrough = from?.prefixLine ?? 0;
  for await (const record of recordsOf(file, format, header)) {
    if (signal?.aborted || pipeline.failed !== undefined) return false;
    if (record.line <= skipThrough) continue;
    // A failure stops lines finishing, so the wait looks at it again every so often.
    while (outputs.waiting >= MAX_WAITING && pipeline.failed === undefined && !signal?.aborted)
      await Promise.race([outputs.whenAdvanced(), sleep(100)]);
    outputs.expect(record.line);
    try {
      await pipeline.push(record);
    } catch {
      return false;
    }
  }
  return !signal?.aborted && pipeline.failed === undefined;
}

/** The file's size; an ImportError when it cannot be read. */
function checkReadable(file: string): number {
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) throw new ImportError(`cannot read ${file}: it is a directory`);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, Buffer.alloc(1), 0, 1, 0);
    } finally {
      closeSync(fd);
    }
    return stat.size;
  } catch (error) {
    if (error instanceof ImportError) throw error;
    const code = (error as { code?: string }).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new ImportError(`cannot read ${file}: ${reason}`);
  }
}

/** The rejects file's extension: the input's own, else the format's. */
function extensionOf(file: string, format: ImportFormat): string {
  return extname(file).slice(1) || format;
}
