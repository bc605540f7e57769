import { createHash, randomBytes } from 'node:crypto';
import { parseArgs, isDeepStrictEqual } from 'node:util';

// The pure half of `npm run smoke` (scripts/smoke.ts sends the requests): its flags, the test
// customer it registers, the checks of each response, and the lines it prints. Nothing here
// sends a request or imports lib/: the smoke check is a client of the API like any till, so it
// knows the contract (SPEC sections 2 to 6), not the service's code.

import { UsageError } from './cli';

export interface Flags {
  /** The API's base URL, without a trailing slash: routes are `${url}/v2/...`. */
  url: string;
  till: string;
  /** The md5 hex of the till's password, in lower case, as Basic auth carries it. */
  passwordMd5: string;
  source: string;
  accountId?: string;
  timeoutMs: number;
  verbose: boolean;
}

export const DEFAULT_SOURCE = 'INSTORE';
export const DEFAULT_TIMEOUT_SECONDS = 15;

/**
 * Reads the command line; a flag missing or malformed is a UsageError naming it. SMOKE_PASSWORD
 * stands in for --password, so that CI need not put the password on a command line (which
 * `npm run` echoes).
 */
export function readFlags(argv: string[], env: Record<string, string | undefined> = process.env): Flags | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        till: { type: 'string' },
        password: { type: 'string' },
        'password-md5': { type: 'string' },
        source: { type: 'string' },
        'account-id': { type: 'string' },
        timeout: { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    // node:util's own messages, shortened: "Unknown option '--x'. To specify a positional ..." -> "Unknown option '--x'".
    throw new UsageError((error as Error).message.split(/\n|\. /)[0]);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  if (values.url === undefined) throw new UsageError('--url is required');
  if (values.till === undefined) throw new UsageError('--till is required');
  if (values.till === '' || values.till.includes(':') || values.till.length > 128) {
    throw new UsageError(`--till must be a till code of 1 to 128 characters without ':', not ${JSON.stringify(values.till)}`);
  }
  return {
    url: baseUrl(values.url),
    till: values.till,
    passwordMd5: passwordMd5Of(
      values.password ?? (values['password-md5'] === undefined ? env.SMOKE_PASSWORD : undefined),
      values['password-md5'],
    ),
    source: sourceOf(values.source),
    accountId: accountIdOf(values['account-id']),
    timeoutMs: timeoutOf(values.timeout),
    verbose: values.verbose ?? false,
  };
}

function baseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url must be an absolute http(s) URL such as http://localhost:3000, not ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be http or https, not ${url.protocol}`);
  if (url.search || url.hash) throw new UsageError('--url must not have a query or a fragment');
  if (url.username || url.password) throw new UsageError('--url must not carry credentials: use --till and --password');
  const path = url.pathname.replace(/\/+$/, '');
  if (/(^|\/)v2(\/|$)/.test(path)) {
    throw new UsageError(`--url is the API's base URL, without /v2 (routes are <url>/v2/...), not ${raw}`);
  }
  return `${url.origin}${path}`;
}

function passwordMd5Of(password: string | undefined, md5: string | undefined): string {
  if (password !== undefined && md5 !== undefined) throw new UsageError('give --password or --password-md5, not both');
  if (md5 !== undefined) {
    if (!/^[0-9a-f]{32}$/i.test(md5)) throw new UsageError('--password-md5 must be 32 hexadecimal digits');
    return md5.toLowerCase();
  }
  if (password === undefined) throw new UsageError('--password (or --password-md5, or SMOKE_PASSWORD in the environment) is required');
  return md5Hex(password);
}

function sourceOf(raw: string | undefined): string {
  if (raw === undefined) return DEFAULT_SOURCE;
  // Which sources the org enables is the service's to say (8003); this only catches typing slips.
  if (!/^[A-Z][A-Z_]*$/.test(raw)) throw new UsageError(`--source must be a source name in capitals such as INSTORE, not ${raw}`);
  return raw;
}

function accountIdOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.trim() === '') throw new UsageError('--account-id must not be empty');
  return raw;
}

function timeoutOf(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_TIMEOUT_SECONDS * 1000;
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(seconds > 0) || seconds > 600) {
    throw new UsageError(`--timeout must be a number of seconds above 0 and at most 600, not ${raw}`);
  }
  return Math.round(seconds * 1000);
}

export function md5Hex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/** `Authorization: Basic base64(<till>:<md5 hex of password>)`, as Capillary clients send it (SPEC section 2). */
export function authorization(till: string, passwordMd5: string): string {
  return `Basic ${Buffer.from(`${till}:${passwordMd5}`, 'utf8').toString('base64')}`;
}

