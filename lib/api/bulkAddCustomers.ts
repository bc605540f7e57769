// `POST /v2/customers/bulk` (SPEC section 8): up to 100 add-customer bodies, each judged and
// applied as if sent alone through the registration core a single add uses. Items that share an
// identifier apply in input order, the others at once within a bound. The valid items are
// counted against the org's limit together (all or a 429 for the whole request); with an
// Idempotency-Key every item has its own record, so a retry replays the finished items and runs
// only the rest. Items not started when the request nears its deadline answer 503, not attempted.

import type { Caller } from '../auth';
import { checkRegistrationQuery } from '../registration/context';
import type { Registration } from '../customer';
import { timeLeft } from '../deadline';
import { ApiError, Code, statusList } from '../errors';
import { readIdempotencyKey } from '../idempotency';
import { takeRequests } from '../rateLimit';
import { OrderedRunner, orderingKeys } from '../registration/ordering';
import { MAX_BODY_BYTES } from '../schemas/addCustomer.schema';
import { MAX_BULK_BODY_BYTES } from '../schemas/bulkAddCustomers.schema';
import type { BulkItemResult } from '../schemas/responses.schema';
import { checkBulkEnvelope } from '../schemas/validate';
import { customerActivity } from '../store/customers';
import { readIdempotencyRecords, type RecordKey, type StoredResponse } from '../store/idempotencyRecords';
import type { Answer } from './answer';
import { prepareRegistration, registerPrepared, type Settled } from './registerOne';

export { MAX_BULK_BODY_BYTES };
/** Registrations of one bulk request in flight at once. */
const CONCURRENCY = 10;
/** An item is started only with this much of the request's deadline left (its transaction and a retry or two). */
const START_MARGIN_MS = 2000;

export interface BulkAddCustomersRequest {
  body: unknown;
  bodyText: string;
  query: { source?: string; accountId?: string };
  caller: Caller;
  idempotencyKey?: string;
}

type Item = { index: number; registration: Registration } | { index: number; result: BulkItemResult; replayed?: boolean };

export async function bulkAddCustomers(request: BulkAddCustomersRequest): Promise<Answer> {
  const { org, till } = request.caller;
  const envelopeKey = readIdempotencyKey(org.orgId, request.idempotencyKey, JSON.stringify([request.bodyText, request.query]));
  checkRegistrationQuery(request.query);
  const bodies = checkBulkEnvelope(request.body);
  const now = new Date();
  const context = { org, till, query: request.query, now, origin: 'bulk' as const };

  const items: Item[] = bodies.map((body, index) => {
    if (Buffer.byteLength(JSON.stringify(body) ?? '') > MAX_BODY_BYTES) {
      return { index, result: failed(ApiError.of(Code.tooLarge, `item larger than ${MAX_BODY_BYTES} bytes`)) };
    }
    const prepared = prepareRegistration(body, context);
    return prepared instanceof ApiError ? { index, result: failed(prepared) } : { index, registration: prepared };
  });

  // Each item's record is its own, in a namespace apart from single adds' keys, bound to the whole envelope.
  const keyOf = (index: number): RecordKey | undefined => envelopeKey && { ...envelopeKey, key: `bulk:${envelopeKey.key}:${index}` };
  if (envelopeKey) await replayFinished(items, keyOf);

  const toRun = items.filter((item): item is { index: number; registration: Registration } => 'registration' in item);
  const rate = toRun.length > 0 ? await takeRequests(org, toRun.length) : undefined;

  const results: BulkItemResult[] = items.map((item) => ('result' in item ? item.result : placeholder()));
  const runner = new OrderedRunner(CONCURRENCY);
  await Promise.all(
    toRun.map((item) =>
      runner.submit(orderingKeys(item.registration), async () => {
        // An item the request has no time left for is not started, so a retry knows to send it.
        if (timeLeft() < START_MARGIN_MS) {
          results[item.index] = failed(ApiError.of(Code.unavailable, 'not attempted: the request ran out of time; retry this item'));
          return;
        }
        results[item.index] = await settle(() => registerPrepared(item.registration, org, keyOf(item.index)));
      }),
    ),
  );

  const failedCount = results.filter((r) => r.status !== 200).length;
  const allReplayed = items.every((item) => 'replayed' in item && item.replayed);
  return {
    status: 200,
    body: JSON.stringify(results),
    headers: {
      ...(rate?.headers ?? {}),
      'X-Bulk-Total': String(results.length),
      'X-Bulk-Failed': String(failedCount),
      ...(allReplayed ? { 'Idempotent-Replayed': 'true' } : {}),
    },
    outcome: allReplayed ? 'replayed' : 'ok',
  };
}

/**
 * Replaces the items whose record is in place by their recorded results, so that only the rest
 * run (and are counted). A record of another envelope under the same key is 422 for the whole request.
 */
async function replayFinished(items: Item[], keyOf: (index: number) => RecordKey | undefined): Promise<void> {
  const first = keyOf(0)!;
  const records = await readIdempotencyRecords(
    first.orgId,
    items.map((item) => keyOf(item.index)!.key),
  );
  for (const [i, item] of items.entries()) {
    const record = records.get(keyOf(item.index)!.key);
    if (!record) continue;
    if (record.requestHash !== first.requestHash) {
      throw ApiError.of(Code.idempotencyKeyReused, 'Idempotency-Key was used with a different request', '/headers/Idempotency-Key');
    }
    // A refusal naming a customer since erased is never handed back (SPEC section 12): the item
    // runs, and its registration drops the record and answers anew.
    if (record.names && !(await allActive(first.orgId, record.names))) continue;
    items[i] = { index: item.index, result: fromStored(record.response), replayed: true };
  }
}

async function allActive(orgId: number, ids: number[]): Promise<boolean> {
  const activities = await Promise.all(ids.map((id) => customerActivity(orgId, id)));
  return activities.every((activity) => activity === 'ACTIVE');
}

/** Runs one item's registration; a fault is that item's answer, not the request's. */
async function settle(run: () => Promise<Settled>): Promise<BulkItemResult> {
  try {
    const settled = await run();
    switch (settled.kind) {
      case 'created':
      case 'merged':
        return {
          entity: { id: settled.customerId },
          status: 200,
          errors: [],
          warnings: settled.response.warnings,
          sideEffects: settled.response.sideEffects,
        };
      case 'rejected':
        return failed(settled.error);
      case 'replayed':
        return fromStored(settled.response);
    }
  } catch (error) {
    if (error instanceof ApiError) return failed(error);
    throw error;
  }
}

function failed(error: ApiError): BulkItemResult {
  return { entity: null, status: error.status, errors: statusList(error.problems), warnings: statusList(error.warnings), sideEffects: [] };
}

/** A recorded response (a single add's shape) as a bulk item's result. */
function fromStored(response: StoredResponse): BulkItemResult {
  const body = JSON.parse(response.body) as {
    createdId?: number;
    errors?: BulkItemResult['errors'];
    warnings?: BulkItemResult['warnings'];
    sideEffects?: BulkItemResult['sideEffects'];
  };
  return {
    entity: body.createdId !== undefined ? { id: body.createdId } : null,
    status: response.statusCode,
    errors: body.errors ?? [],
    warnings: body.warnings ?? [],
    sideEffects: body.sideEffects ?? [],
  };
}

function placeholder(): BulkItemResult {
  return { entity: null, status: 0, errors: [], warnings: [], sideEffects: [] };
}
