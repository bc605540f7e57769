// The per-line core of an import (SPEC section 9), shared by the CLI (scripts/import.ts) and the
// Step Functions worker (handlers/importWorker.ts). A line is read into an add-customer body,
// prepared by the registration core every way in shares (lib/api/registerOne.ts: a line refused
// there costs no DynamoDB request), and registered with the idempotency record
// `import:<job>:<line>`, kept 30 days, so that a rerun replays what was done (no duplicate
// customer) and a line changed under the same job is refused with 422. Its result carries the
// line number, status, customer id and codes, and for a line not answered 200 a one-line reason
// (the first error's message and path): never a name or an identifier value, so any value of
// the line that a message quotes (a card number already issued) is blanked out of the reason.

import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { prepareRegistration, registerPrepared, type Settled } from '../api/registerOne';
import type { Registration } from '../customer';
import { ApiError, Code, type ErrorCode } from '../errors';
import type { OrgConfig } from '../org';
import { orderingKeys } from '../registration/ordering';
import { MAX_BODY_BYTES } from '../schemas/addCustomer.schema';
import type { RecordKey } from '../store/idempotencyRecords';
import { ImportUnavailableError, LineInterruptedError } from './errors';
import { backoffDelay, type Pacing, type RetryPolicy } from './pacing';

/** Idempotency records of an import are kept 30 days, so a job can be rerun for a month. */
export const IMPORT_RECORD_TTL_SECONDS = 30 * 24 * 60 * 60;

/** What a job registers against: the org, the till lines are registered by (their default `associatedWith`), the job id. */
export interface ImportTarget {
  org: OrgConfig;
  till: string;
  job: string;
}

/** One line (or CSV record, or Distributed Map item) to register. */
export interface LineInput {
  /** 1-based line number in the file; null for a Distributed Map item that came without one. */
  line: number | null;
  /** The part of the record key naming the line: its number, or a hash of an item without one. */
  keyPart: string;
  /** The add-customer body, when the line could be read into one. */
  body?: unknown;
  /** Why the line could not be read into a body (not JSON, a CSV row that does not parse, too long). */
  unreadable?: { code: ErrorCode; message: string };
}

export type Outcome = 'created' | 'merged' | 'replayed' | 'rejected';

export interface LineResult {
  line: number | null;
  /** The HTTP status a single add would have answered (a replay: the status first answered). */
  status: number;
  customerId?: number;
  /** Error codes, then warning codes, each once. */
  codes: number[];
  outcome: Outcome;
  /** Why a line not answered 200 was refused: its first error's message and path, on one line, with no value of the line. */
  reason?: string;
}

export type PreparedLine =
  | { kind: 'settled'; result: LineResult }
  | { kind: 'ready'; line: number | null; body: unknown; registration: Registration; key: RecordKey; orderingKeys: string[] };

/** A JSON Lines line as a body, or why it is not one (a line over 64 KiB is 413, as the API's body would be). */
export function readJsonLine(content: string): Pick<LineInput, 'body' | 'unreadable'> {
  if (Buffer.byteLength(content) > MAX_BODY_BYTES) return { unreadable: { code: Code.tooLarge, message: 'line longer than 64 KiB' } };
  try {
    return { body: JSON.parse(content) };
  } catch {
    return { unreadable: { code: Code.badRequest, message: 'line is not JSON' } };
  }
}

/** Reads and validates a line; no DynamoDB request. */
export function prepareLine(input: LineInput, target: ImportTarget, now = new Date()): PreparedLine {
  if (input.unreadable !== undefined) {
    return { kind: 'settled', result: rejected(input.line, ApiError.of(input.unreadable.code, input.unreadable.message), []) };
  }
  const registration = prepareRegistration(input.body, { org: target.org, till: target.till, query: {}, now, origin: 'import' });
  if (registration instanceof ApiError) return { kind: 'settled', result: rejected(input.line, registration, [input.body]) };
  return {
    kind: 'ready',
    line: input.line,
    body: input.body,
    registration,
    key: recordKeyOf(target, input),
    orderingKeys: orderingKeys(registration),
  };
}

/**
 * Registers a prepared line, paced, retrying while DynamoDB answers 503. A key used before with
 * another body is the line's 422; a fault that outlasts the retries throws ImportUnavailableError;
 * the retry policy's signal ends a pause (or a wait for a slot) with LineInterruptedError, and
 * a try under way runs to its end; anything else unexpected is thrown as it is.
 */
