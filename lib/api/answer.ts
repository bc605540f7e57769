// What a route answers when it does not fail: a status, a JSON body (already serialised for a
// replay), headers, and the outcome named in the request's log line.

export type Outcome =
  'ok' | 'created' | 'merged' | 'replayed' | 'updated' | 'identifiers_changed' | 'erased' | 'exported' | 'previewed' | 'unmerged';

export interface Answer {
  status: number;
  /** The JSON text of the body. */
  body: string;
  headers: Record<string, string>;
  outcome: Outcome;
}

export function answer(status: number, body: unknown, outcome: Outcome = 'ok', headers: Record<string, string> = {}): Answer {
  return { status, body: JSON.stringify(body), headers, outcome };
}
