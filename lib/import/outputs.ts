// The files an import writes beside its input, in line order:
//
//   <file>.results.csv        line,status,customerId,codes,outcome,reason: one row per line, no
//                             values (reason: why a line not answered 200 was refused)
//   <file>.rejects.<ext>      every line not answered 200, byte for byte (a CSV's header first)
//   <file>.checkpoint.json    the finished prefix and the two files' lengths at that point
//
// Lines finish out of order (independent lines run in parallel), so results wait here until every
// line before them has finished: the files only ever hold the finished prefix, whose last line and
// byte lengths the checkpoint records. A rerun cuts the files back to those lengths and goes on
// after the prefix; lines after it that had finished are replayed from their idempotency records
// and written once. Writes are synchronous and the checkpoint is renamed into place after the
// files are flushed to disk, so a crash at any point leaves a checkpoint no longer than the files.
// Only the holder of the job's lock writes (jobLock.ts): `mayWrite` is asked before each write.
// A rerun checks the results file against the checkpoint before trusting it (repair.ts).

import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import type { LineResult } from './lineCore';
import { count, emptyTally, type Tally } from './tally';

export const RESULTS_HEADER = 'line,status,customerId,codes,outcome,reason\n';

export interface OutputPaths {
  results: string;
  rejects: string;
  checkpoint: string;
}

export function outputPathsOf(file: string, extension: string): OutputPaths {
  return { results: `${file}.results.csv`, rejects: `${file}.rejects.${extension}`, checkpoint: `${file}.checkpoint.json` };
}

export interface Checkpoint {
  version: 1;
  job: string;
  /** Every line up to this one is done (0: none yet). */
  prefixLine: number;
  /** Byte offset in the input just past that line. */
  prefixOffset: number;
  resultsBytes: number;
  rejectsBytes: number;
  /** Counts of the lines in the prefix. */
  tally: Tally;
  /** The whole file was gone through. */
  complete: boolean;
}

/** The checkpoint of this job, if there is one (whether the output files agree with it is repair.ts's to check). */
export function readCheckpoint(paths: OutputPaths, job: string): Checkpoint | undefined {
  if (!existsSync(paths.checkpoint)) return undefined;
  let checkpoint: Checkpoint;
  try {
    checkpoint = JSON.parse(readFileSync(paths.checkpoint, 'utf8')) as Checkpoint;
  } catch {
    return undefined;
  }
  if (checkpoint?.version !== 1 || checkpoint.job !== job) return undefined;
  return checkpoint;
}

/** Writes the checkpoint: to a temporary file renamed into place, so that it is whole or absent. */
export function writeCheckpoint(paths: OutputPaths, checkpoint: Checkpoint): void {
  const temporary = `${paths.checkpoint}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(checkpoint, null, 2)}\n`);
  renameSync(temporary, paths.checkpoint);
}

interface Finished {
  result: LineResult;
  bytes: Buffer;
  end: number;
}

export class OrderedOutputs {
  private readonly results: number;
  private readonly rejects: number;
  private resultsBytes: number;
  private rejectsBytes: number;
  private pendingResults = '';
  private pendingRejects: Buffer[] = [];
  private pendingRejectsBytes = 0;
  /** Line numbers read and not yet written, in file order. */
  private order: number[] = [];
  private head = 0;
  private readonly finished = new Map<number, Finished>();
  private prefixLine: number;
  private prefixOffset: number;
  /** Counts of the whole prefix: the checkpoint's plus this run's. */
  readonly tally: Tally;
  /** Counts of the lines this run wrote. */
  readonly runTally: Tally = emptyTally();
  private readonly advanced: (() => void)[] = [];

  /**
   * Opens the files: cut back to a checkpoint's lengths, or new (with their header rows).
   * `onWritten` is told of each line as it joins the prefix; `mayWrite` throws when this process
   * may no longer write the files (it lost the job's lock).
   */
  constructor(
    private readonly paths: OutputPaths,
    private readonly job: string,
    from: Checkpoint | undefined,
    rejectsHeader: Buffer | undefined,
    private readonly onWritten?: (result: LineResult) => void,
    private readonly mayWrite: () => void = () => {},
  ) {
    this.results = openSync(paths.results, from ? 'r+' : 'w');
    this.rejects = openSync(paths.rejects, from ? 'r+' : 'w');
    if (from) {
      ftruncateSync(this.results, from.resultsBytes);
      ftruncateSync(this.rejects, from.rejectsBytes);
      this.resultsBytes = from.resultsBytes;
      this.rejectsBytes = from.rejectsBytes;
      this.prefixLine = from.prefixLine;
      this.prefixOffset = from.prefixOffset;
      this.tally = structuredClone(from.tally);
    } else {
      this.resultsBytes = writeSync(this.results, RESULTS_HEADER);
      this.rejectsBytes = rejectsHeader ? writeSync(this.rejects, withNewline(rejectsHeader)) : 0;
      this.prefixLine = 0;
      this.prefixOffset = 0;
      this.tally = emptyTally();
    }
  }

