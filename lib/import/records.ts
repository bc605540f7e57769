// Lines of an import file read into records: one add-customer body per JSON Lines line, or per
// CSV record under its header row. A record keeps its bytes verbatim (for the rejects file), its
// line number (the key of its idempotency record) and the byte offset past it (progress).
// Blank lines are skipped: they have nothing to register or to fix. A UTF-8 byte order mark at
// the start of the file is ignored, in either format. A line that is not valid UTF-8 is a
// rejected record (400) holding its bytes as they were: it is never decoded with replacement
// characters, which could make two members one.
//
// CSV records are cut from physical lines here: a record goes on to the next line while a quote
// is open (a quoted field may hold a line break), up to a bound; csv-parse then parses each
// record on its own. So a malformed row is that row's 400, never the rest of the file, and the
// rejects file holds exactly its bytes.

import { parse } from 'csv-parse/sync';
import { Code } from '../errors';
import { MAX_BODY_BYTES } from '../schemas/addCustomer.schema';
import { csvMapper, type RowMapper } from './csvColumns';
import { ImportError } from './errors';
import { readJsonLine, type LineInput } from './lineCore';
import { firstInvalidByte, readLines, withoutBom, withoutTerminator, type PhysicalLine } from './lines';

export type ImportFormat = 'jsonl' | 'csv';

export interface ImportRecord extends LineInput {
  line: number;
  /** The record's bytes as in the file, terminator included. */
  bytes: Buffer;
  /** Byte offset past the record. */
  end: number;
}

/** A quoted CSV field may run over this many lines before the record is taken as malformed. */
const MAX_RECORD_LINES = 100;

export function recordsOf(path: string, format: ImportFormat, header?: CsvHeader): AsyncGenerator<ImportRecord> {
  return format === 'csv' ? csvRecords(path, header!) : jsonlRecords(path);
}

function jsonlRecords(path: string): AsyncGenerator<ImportRecord> {
  return jsonlRecordsOf(readLines(path));
}

/** JSON Lines records of physical lines: a whole file's, or a Distributed Map batch's byte range's. */
export async function* jsonlRecordsOf(lines: AsyncIterable<PhysicalLine>): AsyncGenerator<ImportRecord> {
  for await (const physical of lines) {
    if (isBlank(physical)) continue;
    if (physical.text === undefined) {
      yield { ...base(physical), unreadable: notUtf8(physical.bytes) };
      continue;
    }
    yield { ...base(physical), ...readJsonLine(withoutTerminator(withoutBom(physical, physical.text))) };
  }
}

function base(physical: PhysicalLine): Omit<ImportRecord, 'body' | 'unreadable'> {
  return { line: physical.number, keyPart: String(physical.number), bytes: physical.bytes, end: physical.end };
}

/** A line with nothing on it (a byte order mark alone counts as nothing); a line that is not UTF-8 is never blank. */
function isBlank(physical: PhysicalLine): boolean {
  return physical.text !== undefined && withoutTerminator(withoutBom(physical, physical.text)).trim() === '';
}

/** Why bytes that are not UTF-8 are rejected: over 64 KiB is 413 first, as the API bounds a body's size before decoding it. */
function notUtf8(bytes: Buffer): NonNullable<LineInput['unreadable']> {
  if (withoutTerminatorBytes(bytes) > MAX_BODY_BYTES) return { code: Code.tooLarge, message: 'line longer than 64 KiB' };
  return { code: Code.badRequest, message: `line is not valid UTF-8 (byte ${firstInvalidByte(bytes) + 1} of the line)` };
}

function withoutTerminatorBytes(bytes: Buffer): number {
  const n = bytes.length;
  return bytes[n - 1] === 0x0a ? (bytes[n - 2] === 0x0d ? n - 2 : n - 1) : n;
}

/** The header row of a CSV file: its line as it was (the first line of the rejects file) and the row mapper. */
export interface CsvHeader {
  bytes: Buffer;
  /** Line number of the header. */
  line: number;
  columns: number;
  mapper: RowMapper;
}

/** Reads and checks the header row (the first line that is not blank). */
export async function readCsvHeader(path: string, file: string): Promise<CsvHeader> {
  for await (const physical of readLines(path)) {
    if (isBlank(physical)) continue;
    if (physical.text === undefined) {
      throw new ImportError(
        `CSV header of ${file} is not valid UTF-8 (byte ${firstInvalidByte(physical.bytes) + 1} of line ${physical.number})`,
      );
    }
    const cells = parseRecord(withoutTerminator(withoutBom(physical, physical.text)));
    if (typeof cells === 'string') throw new ImportError(`CSV header of ${file} does not parse: ${cells}`);
    return { bytes: physical.bytes, line: physical.number, columns: cells.length, mapper: csvMapper(cells, file) };
  }
  throw new ImportError(`${file} is empty: a CSV file needs a header row`);
}

