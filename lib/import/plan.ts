// The plan of an import at scale (SPEC section 9): a JSON Lines object in S3 cut into batches of
// whole lines, each a byte range with the number of its first line. The Distributed Map reads
// the plan (lines this service wrote, so always JSON) rather than the members' file: Step
// Functions' own JSONL reader would fail the whole run at a line that is not JSON, and would
// decode bytes that are not UTF-8 with replacement characters. Each worker reads its range and
// judges every line's bytes exactly as the CLI does (lib/import/records.ts), so a bad line is
// one rejected line, never a failed run, and line numbers are the file's physical lines.
//
// The plan is made in one pass over the object's bytes, counting newlines only: nothing of the
// members is decoded, kept or written by the planner.

const NEWLINE = 0x0a;

/** One batch of the plan: `lines` lines from line `first` on, bytes [start, end) of the object. */
export interface PlannedBatch {
  first: number;
  lines: number;
  start: number;
  end: number;
}

export interface PlanLimits {
  /** Lines per batch: the worker registers them in one invocation. */
  lines: number;
  /** Bytes per batch: what one worker reads (a line longer than this is a batch alone). */
  bytes: number;
}

export interface PlanSummary {
  batches: number;
  lines: number;
  bytes: number;
}

/** Batches of whole lines, in file order, from the object's bytes. */
export async function* planBatches(chunks: AsyncIterable<Uint8Array>, limits: PlanLimits): AsyncGenerator<PlannedBatch> {
  let offset = 0;
  let batch = { first: 1, start: 0, lines: 0 };
  let lineNumber = 0;
  let lineOpen = false;
  for await (const piece of chunks) {
    const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    let from = 0;
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, from)) {
      lineNumber++;
      lineOpen = false;
      batch.lines++;
      const end = offset + at + 1;
      from = at + 1;
      if (batch.lines >= limits.lines || end - batch.start >= limits.bytes) {
        yield { first: batch.first, lines: batch.lines, start: batch.start, end };
        batch = { first: lineNumber + 1, start: end, lines: 0 };
      }
    }
    if (from < chunk.length) lineOpen = true;
    offset += chunk.length;
  }
  // The last line may have no newline.
  if (lineOpen) batch.lines++;
  if (batch.lines > 0) yield { first: batch.first, lines: batch.lines, start: batch.start, end: offset };
}

/** The plan as JSON Lines, one batch per line, and what it covers. */
export async function planText(chunks: AsyncIterable<Uint8Array>, limits: PlanLimits): Promise<{ text: string; summary: PlanSummary }> {
  const lines: string[] = [];
  let last: PlannedBatch | undefined;
  for await (const batch of planBatches(chunks, limits)) {
    lines.push(JSON.stringify(batch));
    last = batch;
  }
  return { text: lines.map((line) => `${line}\n`).join(''), summary: summaryOf(lines.length, last) };
}

function summaryOf(batches: number, last: PlannedBatch | undefined): PlanSummary {
  return { batches, lines: last ? last.first + last.lines - 1 : 0, bytes: last?.end ?? 0 };
}
