import {
  authorization,
  checkLine,
  checkLookup,
  checkOpenApi,
  checkRead,
  checkRegistered,
  checkReplay,
  failedVerdict,
  lookupPath,
  md5Hex,
  newRun,
  okVerdict,
  readFlags,
  registrationBody,
  transportFailure,
  type Check,
  type Flags,
  type Reply,
} from '../../scripts/smokeChecks';
import { UsageError } from '../../scripts/cli';

// The pure half of `npm run smoke`: its flags, the request it sends, and the judgement of each
// answer, without a network. test/e2e/smoke.test.ts runs the command against serverless offline.

const DEMO = ['--till', 'demo.till', '--password', 'demo-password'];
const NOW = Date.UTC(2026, 11, 1, 12, 0, 30);
const run = newRun({ source: 'INSTORE' }, NOW, '0a1b2c3d');
const ID = 4503599627;

function flags(...argv: string[]): Flags {
  const read = readFlags(argv, {});
  if (read === 'help') throw new Error('help');
  return read;
}

function usage(...argv: string[]): string {
  try {
    readFlags(argv, {});
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

function reply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    text: typeof body === 'string' ? body : JSON.stringify(body),
    ms: 42.4,
  };
}

const RATE = { 'x-ratelimit-limit': '100000', 'x-ratelimit-remaining': '99999', 'x-ratelimit-reset': String(NOW / 1000 + 30) };
const created = () => reply(200, { createdId: ID, warnings: [], sideEffects: [] }, RATE);
const failures = (checks: Check[]) => checks.filter((c) => !c.ok).map((c) => c.detail);

