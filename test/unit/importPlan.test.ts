import fc from 'fast-check';
import { planBatches, planText, type PlannedBatch } from '../../lib/import/plan';

// The plan of an import at scale (lib/import/plan.ts): whatever bytes a file holds and however
// they arrive in chunks, its batches cover every byte once, in order, each a run of whole lines
// numbered as the file's physical lines, within the limits.

async function* chunksOf(bytes: Buffer, cuts: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    if (cut > at && cut < bytes.length) {
      yield bytes.subarray(at, cut);
      at = cut;
    }
  }
  if (at < bytes.length) yield bytes.subarray(at);
}

async function plan(bytes: Buffer, limits: { lines: number; bytes: number }, cuts: number[] = []): Promise<PlannedBatch[]> {
  const batches: PlannedBatch[] = [];
  for await (const batch of planBatches(chunksOf(bytes, cuts), limits)) batches.push(batch);
  return batches;
}

/** The physical lines of the bytes, as the CLI numbers them: split after each newline, a last line without one counted. */
function physicalLines(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, start)) {
    lines.push(bytes.subarray(start, at + 1));
    start = at + 1;
  }
  if (start < bytes.length) lines.push(bytes.subarray(start));
  return lines;
}

// Bytes a members' file may hold: JSON, newlines, carriage returns, invalid UTF-8, a BOM, NULs.
const fileBytes = fc
  .array(
    fc.oneof(
      fc.constant(Buffer.from('{"profiles":[]}\n')),
      fc.constant(Buffer.from('\n')),
      fc.constant(Buffer.from('\r\n')),
      fc.constant(Buffer.from([0xef, 0xbb, 0xbf])),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    ),
    { maxLength: 60 },
  )
  .map((parts) => Buffer.concat(parts));

describe('planBatches', () => {
  test('covers every byte once, in order, in whole lines numbered as the file, within the limits, however the bytes are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fileBytes,
        fc.array(fc.nat({ max: 3000 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 200 }),
        async (bytes, cuts, lines, maxBytes) => {
          const batches = await plan(bytes, { lines, bytes: maxBytes }, cuts);
          const physical = physicalLines(bytes);
          if (bytes.length === 0) {
            expect(batches).toEqual([]);
            return;
          }
          expect(batches[0]).toMatchObject({ first: 1, start: 0 });
          expect(batches.at(-1)!.end).toBe(bytes.length);
          let line = 1;
          let offset = 0;
          for (const batch of batches) {
            expect(batch.first).toBe(line);
            expect(batch.start).toBe(offset);
            expect(batch.lines).toBeGreaterThan(0);
            expect(batch.lines).toBeLessThanOrEqual(lines);
            const own = physical.slice(batch.first - 1, batch.first - 1 + batch.lines);
            expect(Buffer.concat(own).equals(bytes.subarray(batch.start, batch.end))).toBe(true);
            // Over the byte limit only by its last line: a batch is cut as soon as it reaches the limit.
            expect(batch.end - batch.start - own.at(-1)!.length).toBeLessThan(maxBytes);
            line += batch.lines;
            offset = batch.end;
          }
          expect(line - 1).toBe(physical.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a last line without a newline is a line; an empty file has no batch', async () => {
    expect(await plan(Buffer.from('a\nb\nc'), { lines: 2, bytes: 100 })).toEqual([
      { first: 1, lines: 2, start: 0, end: 4 },
      { first: 3, lines: 1, start: 4, end: 5 },
    ]);
    expect(await plan(Buffer.alloc(0), { lines: 2, bytes: 100 })).toEqual([]);
  });

  test('a line longer than the byte limit is a batch alone', async () => {
    const long = `${'x'.repeat(500)}\n`;
    expect(await plan(Buffer.from(`a\n${long}b\n`), { lines: 10, bytes: 100 })).toEqual([
      { first: 1, lines: 2, start: 0, end: 503 },
      { first: 3, lines: 1, start: 503, end: 505 },
    ]);
  });

  test('planText writes one JSON line per batch and counts the lines and bytes', async () => {
    const bytes = Buffer.from('a\n\nb\r\nc');
    const { text, summary } = await planText(chunksOf(bytes, [1, 3]), { lines: 2, bytes: 1000 });
    expect(
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
    ).toEqual([
      { first: 1, lines: 2, start: 0, end: 3 },
      { first: 3, lines: 2, start: 3, end: 7 },
    ]);
    expect(summary).toEqual({ batches: 2, lines: 4, bytes: 7 });
  });
});