async function* csvRecords(path: string, header: CsvHeader): AsyncGenerator<ImportRecord> {
  let pending: PhysicalLine[] = [];
  for await (const physical of readLines(path)) {
    if (physical.number <= header.line) continue;
    pending.push(physical);
    // Records ready at the front of the lines read; an open quote waits for more lines.
    while (pending.length > 0) {
      const taken = takeRecord(pending, header);
      if (!taken) break;
      pending = pending.slice(taken.lines);
      if (taken.record) yield taken.record;
    }
  }
  // End of file with a quote still open: the first line is malformed; the rest are records again.
  while (pending.length > 0) {
    const taken = takeRecord(pending, header, true)!;
    pending = pending.slice(taken.lines);
    if (taken.record) yield taken.record;
  }
}

/**
 * The record at the front of `lines`: how many lines it takes and the record (none for a blank
 * line); undefined when a quote is still open and more lines may close it.
 */
function takeRecord(lines: PhysicalLine[], header: CsvHeader, atEnd = false): { lines: number; record?: ImportRecord } | undefined {
  const first = lines[0];
  if (isBlank(first)) return { lines: 1 };
  let bytes = 0;
  let quotes = 0;
  // Quotes are counted in bytes (a `"` byte is never inside a UTF-8 sequence), so a record's extent does not depend on decoding.
  for (let count = 1; count <= lines.length; count++) {
    const line = lines[count - 1];
    bytes += line.bytes.length;
    quotes += countQuotes(line.bytes);
    if (quotes % 2 === 0) {
      const taken = lines.slice(0, count);
      const record = csvRecord(taken, header);
      // A stray quote in an unquoted field opened a "record" over several lines: only its first line is malformed.
      // A record that is not UTF-8 cannot be parsed to tell: it is rejected whole, its bytes kept.
      if (count > 1 && record.unreadable && taken.every((l) => l.text !== undefined)) break;
      return { lines: count, record };
    }
    if (count >= MAX_RECORD_LINES || bytes > MAX_BODY_BYTES) break;
  }
  const mayClose = quotes % 2 === 1 && lines.length < MAX_RECORD_LINES && bytes <= MAX_BODY_BYTES;
  if (!atEnd && mayClose) return undefined;
  return {
    lines: 1,
    record: {
      ...base(first),
      unreadable:
        first.text === undefined
          ? notUtf8(first.bytes)
          : { code: Code.badRequest, message: 'CSV row does not parse: a quote is never closed or stands inside a field' },
    },
  };
}

const QUOTE = 0x22;

function countQuotes(bytes: Buffer): number {
  let n = 0;
  for (let i = bytes.indexOf(QUOTE); i !== -1; i = bytes.indexOf(QUOTE, i + 1)) n += 1;
  return n;
}

function csvRecord(lines: PhysicalLine[], header: CsvHeader): ImportRecord {
  const first = lines[0];
  const bytes = lines.length === 1 ? first.bytes : Buffer.concat(lines.map((l) => l.bytes));
  const record = { line: first.number, keyPart: String(first.number), bytes, end: lines[lines.length - 1].end };
  if (lines.some((l) => l.text === undefined)) return { ...record, unreadable: notUtf8(bytes) };
  const text = lines.map((l) => l.text!).join('');
  const cells = parseRecord(withoutTerminator(text));
  if (typeof cells === 'string') return { ...record, unreadable: { code: Code.badRequest, message: `CSV row does not parse: ${cells}` } };
  if (cells.length !== header.columns) {
    return {
      ...record,
      unreadable: { code: Code.badRequest, message: `CSV row has ${cells.length} fields, the header ${header.columns}` },
    };
  }
  return { ...record, body: header.mapper(cells) };
}

/** One CSV record's cells, trimmed; or why it does not parse (csv-parse's message, which names no value). */
function parseRecord(content: string): string[] | string {
  try {
    const rows = parse(content, { trim: true, relax_column_count: true, record_delimiter: ['\r\n', '\n'] }) as string[][];
    if (rows.length !== 1) return `expected one record, found ${rows.length}`;
    return rows[0];
  } catch (error) {
    return (error as { code?: string }).code ?? 'invalid CSV';
  }
}