export async function registerLine(
  ready: Extract<PreparedLine, { kind: 'ready' }>,
  target: ImportTarget,
  pacing: Pacing,
  retry: RetryPolicy,
): Promise<LineResult> {
  for (let attempt = 1; ; attempt++) {
    await pacing.take();
    if (retry.signal?.aborted) throw new LineInterruptedError(ready.line);
    try {
      return resultOf(ready, await registerPrepared(ready.registration, target.org, ready.key));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status !== Code.unavailable) return rejected(ready.line, error, [ready.body, ready.registration.profiles]);
      pacing.throttled();
      if (retry.signal?.aborted) throw new LineInterruptedError(ready.line);
      const pause = backoffDelay(attempt, retry);
      const left = retry.timeLeft?.() ?? Infinity;
      if (attempt >= retry.attempts || left < pause) throw new ImportUnavailableError(ready.line, error.message);
      retry.onPause?.(pause, attempt, retry.attempts);
      try {
        await sleep(pause, undefined, retry.signal ? { signal: retry.signal } : undefined);
      } catch (aborted) {
        if (retry.signal?.aborted) throw new LineInterruptedError(ready.line);
        throw aborted;
      }
    }
  }
}

/** The record that makes a line idempotent: `import:<job>:<line>`, bound to the body and the till. */
function recordKeyOf(target: ImportTarget, input: LineInput): RecordKey {
  const requestHash = createHash('sha256')
    .update(JSON.stringify([JSON.stringify(input.body), target.till]))
    .digest('hex');
  return { orgId: target.org.orgId, key: `import:${target.job}:${input.keyPart}`, requestHash, ttlSeconds: IMPORT_RECORD_TTL_SECONDS };
}

function resultOf(ready: Extract<PreparedLine, { kind: 'ready' }>, settled: Settled): LineResult {
  const line = ready.line;
  switch (settled.kind) {
    case 'created':
    case 'merged':
      return {
        line,
        status: 200,
        customerId: settled.customerId,
        codes: unique(settled.response.warnings.map((w) => w.code)),
        outcome: settled.kind,
      };
    case 'rejected':
      return rejected(line, settled.error, [ready.body, ready.registration.profiles]);
    case 'replayed':
      return replayed(line, settled.response.statusCode, settled.response.body, [ready.body, ready.registration.profiles]);
  }
}

/** `sources`: what the line held, whose values must not reach the reason. */
function rejected(line: number | null, error: ApiError, sources: unknown[]): LineResult {
  return {
    line,
    status: error.status,
    codes: unique([...error.problems.map((p) => p.code), ...error.warnings.map((w) => w.code)]),
    outcome: 'rejected',
    reason: reasonOf(error.problems[0], sources),
  };
}

interface StoredBody {
  createdId?: number;
  errors?: { code: number; message?: string; path?: string }[];
  warnings?: { code: number }[];
}

/** A replay keeps the status and codes first answered; only the body as stored tells them. */
function replayed(line: number | null, status: number, bodyText: string, sources: unknown[]): LineResult {
  const body = JSON.parse(bodyText) as StoredBody;
  const codes = unique([...(body.errors ?? []).map((e) => e.code), ...(body.warnings ?? []).map((w) => w.code)]);
  const first = body.errors?.[0];
  return {
    line,
    status,
    ...(typeof body.createdId === 'number' ? { customerId: body.createdId } : {}),
    codes,
    outcome: 'replayed',
    ...(status !== 200 && first ? { reason: reasonOf({ message: String(first.message ?? ''), path: first.path }, sources) } : {}),
  };
}

/** Longest reason kept; messages are far shorter, this bounds one built from a long path. */
const MAX_REASON = 300;

/** Keys whose values are the org's vocabulary (sources, types, series, statuses, tills), not a member's data. */
const VOCABULARY_KEYS = new Set(['source', 'type', 'seriesCode', 'statusLabel', 'loyaltyType', 'associatedWith', 'accountId', 'createdBy']);

/** The first error's message and path, on one line, every value of the line blanked out. */
function reasonOf(problem: { message: string; path?: string }, sources: unknown[]): string {
  let text = problem.message;
  if (problem.path && !text.includes(problem.path)) text += ` (at ${problem.path})`;
  for (const value of valuesOf(sources)) text = text.split(value).join('…');
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}

/** The strings and long numbers (a card or phone number sent as one) of a line, longest first, that a message could quote. */
function valuesOf(sources: unknown[]): string[] {
  const found = new Set<string>();
  const visit = (value: unknown, key: string): void => {
    if (typeof value === 'string' || (typeof value === 'number' && Math.abs(value) >= 100_000)) {
      const text = String(value).trim();
      if (text.length >= 3 && !VOCABULARY_KEYS.has(key)) found.add(text);
    } else if (Array.isArray(value)) value.forEach((v) => visit(v, key));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, k);
  };
  sources.forEach((source) => visit(source, ''));
  return [...found].sort((a, b) => b.length - a.length);
}

function unique(codes: number[]): number[] {
  return [...new Set(codes)];
}
