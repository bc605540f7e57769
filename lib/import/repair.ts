// Where a rerun goes on from. The checkpoint is trusted only when the results file agrees with
// it: up to the checkpoint's length, the header and whole rows only, line numbers rising, as many
// rows as it counts with the same counts, the last one its line; and the rejects file at least as
// long as it says. That is always so after stops and crashes of one importer at a time (the files
// only ever run ahead of the checkpoint, and are cut back to it). It is not so when two importers
// wrote the same files at once (before the job lock, jobLock.ts), or the files were edited: then
// the outputs are rebuilt from the input. The results rows that match the input's records one by
// one, from the first, are kept (a torn, repeated or missing row ends them); the rejects file is
// written again from the input's bytes of those rows' rejected lines; the checkpoint is written
// for that prefix, and the run goes on after it (lines done after it replay from their records).

import { closeSync, createReadStream, existsSync, ftruncateSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { parseResultRow, RESULTS_HEADER, withNewline, writeCheckpoint, type Checkpoint, type OutputPaths } from './outputs';
import type { ImportRecord } from './records';
import { count, emptyTally } from './tally';

/** The checkpoint to go on from, repairing the outputs first when they disagree with it; undefined: start afresh. */
export async function resumePoint(
  paths: OutputPaths,
  from: Checkpoint | undefined,
  records: () => AsyncIterable<ImportRecord>,
  rejectsHeader: Buffer | undefined,
): Promise<Checkpoint | undefined> {
  if (!from) return undefined;
  if (await agrees(paths, from)) return from;
  return repair(paths, from.job, records(), rejectsHeader);
}

/** Whether the results file's rows up to the checkpoint's length are exactly the checkpoint's prefix. */
async function agrees(paths: OutputPaths, checkpoint: Checkpoint): Promise<boolean> {
  if (sizeOf(paths.results) < checkpoint.resultsBytes || sizeOf(paths.rejects) < checkpoint.rejectsBytes) return false;
  if (checkpoint.resultsBytes < RESULTS_HEADER.length) return false;
  const tally = emptyTally();
  let header = true;
  let last = 0;
  for await (const row of rowsOf(paths.results, checkpoint.resultsBytes)) {
    if (header) {
      if (`${row.text}\n` !== RESULTS_HEADER) return false;
      header = false;
      continue;
    }
    const result = row.whole ? parseResultRow(row.text) : undefined;
    if (!result || result.line! <= last) return false;
    last = result.line!;
    count(tally, result);
  }
  return !header && last === checkpoint.prefixLine && isDeepStrictEqual(tally, checkpoint.tally);
}

/** Keeps the results rows that match the input's records, rewrites the rejects for them, and checkpoints that prefix. */
async function repair(
  paths: OutputPaths,
  job: string,
  records: AsyncIterable<ImportRecord>,
  rejectsHeader: Buffer | undefined,
): Promise<Checkpoint> {
  const rows = existsSync(paths.results) ? rowsOf(paths.results, Infinity) : emptyRows();
  const tally = emptyTally();
  let resultsBytes = 0;
  let prefixLine = 0;
  let prefixOffset = 0;
  let complete = true;

  const first = await rows.next();
  const headerKept = !first.done && first.value.whole && `${first.value.text}\n` === RESULTS_HEADER;
  if (headerKept) resultsBytes = first.value.end;
  const temporary = `${paths.rejects}.repair`;
  const rejects = openSync(temporary, 'w');
  let rejectsBytes = 0;
  try {
    if (rejectsHeader) rejectsBytes += writeSync(rejects, withNewline(rejectsHeader));
    if (headerKept) {
      for await (const record of records) {
        const next = await rows.next();
        const result = !next.done && next.value.whole ? parseResultRow(next.value.text) : undefined;
        if (!result || result.line !== record.line) {
          complete = false;
          break;
        }
        count(tally, result);
        if (result.status !== 200) rejectsBytes += writeSync(rejects, withNewline(record.bytes));
        resultsBytes = next.value!.end;
        prefixLine = record.line;
        prefixOffset = record.end;
      }
    } else complete = false;
  } finally {
    closeSync(rejects);
    await rows.return(undefined);
  }
  renameSync(temporary, paths.rejects);

  const results = openSync(paths.results, existsSync(paths.results) ? 'r+' : 'w');
  try {
    ftruncateSync(results, resultsBytes);
    if (!headerKept) resultsBytes = writeSync(results, RESULTS_HEADER, 0);
  } finally {
    closeSync(results);
  }
  // A file the rows covered to its end is done; otherwise the run goes on after the prefix.
  const checkpoint: Checkpoint = { version: 1, job, prefixLine, prefixOffset, resultsBytes, rejectsBytes, tally, complete };
  writeCheckpoint(paths, checkpoint);
  return checkpoint;
}

interface Row {
  /** The row without its `\n`. */
  text: string;
  /** Whether the row ended with `\n` within the bytes read. */
  whole: boolean;
  /** Byte offset just past the row. */
  end: number;
}

/** The rows of the first `limit` bytes of a file, streamed. */
async function* rowsOf(path: string, limit: number): AsyncGenerator<Row> {
  if (limit <= 0) return;
  const stream = createReadStream(path, Number.isFinite(limit) ? { end: limit - 1 } : {}) as AsyncIterable<Buffer>;
  let carry: Buffer[] = [];
  let offset = 0;
  for await (const chunk of stream) {
    let start = 0;
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, start)) {
      const bytes = Buffer.concat([...carry, chunk.subarray(start, at)]);
      carry = [];
      offset += bytes.length + 1;
      yield { text: bytes.toString('utf8'), whole: true, end: offset };
      start = at + 1;
    }
    if (start < chunk.length) carry.push(chunk.subarray(start));
  }
  if (carry.length > 0) {
    const bytes = Buffer.concat(carry);
    yield { text: bytes.toString('utf8'), whole: false, end: offset + bytes.length };
  }
}

// eslint-disable-next-line require-yield
async function* emptyRows(): AsyncGenerator<Row> {
  return;
}

function sizeOf(path: string): number {
  return existsSync(path) ? statSync(path).size : -1;
}
