// Lines go through an import here: each is prepared at once (a refused line is settled without
// DynamoDB), then registered through an OrderedRunner, so lines that share an identifier apply in
// input order (a later one becomes a merge or an 8006, as sequential single adds would) while the
// others run in parallel within the concurrency. `push` resolves when there is room for another
// line, so a reader that awaits it holds a bounded number of lines in memory however long the file.
//
// When a line fails for good (DynamoDB stayed unavailable, or an unexpected error), no further
// registration starts, since a later line sharing an identifier must not overtake it; the ones
// under way finish, and `drain` throws the failure. The retry policy's signal stops the pipeline
// the same way without a failure: lines not started, or waiting to be tried again, are left
// unfinished (no result) for a rerun, and tries under way get a few seconds to finish.

import { OrderedRunner } from '../registration/ordering';
import { LineInterruptedError } from './errors';
import { prepareLine, registerLine, type ImportTarget, type LineInput, type LineResult } from './lineCore';
import type { Pacing, RetryPolicy } from './pacing';

export interface PipelineOptions<I extends LineInput> {
  target: ImportTarget;
  concurrency: number;
  /** Lines submitted and not finished before `push` waits; a few times the concurrency. */
  maxPending?: number;
  pacing: Pacing;
  retry: RetryPolicy;
  /** Called once per line, in the order lines finish (not the order they were pushed). */
  onResult: (input: I, result: LineResult) => void;
  /** How long `drain` waits for tries under way once the retry policy's signal is aborted. */
  stopGraceMs?: number;
}

/** Tries under way after a stop get this long to finish. */
const STOP_GRACE_MS = 5000;

/** Whether `stop` was aborted and `graceMs` went by after it before `idle` resolved. */
function graceRunsOut(idle: Promise<void>, stop: AbortSignal, graceMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const late = () => {
      timer = setTimeout(() => resolve(true), graceMs);
      timer.unref();
    };
    if (stop.aborted) late();
    else stop.addEventListener('abort', late, { once: true });
    void idle.then(() => {
      clearTimeout(timer);
      stop.removeEventListener('abort', late);
      resolve(false);
    });
  });
}

/** Thrown for registrations skipped after the pipeline failed or stopped; never surfaces. */
class Skipped extends Error {}

export class LinePipeline<I extends LineInput = LineInput> {
  private readonly runner: OrderedRunner;
  private readonly maxPending: number;
  private failure: unknown;
  /** The drain after a stop gave up on the tries under way: their results are not handed over. */
  private abandoned = false;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: PipelineOptions<I>) {
    this.runner = new OrderedRunner(options.concurrency);
    this.maxPending = options.maxPending ?? options.concurrency * 8;
    // A stop frees a pusher waiting for room: tries that hang would never make any.
    options.retry.signal?.addEventListener('abort', () => this.wake(), { once: true });
  }

  /** The failure that stopped the pipeline, if one did. */
  get failed(): unknown {
    return this.failure;
  }

  /** Takes a line; resolves when another may be pushed. Throws once the pipeline has failed. */
  async push(input: I): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const { target, pacing, retry, onResult } = this.options;
    const prepared = prepareLine(input, target);
    if (prepared.kind === 'settled') {
      onResult(input, prepared.result);
      return;
    }
    // Once the job stops, a line that has not started is left for the rerun: one that shares an
    // identifier with a line left unfinished must not overtake it.
    const task = () =>
      this.failure !== undefined || retry.signal?.aborted ? Promise.reject(new Skipped()) : registerLine(prepared, target, pacing, retry);
    this.runner
      .submit(prepared.orderingKeys, task)
      .then(
        (result) => this.hand(() => onResult(input, result)),
        (error) => {
          if (!(error instanceof Skipped) && !(error instanceof LineInterruptedError) && !this.abandoned) this.failure ??= error;
        },
      )
      // The runner counts the task finished a few microtasks later: wake pushers after that.
      .finally(() => setImmediate(() => this.wake()));
    while (this.runner.pending >= this.maxPending && this.failure === undefined && !retry.signal?.aborted) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * Waits for every line pushed; throws the failure, if one stopped the pipeline. Once the retry
   * policy's signal is aborted, tries under way get a few seconds more (STOP_GRACE_MS): a healthy
   * table answers well within them, one that stopped answering would hold the stop for its whole
   * SDK retries. After that the pipeline hands over no more results: those lines stay after the
   * written prefix, and a rerun replays them from their records.
   */
  async drain(): Promise<void> {
    const stop = this.options.retry.signal;
    if (stop && (await graceRunsOut(this.runner.idle(), stop, this.options.stopGraceMs ?? STOP_GRACE_MS))) {
      this.abandoned = true;
      return;
    }
    await this.runner.idle();
    // Results are handed over in `.then` callbacks queued before idle resolves; let them run.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failure !== undefined) throw this.failure;
  }

  /** Hands a result over; a failure there (an output file that cannot be written) stops the pipeline. */
  private hand(deliver: () => void): void {
    if (this.abandoned) return;
    try {
      deliver();
    } catch (error) {
      this.failure ??= error;
    }
  }

  /** Wakes pushers waiting for room, to look again; called as lines finish. */
  private wake(): void {
    this.waiting.splice(0).forEach((resolve) => resolve());
  }
}