// ---------------------------------------------------------------------------------------------
// The test customer

/** What GET /v2/customers/{id} must report for the customer to count as a test customer. */
export const TEST_MARK = ['TIMELINE_ENDPOINT'] as const;

export interface Run {
  /** Unique per run: the time and a random part. */
  id: string;
  /** The customer's one identifier, at a reserved domain (RFC 2606), so no real shopper owns it. */
  email: string;
  idempotencyKey: string;
  source: string;
  accountId?: string;
}

export function newRun(flags: Pick<Flags, 'source' | 'accountId'>, now = Date.now(), random = randomBytes(4).toString('hex')): Run {
  const id = `${now}-${random}`;
  return { id, email: `smoke+${id}@example.com`, idempotencyKey: `smoke-${id}`, source: flags.source, accountId: flags.accountId };
}

/** The add-customer body, as text: the replay must send the very same bytes. */
export function registrationBody(run: Run): string {
  return JSON.stringify({
    endPointsEnabled: TEST_MARK,
    profiles: [
      {
        source: run.source,
        ...(run.accountId === undefined ? {} : { accountId: run.accountId }),
        firstName: 'Smoke',
        lastName: 'Test',
        identifiers: [{ type: 'email', value: run.email }],
      },
    ],
  });
}

export function lookupPath(run: Run): string {
  const query = new URLSearchParams({ source: run.source });
  if (run.accountId !== undefined) query.set('accountId', run.accountId);
  query.set('identifierName', 'email');
  query.set('identifierValue', run.email);
  return `/v2/customers/lookup?${query}`;
}

// ---------------------------------------------------------------------------------------------
// Checks of one response each

export type Step = 'openapi' | 'register' | 'replay' | 'lookup' | 'read';

export interface Reply {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  text: string;
  /** From sending the request to reading the whole body. */
  ms: number;
}

export interface Check {
  ok: boolean;
  /** What was found, said so that it reads after `ok` or `FAIL`. */
  detail: string;
}

const pass = (detail: string): Check => ({ ok: true, detail });
const fail = (detail: string): Check => ({ ok: false, detail });

/**
 * The checks of a step run in order; the first that fails and that the rest depend on (the
 * status, a JSON body) ends the list, so that a 401 is reported as a 401 and not as a missing
 * header.
 */
class Checks {
  readonly list: Check[] = [];
  add(check: Check): boolean {
    this.list.push(check);
    return check.ok;
  }
}

function statusCheck(reply: Reply, expected: number): Check {
  if (reply.status === expected) return pass(`HTTP ${reply.status} in ${Math.round(reply.ms)} ms`);
  return fail(`HTTP ${reply.status}, expected ${expected}${explain(reply)}`);
}

/** What an unexpected answer says about itself: the service's first error, or API Gateway's message. */
function explain(reply: Reply): string {
  const body = parsed(reply);
  const parts: string[] = [];
  let code: unknown;
  if (isObject(body) && Array.isArray(body.errors) && isObject(body.errors[0])) {
    const first = body.errors[0];
    code = first.code;
    const more = body.errors.length > 1 ? ` (and ${body.errors.length - 1} more)` : '';
    parts.push(`${String(first.message)} (code ${String(code)}${first.path ? ` at ${String(first.path)}` : ''})${more}`);
  } else {
    // Not the spec's error body: API Gateway's default (`message`), serverless offline's (`error`), a proxy's page.
    const said = isObject(body) ? (body.message ?? body.error) : undefined;
    if (typeof said === 'string') parts.push(said);
    else if (reply.text.trim() !== '') parts.push(`body ${JSON.stringify(reply.text.trim().slice(0, 120))}`);
    if (reply.status === 403 && said === 'Missing Authentication Token') code = 404;
  }
  // A 404 that is not the service's own (8015, 8065) is a path no route has: API Gateway answers
  // 404 / 404 (or, with its defaults, 403 "Missing Authentication Token"), offline its own 404.
  if ((reply.status === 404 && (code === undefined || code === 404)) || code === 404) {
    parts.push('check --url (the stage included, when deployed)');
  }
  if (reply.status >= 300 && reply.status < 400 && reply.headers.location) parts.push(`redirected to ${reply.headers.location}`);
  if (reply.headers['retry-after']) parts.push(`Retry-After ${reply.headers['retry-after']} s`);
  return parts.length > 0 ? `: ${parts.join('; ')}` : '';
}

