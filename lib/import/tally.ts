// Counts of a job's lines by outcome, as the summary and the checkpoint keep them: the outcome
// its results row says. Every line is in exactly one of created, merged, replayed (an earlier
// run's answer replayed from its record, a 409 as well as a 200) and rejected (refused by this
// run: any status but 200), and each rejected line counts once, under its first error code.

import type { LineResult } from './lineCore';

export interface Tally {
  created: number;
  merged: number;
  replayed: number;
  rejected: number;
  /** Rejected lines by their first error code. */
  rejectedByCode: Record<string, number>;
}

export function emptyTally(): Tally {
  return { created: 0, merged: 0, replayed: 0, rejected: 0, rejectedByCode: {} };
}

export function count(tally: Tally, result: Pick<LineResult, 'status' | 'codes' | 'outcome'>): void {
  if (result.outcome === 'replayed') tally.replayed += 1;
  else if (result.status !== 200) {
    tally.rejected += 1;
    const code = String(result.codes[0] ?? result.status);
    tally.rejectedByCode[code] = (tally.rejectedByCode[code] ?? 0) + 1;
  } else if (result.outcome === 'merged') tally.merged += 1;
  else tally.created += 1;
}

export function linesOf(tally: Tally): number {
  return tally.created + tally.merged + tally.replayed + tally.rejected;
}

/** `created 8200, merged 600, replayed 0, rejected 1200 (8006: 500, 8014: 300, 400: 200)` */
export function describeTally(tally: Tally): string {
  const codes = Object.entries(tally.rejectedByCode)
    .sort(([a, x], [b, y]) => y - x || Number(a) - Number(b))
    .map(([code, n]) => `${code}: ${n}`);
  const rejected = `rejected ${tally.rejected}${codes.length > 0 ? ` (${codes.join(', ')})` : ''}`;
  return `created ${tally.created}, merged ${tally.merged}, replayed ${tally.replayed}, ${rejected}`;
}