  /** The last line of the finished prefix. */
  get prefix(): { line: number; offset: number } {
    return { line: this.prefixLine, offset: this.prefixOffset };
  }

  /** Lines read and not yet written (in flight, or finished behind an unfinished one). */
  get waiting(): number {
    return this.order.length - this.head;
  }

  /** A line was read: its result will be written in this place. */
  expect(line: number): void {
    this.order.push(line);
  }

  /** A line finished; it and every finished line after it that nothing unfinished precedes are written. */
  finish(line: number, result: LineResult, bytes: Buffer, end: number): void {
    this.finished.set(line, { result, bytes, end });
    while (this.head < this.order.length) {
      const next = this.finished.get(this.order[this.head]);
      if (!next) break;
      this.finished.delete(this.order[this.head]);
      this.head += 1;
      this.write(next);
    }
    if (this.head > 4096 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
    this.advanced.splice(0).forEach((resolve) => resolve());
  }

  /** Resolves when the prefix next moves (for a reader holding off while too many lines wait). */
  whenAdvanced(): Promise<void> {
    return new Promise((resolve) => this.advanced.push(resolve));
  }

  private write({ result, bytes, end }: Finished): void {
    this.pendingResults += resultRow(result);
    if (result.status !== 200) {
      const verbatim = withNewline(bytes);
      this.pendingRejects.push(verbatim);
      this.pendingRejectsBytes += verbatim.length;
    }
    this.prefixLine = result.line!;
    this.prefixOffset = end;
    count(this.tally, result);
    count(this.runTally, result);
    this.onWritten?.(result);
    if (this.pendingResults.length > 64 * 1024 || this.pendingRejectsBytes > 64 * 1024) this.flush();
  }

  /** Writes what is buffered to the files. */
  flush(): void {
    if (!this.pendingResults && this.pendingRejects.length === 0) return;
    this.mayWrite();
    // At explicit positions: a file opened to go on after a checkpoint is positioned at its start.
    if (this.pendingResults) this.resultsBytes += writeSync(this.results, this.pendingResults, this.resultsBytes);
    if (this.pendingRejects.length > 0) {
      this.rejectsBytes += writeSync(
        this.rejects,
        Buffer.concat(this.pendingRejects, this.pendingRejectsBytes),
        0,
        this.pendingRejectsBytes,
        this.rejectsBytes,
      );
    }
    this.pendingResults = '';
    this.pendingRejects = [];
    this.pendingRejectsBytes = 0;
  }

  /** Flushes the files to disk, then records the prefix in the checkpoint. */
  checkpoint(complete: boolean): Checkpoint {
    this.mayWrite();
    this.flush();
    fsyncSync(this.results);
    fsyncSync(this.rejects);
    const checkpoint: Checkpoint = {
      version: 1,
      job: this.job,
      prefixLine: this.prefixLine,
      prefixOffset: this.prefixOffset,
      resultsBytes: this.resultsBytes,
      rejectsBytes: this.rejectsBytes,
      tally: this.tally,
      complete,
    };
    writeCheckpoint(this.paths, checkpoint);
    return checkpoint;
  }

  close(): void {
    closeSync(this.results);
    closeSync(this.rejects);
  }
}

export function resultRow(result: LineResult): string {
  return `${result.line},${result.status},${result.customerId ?? ''},${result.codes.join(' ')},${result.outcome},${csvField(result.reason ?? '')}\n`;
}

/** A results row read back (without its terminator); undefined for anything the importer does not write. */
export function parseResultRow(row: string): LineResult | undefined {
  const match = /^(\d+),(\d{3}),(\d*),((?:\d+(?: \d+)*)?),(created|merged|replayed|rejected),("(?:[^"]|"")*"|[^",]*)$/.exec(row);
  if (!match) return undefined;
  const [, line, status, customerId, codes, outcome, reason] = match;
  return {
    line: Number(line),
    status: Number(status),
    ...(customerId ? { customerId: Number(customerId) } : {}),
    codes: codes ? codes.split(' ').map(Number) : [],
    outcome: outcome as LineResult['outcome'],
    ...(reason ? { reason: reason.startsWith('"') ? reason.slice(1, -1).replace(/""/g, '"') : reason } : {}),
  };
}

/** A CSV field: quoted when it holds a comma or a quote (a reason is one line already). */
function csvField(text: string): string {
  return /[",]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const NEWLINE = Buffer.from('\n');

/** A last line without a terminator gets one, so the next line starts on its own. */
export function withNewline(bytes: Buffer): Buffer {
  return bytes[bytes.length - 1] === 0x0a ? bytes : Buffer.concat([bytes, NEWLINE]);
}
