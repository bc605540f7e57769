// `GET /v2/customers/{id}/history` (SPEC section 15): a customer's journal newest first, a page
// at a time. The cursor is the last entry's key, opaque to the client (base64url) and checked
// when it comes back, so a forged one is a 400, never a query of another partition. Counted
// against the org's per-minute limit like every route that can be scripted over many ids.

import type { Caller } from '../auth';
import { Code, Problems } from '../errors';
import { takeRequest } from '../rateLimit';
import { customerActivity } from '../store/customers';
import { isEntryKey, readHistory } from '../store/history';
import { answer, type Answer } from './answer';
import { customerIdOf, customerNotFound } from './reads';
import { withRateHeaders } from './writes';

export const DEFAULT_HISTORY_LIMIT = 20;
export const MAX_HISTORY_LIMIT = 100;

export interface HistoryQuery {
  limit?: string;
  cursor?: string;
}

export async function customerHistory(caller: Caller, rawId: string | undefined, query: HistoryQuery): Promise<Answer> {
  const { org } = caller;
  const problems = new Problems();
  const limit = query.limit === undefined ? DEFAULT_HISTORY_LIMIT : /^\d{1,3}$/.test(query.limit) ? Number(query.limit) : NaN;
  if (!(limit >= 1 && limit <= MAX_HISTORY_LIMIT))
    problems.add(Code.badRequest, `limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}`, '/limit');
  const after = query.cursor === undefined ? undefined : cursorKey(query.cursor);
  if (after === null) problems.add(Code.badRequest, 'cursor is not one this service handed out', '/cursor');
  problems.throwIfAny();
  const id = customerIdOf(rawId);
  if (id === undefined) throw customerNotFound();
  const rate = await takeRequest(org);
  return withRateHeaders(rate.headers, async () => {
    // One attribute, not the customer's partition. A merged victim keeps its own journal (what
    // happened to it before the merge); an erased one has none.
    const activity = await customerActivity(org.orgId, id);
    if (activity !== 'ACTIVE' && activity !== 'MERGED' && activity !== 'MERGING') throw customerNotFound();
    const page = await readHistory(org.orgId, id, limit, after ?? undefined);
    return answer(200, { entries: page.entries, next: page.last ? cursorOf(page.last) : null }, 'ok', rate.headers);
  });
}

function cursorOf(sortKey: string): string {
  return Buffer.from(sortKey, 'utf8').toString('base64url');
}

/** The sort key a cursor holds, or null for one this service did not hand out. */
function cursorKey(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,500}$/.test(cursor)) return null;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  return isEntryKey(key) && cursorOf(key) === cursor ? key : null;
}