describe('flags', () => {
  test('--url, --till and --password are all a run needs; the rest have defaults', () => {
    expect(flags('--url', 'http://localhost:3000', ...DEMO)).toEqual({
      url: 'http://localhost:3000',
      till: 'demo.till',
      passwordMd5: md5Hex('demo-password'),
      source: 'INSTORE',
      accountId: undefined,
      timeoutMs: 15_000,
      verbose: false,
    });
  });

  test('the URL keeps a deployed stage in its path and loses its trailing slash', () => {
    expect(flags('--url', 'https://abc123.execute-api.eu-west-1.amazonaws.com/emea/', ...DEMO).url).toBe(
      'https://abc123.execute-api.eu-west-1.amazonaws.com/emea',
    );
  });

  test('each missing or malformed flag is named', () => {
    expect(usage(...DEMO)).toBe('--url is required');
    expect(usage('--url', 'http://localhost:3000', '--password', 'x')).toBe('--till is required');
    expect(usage('--url', 'http://localhost:3000', '--till', 'demo.till')).toBe(
      '--password (or --password-md5, or SMOKE_PASSWORD in the environment) is required',
    );
    expect(usage('--url', 'localhost:3000', ...DEMO)).toMatch(/^--url must be http or https/);
    expect(usage('--url', 'not a url', ...DEMO)).toMatch(/^--url must be an absolute http\(s\) URL/);
    expect(usage('--url', 'http://localhost:3000/v2/customers', ...DEMO)).toMatch(/^--url is the API's base URL, without \/v2/);
    expect(usage('--url', 'http://localhost:3000?stage=local', ...DEMO)).toBe('--url must not have a query or a fragment');
    expect(usage('--url', 'http://demo.till:x@localhost:3000', ...DEMO)).toMatch(/^--url must not carry credentials/);
    expect(usage('--url', 'http://localhost:3000', '--till', 'a:b', '--password', 'x')).toMatch(/^--till must be a till code/);
    expect(usage('--url', 'http://localhost:3000', ...DEMO, '--password-md5', md5Hex('x'))).toBe(
      'give --password or --password-md5, not both',
    );
    expect(usage('--url', 'http://localhost:3000', '--till', 't', '--password-md5', 'abc')).toBe(
      '--password-md5 must be 32 hexadecimal digits',
    );
    expect(usage('--url', 'http://localhost:3000', ...DEMO, '--source', 'instore')).toMatch(/^--source must be a source name in capitals/);
    expect(usage('--url', 'http://localhost:3000', ...DEMO, '--timeout', '0')).toMatch(/^--timeout must be a number of seconds/);
    expect(usage('--url', 'http://localhost:3000', ...DEMO, '--timeout', '15s')).toMatch(/^--timeout must be a number of seconds/);
    expect(usage('--url', 'http://localhost:3000', ...DEMO, '--bogus')).toBe("Unknown option '--bogus'");
    expect(usage('--url', 'http://localhost:3000', ...DEMO, 'extra')).toBe('unexpected argument extra');
  });

  test('--help wins over anything else on the line', () => {
    expect(readFlags(['--help'])).toBe('help');
    expect(readFlags(['-h', '--url', 'nonsense'])).toBe('help');
  });

  test('--password-md5 stands in for --password, in the lower case the service hashes', () => {
    expect(
      flags('--url', 'http://localhost:3000', '--till', 'demo.till', '--password-md5', md5Hex('demo-password').toUpperCase()).passwordMd5,
    ).toBe(md5Hex('demo-password'));
  });

  test('SMOKE_PASSWORD in the environment stands in for --password, and a flag wins over it', () => {
    const url = ['--url', 'http://localhost:3000', '--till', 'demo.till'];
    expect(readFlags(url, { SMOKE_PASSWORD: 'demo-password' })).toMatchObject({ passwordMd5: md5Hex('demo-password') });
    expect(readFlags([...url, '--password', 'other'], { SMOKE_PASSWORD: 'demo-password' })).toMatchObject({ passwordMd5: md5Hex('other') });
    expect(readFlags([...url, '--password-md5', md5Hex('x')], { SMOKE_PASSWORD: 'demo-password' })).toMatchObject({
      passwordMd5: md5Hex('x'),
    });
  });

  test('--source, --account-id, --timeout and --verbose are read', () => {
    expect(
      flags('--url', 'http://localhost:3000', ...DEMO, '--source', 'WECHAT', '--account-id', 'wx-main', '--timeout', '2.5', '-v'),
    ).toMatchObject({ source: 'WECHAT', accountId: 'wx-main', timeoutMs: 2500, verbose: true });
  });
});

describe('the request', () => {
  test('Basic auth carries base64 of <till>:<md5 hex of the password>, as SPEC section 2 has it', () => {
    const header = authorization('demo.till', md5Hex('demo-password'));
    expect(header).toMatch(/^Basic [A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8')).toBe(`demo.till:${md5Hex('demo-password')}`);
    expect(md5Hex('')).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });

  test('every run has its own email at example.com and its own Idempotency-Key', () => {
    expect(run).toEqual({
      id: `${NOW}-0a1b2c3d`,
      email: `smoke+${NOW}-0a1b2c3d@example.com`,
      idempotencyKey: `smoke-${NOW}-0a1b2c3d`,
      source: 'INSTORE',
      accountId: undefined,
    });
    expect(newRun({ source: 'INSTORE' }).email).not.toBe(newRun({ source: 'INSTORE' }).email);
  });

  test('registers a test customer: endPointsEnabled set, one profile in the source with the email', () => {
    expect(JSON.parse(registrationBody(run))).toEqual({
      endPointsEnabled: ['TIMELINE_ENDPOINT'],
      profiles: [{ source: 'INSTORE', firstName: 'Smoke', lastName: 'Test', identifiers: [{ type: 'email', value: run.email }] }],
    });
    const wechat = newRun({ source: 'WECHAT', accountId: 'wx-main' }, NOW, '0a1b2c3d');
    expect(JSON.parse(registrationBody(wechat)).profiles[0]).toMatchObject({ source: 'WECHAT', accountId: 'wx-main' });
  });

  test('the lookup names the source, the account and the email, encoded', () => {
    expect(lookupPath(run)).toBe(
      `/v2/customers/lookup?source=INSTORE&identifierName=email&identifierValue=smoke%2B${NOW}-0a1b2c3d%40example.com`,
    );
    const wechat = newRun({ source: 'WECHAT', accountId: 'wx-main' }, NOW, '0a1b2c3d');
    expect(new URLSearchParams(lookupPath(wechat).split('?')[1]).get('accountId')).toBe('wx-main');
  });
});

describe('register', () => {
  test('a new customer with its id, no warnings and the rate headers passes', () => {
    const result = checkRegistered(created(), NOW);
    expect(result.customerId).toBe(ID);
    expect(result.checks.map((c) => c.detail)).toEqual([
      'HTTP 200 in 42 ms',
      'Content-Type application/json',
      'body is JSON',
      `createdId ${ID}`,
      'no warnings',
      'X-RateLimit-Limit 100000, -Remaining 99999, -Reset in 30 s',
    ]);
    expect(failures(result.checks)).toEqual([]);
  });

  test("a refusal is reported by its status and the service's first error, and nothing after it is judged", () => {
    const refused = reply(401, { errors: [{ status: false, code: 401, message: 'missing or wrong credentials' }], warnings: [] });
    expect(checkRegistered(refused, NOW)).toEqual({
      checks: [{ ok: false, detail: 'HTTP 401, expected 200: missing or wrong credentials (code 401)' }],
    });
  });

  test('a 429 or 503 says when to retry; several errors say how many more there are', () => {
    const limited = reply(429, { errors: [{ code: 429, message: 'rate limit reached' }] }, { 'retry-after': '12' });
    expect(failures(checkRegistered(limited, NOW).checks)).toEqual([
      'HTTP 429, expected 200: rate limit reached (code 429); Retry-After 12 s',
    ]);
    const invalid = reply(400, {
      errors: [
        { code: 8003, message: 'invalid source NOPE', path: '/profiles/0/source' },
        { code: 8005, message: 'no identifier', path: '/profiles/0' },
      ],
    });
    expect(failures(checkRegistered(invalid, NOW).checks)).toEqual([
      'HTTP 400, expected 200: invalid source NOPE (code 8003 at /profiles/0/source) (and 1 more)',
    ]);
  });

  test("an answer that is not the service's says what it is: a missing route, a redirect, a proxy's page", () => {
    const gateway = reply(403, { message: 'Missing Authentication Token' });
    expect(failures(checkRegistered(gateway, NOW).checks)).toEqual([
      'HTTP 403, expected 200: Missing Authentication Token; check --url (the stage included, when deployed)',
    ]);
    const routeless = reply(404, { errors: [{ status: false, code: 404, message: 'no such route' }], warnings: [] });
    expect(failures(checkRegistered(routeless, NOW).checks)).toEqual([
      'HTTP 404, expected 200: no such route (code 404); check --url (the stage included, when deployed)',
    ]);
    const moved = { ...reply(301, ''), headers: { location: 'https://api.example.com/v2/customers' } };
    expect(failures(checkRegistered(moved, NOW).checks)).toEqual([
      'HTTP 301, expected 200: redirected to https://api.example.com/v2/customers',
    ]);
    const page = { ...reply(502, '<html>Bad Gateway</html>'), headers: { 'content-type': 'text/html' } };
    expect(failures(checkRegistered(page, NOW).checks)).toEqual(['HTTP 502, expected 200: body "<html>Bad Gateway</html>"']);
  });

  test('a 200 that is not JSON, or lacks a usable createdId, fails', () => {
    const html = { ...reply(200, '<html></html>'), headers: { 'content-type': 'text/html' } };
    expect(failures(checkRegistered(html, NOW).checks)).toEqual([
      'Content-Type text/html, expected application/json',
      'body is not JSON: "<html></html>"',
    ]);
    for (const createdId of [undefined, 0, -1, 1.5, '4503599627', 2 ** 53]) {
      const result = checkRegistered(reply(200, { createdId, warnings: [] }, RATE), NOW);
      expect(result.customerId).toBeUndefined();
      expect(failures(result.checks)).toEqual([`createdId ${JSON.stringify(createdId)} is not a positive safe integer`]);
    }
  });

  test('a warning fails the check: a fresh test customer should be read exactly as sent', () => {
    const warned = reply(
      200,
      { createdId: ID, warnings: [{ status: false, code: 8200, message: 'unknown key ignored', path: '/endPointsEnabled' }] },
      RATE,
    );
    const result = checkRegistered(warned, NOW);
    expect(result.customerId).toBe(ID);
    expect(failures(result.checks)).toEqual(['warnings 8200 at /endPointsEnabled: unknown key ignored']);
  });

  test('the rate headers must all be there, be integers, and Reset must be epoch seconds near now', () => {
    const without = (name: string) => {
      const headers: Record<string, string> = { ...RATE };
      delete headers[name];
      return reply(200, { createdId: ID, warnings: [] }, headers);
    };
    expect(failures(checkRegistered(without('x-ratelimit-remaining'), NOW).checks)).toEqual(['no X-RateLimit-Remaining header']);
    expect(failures(checkRegistered(reply(200, { createdId: ID, warnings: [] }), NOW).checks)).toEqual([
      'no X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset headers',
    ]);
    const odd = (headers: Record<string, string>) =>
      failures(checkRegistered(reply(200, { createdId: ID, warnings: [] }, { ...RATE, ...headers }), NOW).checks);
    expect(odd({ 'x-ratelimit-limit': 'lots' })).toEqual([expect.stringMatching(/^X-RateLimit-\* headers are not integers/)]);
    expect(odd({ 'x-ratelimit-remaining': '100001' })).toEqual(['X-RateLimit-Remaining 100001 is above X-RateLimit-Limit 100000']);
    expect(odd({ 'x-ratelimit-reset': String(NOW + 30_000) })).toEqual([
      expect.stringMatching(/^X-RateLimit-Reset \d+ is not a time in epoch seconds/),
    ]);
  });
});

describe('replay', () => {
  test('the first status and body again, with Idempotent-Replayed: true, passes', () => {
    const replay = reply(200, JSON.parse(created().text), { ...RATE, 'idempotent-replayed': 'true' });
    expect(failures(checkReplay(created(), replay, NOW))).toEqual([]);
  });

  test('a fresh registration instead of a replay fails on the header and the body', () => {
    const fresh = reply(200, { createdId: ID + 1, warnings: [], sideEffects: [] }, RATE);
    expect(failures(checkReplay(created(), fresh, NOW))).toEqual([
      'no Idempotent-Replayed header',
      expect.stringMatching(/^a different body from the first answer: /),
    ]);
  });

  test('another status than the first answer fails at once', () => {
    const reused = reply(422, { errors: [{ code: 422, message: 'Idempotency-Key was used with a different request' }] }, RATE);
    expect(checkReplay(created(), reused, NOW)).toEqual([
      { ok: false, detail: 'HTTP 422, expected 200: Idempotency-Key was used with a different request (code 422)' },
    ]);
  });
});

describe('lookup and read', () => {
  const document = (extra: Record<string, unknown> = {}) => ({
    id: ID,
    loyaltyInfo: { loyaltyType: 'loyalty' },
    profiles: [{ source: 'INSTORE', accountId: null, identifiers: [{ type: 'email', value: run.email }] }],
    endPointsEnabled: ['TIMELINE_ENDPOINT'],
    warnings: [],
    ...extra,
  });

  test('the lookup must find the registered customer', () => {
    expect(failures(checkLookup(reply(200, { entity: ID, warnings: [] }), ID))).toEqual([]);
    expect(failures(checkLookup(reply(200, { entity: ID + 1, warnings: [] }), ID))).toEqual([
      `entity ${ID + 1}, expected ${ID}, the registered customer`,
    ]);
    expect(failures(checkLookup(reply(404, { errors: [{ code: 8015, message: 'customer not found' }] }), ID))).toEqual([
      'HTTP 404, expected 200: customer not found (code 8015)',
    ]);
  });

  test('the read must be the same customer, marked as a test customer, with the profile and email sent', () => {
    expect(failures(checkRead(reply(200, document()), ID, run))).toEqual([]);
    expect(failures(checkRead(reply(200, document({ id: ID + 1 })), ID, run))).toEqual([`id ${ID + 1}, expected ${ID}`]);
    expect(failures(checkRead(reply(200, document({ endPointsEnabled: [] })), ID, run))).toEqual([
      'endPointsEnabled [], expected ["TIMELINE_ENDPOINT"]: not marked as a test customer',
    ]);
    expect(failures(checkRead(reply(200, document({ profiles: [{ source: 'WEBSITE', identifiers: [] }] })), ID, run))).toEqual([
      'no INSTORE profile',
    ]);
    expect(failures(checkRead(reply(200, document({ profiles: [{ source: 'INSTORE', identifiers: [] }] })), ID, run))).toEqual([
      `the INSTORE profile does not hold the run's email ${run.email}`,
    ]);
  });

  test('with an account, the read looks for the profile in that account', () => {
    const wechat = newRun({ source: 'WECHAT', accountId: 'wx-second' }, NOW, '0a1b2c3d');
    const profiles = [{ source: 'WECHAT', accountId: 'wx-main', identifiers: [{ type: 'email', value: wechat.email }] }];
    expect(failures(checkRead(reply(200, document({ profiles })), ID, wechat))).toEqual(['no WECHAT wx-second profile']);
  });
});

describe('openapi', () => {
  test('an OpenAPI 3 document describing /v2/customers passes; anything else fails', () => {
    expect(failures(checkOpenApi(reply(200, { openapi: '3.1.0', paths: { '/v2/customers': { post: {} } } })))).toEqual([]);
    expect(failures(checkOpenApi(reply(200, { swagger: '2.0', paths: {} })))).toEqual([
      'not an OpenAPI 3 document describing /v2/customers',
    ]);
    expect(failures(checkOpenApi(reply(404, { error: 'Serverless-offline: route not found.' })))).toEqual([
      'HTTP 404, expected 200: Serverless-offline: route not found.; check --url (the stage included, when deployed)',
    ]);
  });
});

describe('a request without an answer', () => {
  test('a timeout and a refused connection are told apart', () => {
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    expect(transportFailure(timeout, 'https://api.example.com/v2/customers', 15_000)).toEqual({
      ok: false,
      detail: 'no answer from https://api.example.com/v2/customers within 15 s',
    });
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    expect(transportFailure(refused, 'http://127.0.0.1:1/v2/openapi.json', 15_000).detail).toBe(
      'cannot reach http://127.0.0.1:1/v2/openapi.json: ECONNREFUSED',
    );
  });
});

describe('what it prints', () => {
  test('one line per check with --verbose', () => {
    expect(checkLine('lookup', { ok: true, detail: `entity ${ID}` })).toBe(`ok   lookup: entity ${ID}`);
    expect(checkLine('read', { ok: false, detail: 'no INSTORE profile' })).toBe('FAIL read: no INSTORE profile');
  });

  test('one verdict: OK with the steps, the register time and the customer', () => {
    expect(okVerdict('https://api.example.com/emea', created(), ID)).toBe(
      `smoke: OK https://api.example.com/emea (openapi, register 200 in 42 ms, replay, lookup, read) customer ${ID}`,
    );
  });

  test('or FAILED with the step, the first failure, how many more, and the test customer left behind', () => {
    const checks = [
      { ok: true, detail: 'HTTP 200 in 5 ms' },
      { ok: false, detail: 'no Idempotent-Replayed header' },
      { ok: false, detail: 'a different body from the first answer' },
    ];
    expect(failedVerdict('replay', checks, ID)).toBe(
      `smoke: FAILED replay: no Idempotent-Replayed header (and 1 more failed check); test customer ${ID} was registered`,
    );
    expect(failedVerdict('register', [{ ok: false, detail: 'HTTP 401, expected 200' }])).toBe(
      'smoke: FAILED register: HTTP 401, expected 200',
    );
  });
});
