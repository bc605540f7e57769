// The first state of an import at scale (SPEC section 9): cuts the members' JSON Lines object
// into batches of whole lines (lib/import/plan.ts) and writes the plan beside it, under
// plans/<job>/<run>.jsonl, for the Distributed Map to read. The plan holds line numbers and byte
// offsets only.

import { checkJob } from './job';
import { InvalidBatchError } from './worker';
import { planText, type PlanLimits, type PlanSummary } from './plan';
import { S3ImportObjects, type ImportObjects } from '../ports/importObjects';
import { bytesPerBatch, importBucket, linesPerBatch } from './settings';
import { log } from '../log';

export interface PlannerEvent {
  key?: unknown;
  job?: unknown;
  /** The execution's name: unique per start, so two runs of one job never share a plan. */
  run?: unknown;
}

export interface PlannerOutput extends PlanSummary {
  /** The plan's key in the bucket. */
  key: string;
  /** The members' object's version tag when planned: each batch's read insists on it. */
  tag: string;
}

const KEY_PATTERN = /^imports\/(?!.*\.\.)[^\0]{1,900}$/;
const RUN_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

export async function planImport(
  event: PlannerEvent,
  objects: ImportObjects = new S3ImportObjects(importBucket() ?? ''),
  limits: PlanLimits = { lines: linesPerBatch(), bytes: bytesPerBatch() },
): Promise<PlannerOutput> {
  const started = performance.now();
  const { key, job, run } = readEvent(event);
  const object = await objects.read(key);
  const { text, summary } = await planText(object.chunks, limits);
  const planKey = `plans/${job}/${run}.jsonl`;
  await objects.write(planKey, text);
  log.info('import planned', { job, run, ...summary, ms: Math.round(performance.now() - started) });
  return { key: planKey, tag: object.tag, ...summary };
}

function readEvent(event: PlannerEvent): { key: string; job: string; run: string } {
  if (typeof event?.key !== 'string' || !KEY_PATTERN.test(event.key)) throw new InvalidBatchError('key must name an object under imports/');
  if (typeof event.job !== 'string') throw new InvalidBatchError('job must be a string');
  try {
    checkJob(event.job);
  } catch (error) {
    throw new InvalidBatchError((error as Error).message);
  }
  if (typeof event.run !== 'string' || !RUN_PATTERN.test(event.run)) throw new InvalidBatchError('run must be an execution name');
  return { key: event.key, job: event.job, run: event.run };
}
