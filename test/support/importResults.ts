import { readFileSync } from 'node:fs';
import type { ImportSummary } from '../../lib/import/importFile';

/** A row of an import's results file. */
export interface ResultRow {
  line: number;
  status: number;
  customerId: string;
  codes: string;
  outcome: string;
  reason: string;
}

/** The results file's rows, the reason unquoted (CSV: the only column that may be quoted). */
export function resultRows(summary: ImportSummary): ResultRow[] {
  const [header, ...rows] = readFileSync(summary.paths.results, 'utf8').trimEnd().split('\n');
  expect(header).toBe('line,status,customerId,codes,outcome,reason');
  return rows.map((row) => {
    const match = /^(\d+),(\d+),(\d*),([\d ]*),(\w+),("(?:[^"]|"")*"|[^",]*)$/.exec(row);
    if (!match) throw new Error(`not a results row: ${row}`);
    const reason = match[6].startsWith('"') ? match[6].slice(1, -1).replace(/""/g, '"') : match[6];
    return { line: Number(match[1]), status: Number(match[2]), customerId: match[3], codes: match[4], outcome: match[5], reason };
  });
}
