// What stops an import as a whole, as opposed to a bad line (which is one entry in the results
// and rejects files, and the job goes on). Each carries the one line an operator reads.

/** The job cannot go through the file: unreadable, a CSV header without its columns, an unknown org, no table, bad flags. */
export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

/**
 * DynamoDB stayed throttled or unreachable for a line through every retry. Nothing of that line
 * was written (or its idempotency record says what was), so a rerun goes on from it. The name
 * is what Step Functions' Retry matches on for the worker.
 */
export class ImportUnavailableError extends Error {
  constructor(
    readonly line: number | null,
    detail: string,
  ) {
    super(`DynamoDB stayed unavailable${line === null ? '' : ` at line ${line}`} (${detail}); nothing is lost: run the job again to go on`);
    this.name = 'ImportUnavailable';
  }
}

/**
 * A line left unfinished because the job stopped (Ctrl-C, a lost lock) while it waited to be
 * tried again or for its turn. It is not a result: it stays out of the results, so the
 * checkpoint's prefix ends before it and a rerun registers it (or replays it from its record).
 */
export class LineInterruptedError extends Error {
  constructor(readonly line: number | null) {
    super(`line ${line ?? '(no number)'} was left for a rerun: the job stopped`);
    this.name = 'LineInterrupted';
  }
}