function contentTypeCheck(reply: Reply): Check {
  const type = reply.headers['content-type'];
  if (type !== undefined && /^application\/json\s*(;|$)/i.test(type)) return pass(`Content-Type ${type}`);
  return fail(type === undefined ? 'no Content-Type header, expected application/json' : `Content-Type ${type}, expected application/json`);
}

function jsonCheck(reply: Reply): Check {
  return parsed(reply) === undefined ? fail(`body is not JSON: ${JSON.stringify(reply.text.slice(0, 120))}`) : pass('body is JSON');
}

function parsed(reply: Reply): unknown {
  try {
    return JSON.parse(reply.text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCustomerId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/** Status, JSON content type and a JSON object body: what every step asks first. */
function jsonAnswer(checks: Checks, reply: Reply, status: number): Record<string, unknown> | undefined {
  if (!checks.add(statusCheck(reply, status))) return undefined;
  checks.add(contentTypeCheck(reply));
  if (!checks.add(jsonCheck(reply))) return undefined;
  const body = parsed(reply);
  if (!isObject(body)) {
    checks.add(fail(`body is not a JSON object: ${JSON.stringify(reply.text.slice(0, 120))}`));
    return undefined;
  }
  return body;
}

/** `X-RateLimit-Limit`, `-Remaining` and `-Reset` (SPEC sections 4 and 6) on an answer of POST /v2/customers. */
function rateLimitCheck(reply: Reply, nowMs: number): Check {
  const names = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'];
  const raw = names.map((name) => reply.headers[name.toLowerCase()]);
  const missing = names.filter((_, i) => raw[i] === undefined);
  if (missing.length > 0) return fail(`no ${missing.join(', ')} header${missing.length > 1 ? 's' : ''}`);
  const [limit, remaining, reset] = raw.map((value) => (/^\d+$/.test(value) ? Number(value) : NaN));
  if (!(limit > 0) || !Number.isSafeInteger(remaining) || !Number.isSafeInteger(reset)) {
    return fail(`X-RateLimit-* headers are not integers: ${names.map((name, i) => `${name} ${raw[i]}`).join(', ')}`);
  }
  if (remaining > limit) return fail(`X-RateLimit-Remaining ${remaining} is above X-RateLimit-Limit ${limit}`);
  // Reset is when the org's minute ends, in epoch seconds; an hour either way allows for a skewed clock.
  const inSeconds = reset - Math.floor(nowMs / 1000);
  if (Math.abs(inSeconds) > 3600) return fail(`X-RateLimit-Reset ${reset} is not a time in epoch seconds near now`);
  return pass(`X-RateLimit-Limit ${limit}, -Remaining ${remaining}, -Reset in ${inSeconds} s`);
}

export interface Registered {
  checks: Check[];
  /** The new customer's id, when the answer named one. */
  customerId?: number;
}

/** POST /v2/customers of a new customer: 200, `createdId`, no warnings, the rate headers. */
export function checkRegistered(reply: Reply, nowMs = Date.now()): Registered {
  const checks = new Checks();
  const body = jsonAnswer(checks, reply, 200);
  if (!body) return { checks: checks.list };
  const id = isCustomerId(body.createdId) ? body.createdId : undefined;
  if (
    !checks.add(
      id !== undefined ? pass(`createdId ${id}`) : fail(`createdId ${JSON.stringify(body.createdId)} is not a positive safe integer`),
    )
  ) {
    return { checks: checks.list };
  }
  checks.add(warningsCheck(body.warnings));
  checks.add(rateLimitCheck(reply, nowMs));
  return { checks: checks.list, customerId: id };
}

/** A new customer with a fresh identifier gets no warning: one means the request was read otherwise than meant. */
function warningsCheck(warnings: unknown): Check {
  if (!Array.isArray(warnings)) return fail('no warnings array in the body');
  if (warnings.length === 0) return pass('no warnings');
  const described = warnings
    .slice(0, 3)
    .map((w) => (isObject(w) ? `${String(w.code)}${w.path ? ` at ${String(w.path)}` : ''}: ${String(w.message)}` : JSON.stringify(w)));
  return fail(`warnings ${described.join('; ')}${warnings.length > 3 ? ` (and ${warnings.length - 3} more)` : ''}`);
}

/** The same POST with the same Idempotency-Key: the first status and body again, marked as a replay. */
export function checkReplay(first: Reply, replay: Reply, nowMs = Date.now()): Check[] {
  const checks = new Checks();
  if (!checks.add(statusCheck(replay, first.status))) return checks.list;
  const replayed = replay.headers['idempotent-replayed'];
  checks.add(
    replayed === 'true'
      ? pass('Idempotent-Replayed: true')
      : fail(replayed === undefined ? 'no Idempotent-Replayed header' : `Idempotent-Replayed: ${replayed}, expected true`),
  );
  checks.add(contentTypeCheck(replay));
  if (!checks.add(jsonCheck(replay))) return checks.list;
  checks.add(
    isDeepStrictEqual(parsed(replay), parsed(first))
      ? pass('the same body as the first answer')
      : fail(`a different body from the first answer: ${JSON.stringify(replay.text.slice(0, 120))}`),
  );
  checks.add(rateLimitCheck(replay, nowMs));
  return checks.list;
}

/** GET /v2/customers/lookup by the run's email: the new customer's id. */
export function checkLookup(reply: Reply, customerId: number): Check[] {
  const checks = new Checks();
  const body = jsonAnswer(checks, reply, 200);
  if (!body) return checks.list;
  checks.add(
    body.entity === customerId
      ? pass(`entity ${customerId}, the registered customer`)
      : fail(`entity ${JSON.stringify(body.entity)}, expected ${customerId}, the registered customer`),
  );
  return checks.list;
}

/** GET /v2/customers/{id}: the same id, marked as a test customer, with the run's profile and email. */
export function checkRead(reply: Reply, customerId: number, run: Run): Check[] {
  const checks = new Checks();
  const body = jsonAnswer(checks, reply, 200);
  if (!body) return checks.list;
  checks.add(body.id === customerId ? pass(`id ${customerId}`) : fail(`id ${JSON.stringify(body.id)}, expected ${customerId}`));
  checks.add(
    isDeepStrictEqual(body.endPointsEnabled, [...TEST_MARK])
      ? pass(`marked as a test customer (endPointsEnabled ${TEST_MARK.join(', ')})`)
      : fail(
          `endPointsEnabled ${JSON.stringify(body.endPointsEnabled)}, expected ${JSON.stringify(TEST_MARK)}: not marked as a test customer`,
        ),
  );
  const where = `${run.source}${run.accountId === undefined ? '' : ` ${run.accountId}`}`;
  const profiles = Array.isArray(body.profiles) ? body.profiles.filter(isObject) : [];
  const profile = profiles.find((p) => p.source === run.source && (run.accountId === undefined || p.accountId === run.accountId));
  const hasEmail =
    profile !== undefined &&
    Array.isArray(profile.identifiers) &&
    profile.identifiers.some((i: unknown) => isObject(i) && i.type === 'email' && i.value === run.email);
  checks.add(
    hasEmail
      ? pass(`the ${where} profile holds the run's email`)
      : fail(profile === undefined ? `no ${where} profile` : `the ${where} profile does not hold the run's email ${run.email}`),
  );
  return checks.list;
}

/** GET /v2/openapi.json, without credentials: the contract document (SPEC section 14). */
export function checkOpenApi(reply: Reply): Check[] {
  const checks = new Checks();
  const body = jsonAnswer(checks, reply, 200);
  if (!body) return checks.list;
  const version = body.openapi;
  const paths = body.paths;
  checks.add(
    typeof version === 'string' && /^3\./.test(version) && isObject(paths) && isObject(paths['/v2/customers'])
      ? pass(`an OpenAPI ${version} document with /v2/customers`)
      : fail('not an OpenAPI 3 document describing /v2/customers'),
  );
  return checks.list;
}

/** A request that got no answer: the step's one check. */
export function transportFailure(error: unknown, url: string, timeoutMs: number): Check {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return fail(`no answer from ${url} within ${timeoutMs / 1000} s`);
  const cause = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(error);
  return fail(`cannot reach ${url}: ${cause}`);
}

// ---------------------------------------------------------------------------------------------
// Output

/** One line per check, printed with --verbose. */
export function checkLine(step: Step, check: Check): string {
  return `${check.ok ? 'ok  ' : 'FAIL'} ${step}: ${check.detail}`;
}

export function okVerdict(url: string, registerReply: Reply, customerId: number): string {
  return `smoke: OK ${url} (openapi, register ${registerReply.status} in ${Math.round(registerReply.ms)} ms, replay, lookup, read) customer ${customerId}`;
}

export function failedVerdict(step: Step, checks: Check[], customerId?: number): string {
  const failed = checks.filter((c) => !c.ok);
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more failed check${failed.length > 2 ? 's' : ''})` : '';
  const created = customerId === undefined ? '' : `; test customer ${customerId} was registered`;
  return `smoke: FAILED ${step}: ${failed[0]?.detail ?? 'no check passed'}${more}${created}`;
}
