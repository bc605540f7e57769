// Lines of an import file read into records: one add-customer body per JSON Lines line, or per
// CSV record under its header row. A record keeps its text verbatim (for the rejects file), its
// line number (the key of its idempotency record) and the byte offset past it (progress).
// Blank lines are skipped: they have nothing to register or to fix.
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
import { readLines, withoutTerminator, type PhysicalLine } from './lines';

export type ImportFormat = 'jsonl' | 'csv';

export interface ImportRecord extends LineInput {
  line: number;
  /** The record's text as in the file, terminator included. */
  text: string;
  /** Byte offset past the record. */
  end: number;
}

/** A quoted CSV field may run over this many lines before the record is taken as malformed. */
const MAX_RECORD_LINES = 100;

export function recordsOf(path: string, format: ImportFormat, header?: CsvHeader): AsyncGenerator<ImportRecord> {
  return format === 'csv' ? csvRecords(path, header!) : jsonlRecords(path);
}

async function* jsonlRecords(path: string): AsyncGenerator<ImportRecord> {
  for await (const physical of readLines(path)) {
    const content = withoutTerminator(physical.text);
    if (content.trim() === '') continue;
    yield { ...base(physical), ...readJsonLine(content) };
  }
}

function base(physical: PhysicalLine): Omit<ImportRecord, 'body' | 'unreadable'> {
  return { line: physical.number, keyPart: String(physical.number), text: physical.text, end: physical.end };
}

/** The header row of a CSV file: its line as it was (the first line of the rejects file) and the row mapper. */
export interface CsvHeader {
  text: string;
  /** Line number of the header. */
  line: number;
  columns: number;
  mapper: RowMapper;
}

/** Reads and checks the header row (the first line that is not blank). */
export async function readCsvHeader(path: string, file: string): Promise<CsvHeader> {
  for await (const physical of readLines(path)) {
    const content = withoutTerminator(physical.text).replace(/^\uFEFF/, '');
    if (content.trim() === '') continue;
    const cells = parseRecord(content);
    if (typeof cells === 'string') throw new ImportError(`CSV header of ${file} does not parse: ${cells}`);
    return { text: physical.text, line: physical.number, columns: cells.length, mapper: csvMapper(cells, file) };
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
  if (withoutTerminator(first.text).trim() === '') return { lines: 1 };
  let text = '';
  let quotes = 0;
  for (let count = 1; count <= lines.length; count++) {
    const line = lines[count - 1];
    text += line.text;
    quotes += countQuotes(line.text);
    if (quotes % 2 === 0) {
      const record = csvRecord(first.number, text, line.end, header);
      // A stray quote in an unquoted field opened a "record" over several lines: only its first line is malformed.
      if (count > 1 && record.unreadable) break;
      return { lines: count, record };
    }
    if (count >= MAX_RECORD_LINES || Buffer.byteLength(text) > MAX_BODY_BYTES) break;
  }
  const mayClose = quotes % 2 === 1 && lines.length < MAX_RECORD_LINES && Buffer.byteLength(text) <= MAX_BODY_BYTES;
  if (!atEnd && mayClose) return undefined;
  return {
    lines: 1,
    record: {
      ...base(first),
      unreadable: { code: Code.badRequest, message: 'CSV row does not parse: a quote is never closed or stands inside a field' },
    },
  };
}

function countQuotes(text: string): number {
  let n = 0;
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) n += 1;
  return n;
}

function csvRecord(line: number, text: string, end: number, header: CsvHeader): ImportRecord {
  const record = { line, keyPart: String(line), text, end };
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
