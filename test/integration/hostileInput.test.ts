import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { handler as addCustomerHandler } from '../../handlers/addCustomer';
import { localClient } from '../../scripts/table';
import { MAX_BODY_BYTES } from '../../lib/http/route';
import { addCustomer, getCustomer, instoreProfile, uniqueMobile } from '../support/customers';
import { apiEvent, call, codes, type Reply } from '../support/http';
import { registrationItems, useDemoTable } from '../support/table';

// Hostile request bodies against POST /v2/customers, through the real handler and DynamoDB
// Local (SPEC sections 3 and 4: "No client input ever produces a 500"; a rejection lists its
// problems as `{status: false, code, message, path}`; a rejected request writes nothing).
//
// Property-based: generated JSON, generated raw text, and mutations of a valid body (wrong
// types, huge and odd strings, extreme numbers, deep nesting, keys named after
// Object.prototype members, unknown keys), about 1500 requests in all. A failing property
// prints the smallest body fast-check found.

useDemoTable();
jest.setTimeout(300_000);

// ---------------------------------------------------------------------------------------------
// Sending and checking

/** Sends `raw` as the body of POST /v2/customers (org 100, JSON content type unless told). */
function send(raw: string, headers: Record<string, string> = {}): Promise<Reply> {
  return addCustomer(undefined, { rawBody: raw, headers });
}

/** Registration items (customers, profiles, identifiers, idempotency records): not the rate counters. */
async function writtenCount(): Promise<number> {
  return (await registrationItems()).filter((item) => item.entity !== 'rateWindow').length;
}

let verifier: ReturnType<typeof localClient> | undefined;
/**
 * The same count as writtenCount(), as a COUNT scan on a client of the test's own: about four
 * times quicker, for the properties' thousands of requests.
 */
async function quickWrittenCount(): Promise<number> {
  verifier ??= localClient(process.env.DYNAMODB_ENDPOINT!);
  let count = 0;
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await verifier.send(
      new ScanCommand({
        TableName: process.env.TABLE_NAME!,
        Select: 'COUNT',
        FilterExpression: 'NOT (entity IN (:org, :till, :rate))',
        ExpressionAttributeValues: { ':org': { S: 'org' }, ':till': { S: 'till' }, ':rate': { S: 'rateWindow' } },
        ExclusiveStartKey,
      }),
    );
    count += page.Count ?? 0;
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return count;
}

/** The contract every reply keeps, whatever was sent. */
function expectWellFormed(reply: Reply): void {
  expect(reply.status).toBeLessThan(500);
  expect(reply.body).toEqual(expect.any(Object));
  expect(Array.isArray(reply.body.warnings)).toBe(true);
  for (const warning of reply.body.warnings) {
    expect(warning).toEqual(expect.objectContaining({ status: false, code: expect.any(Number), message: expect.any(String) }));
  }
  if (reply.status === 200) {
    expect(Number.isSafeInteger(reply.body.createdId) && reply.body.createdId > 0).toBe(true);
    expect(Array.isArray(reply.body.sideEffects)).toBe(true);
    return;
  }
  expect(Array.isArray(reply.body.errors)).toBe(true);
  expect(reply.body.errors.length).toBeGreaterThan(0);
  for (const error of reply.body.errors) {
    expect(error.status).toBe(false);
    expect(Number.isInteger(error.code)).toBe(true);
    expect(typeof error.message).toBe('string');
    expect(error.message.length).toBeGreaterThan(0);
    if (error.path !== undefined) expect(typeof error.path).toBe('string');
  }
}

function expectNoPollution(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).filter((name) => !PROTOTYPE_NAMES.has(name))).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}
const PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Items written so far, as counted after the last generated request. */
let knownCount: number | undefined;

/** Sends one generated body; checks the reply and, for a rejection, that nothing was written. */
async function sendAndCheck(raw: string): Promise<Reply> {
  const before = knownCount ?? (await quickWrittenCount());
  const reply = await send(raw);
  const after = await quickWrittenCount();
  knownCount = after;
  expectWellFormed(reply);
  // Valid auth and content type: only these outcomes are possible for a body.
  expect([200, 400, 409, 413]).toContain(reply.status);
  if (reply.status !== 200) expect(after).toBe(before);
  expectNoPollution();
  return reply;
}

/** An object with `key` as an own enumerable property, even for `__proto__`. */
function own(key: string, value: unknown, into: Record<string, unknown> = {}): Record<string, unknown> {
  Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
  return into;
}

const serialise = (value: unknown): string => JSON.stringify(value) ?? '';

// ---------------------------------------------------------------------------------------------
// Generators

/** A few mobiles (and emails derived from them), so that valid variants also meet existing customers (409, merge). */
const MOBILES = ['9811100001', '9811100002', '9811100003', '9811100004'];
/** A pooled mobile half the time, else one that is almost surely new (a creation). */
const mobiles = fc.oneof(
  fc.constantFrom(...MOBILES),
  fc.integer({ min: 0, max: 99_999_999 }).map((n) => `98${String(n).padStart(8, '0')}`),
);

function validBody(mobile: string, source: string): Record<string, any> {
  return {
    loyaltyType: 'loyalty',
    profiles: [
      {
        source,
        firstName: 'Asha',
        lastName: 'Rao',
        identifiers: [
          { type: 'mobile', value: mobile },
          { type: 'email', value: `asha.${mobile}@example.com` },
        ],
        fields: { favourite: 'tea' },
        commChannels: [
          { type: 'email', value: `asha.${mobile}@example.com`, primary: true, verified: 'false', attributes: { channel: 'pos' } },
        ],
      },
    ],
    extendedFields: { gender: 'Female', city: 'Pune', household_size: 3, annual_income: 1200.5 },
    loyaltyProgramEnrollments: [{ programId: 1, tierNumber: 2, loyaltyPoints: 10 }],
    createDate: '2024-01-02T03:04:05+05:30',
    associatedWith: 'demo.till',
  };
}

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__'];

const oddStrings = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '😀'.repeat(70),
  '\u202eevil',
  'ß',
  '٩٨١١١٠٠٠٠١', // Arabic-Indic digits
  '+91 (981) 110-0001',
  '  9811100001  ',
  'null',
  'true',
  '1e400',
  '-0',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '${jndi:ldap://x}',
  'ORG#200#ID#mobile#919811100001',
  '../../etc/passwd',
  '%00%ff',
);

const hugeStrings = fc
  .constantFrom(101, 256, 1_000, 5_000, 40_000)
  .chain((length) => fc.constantFrom('x', '9', '€', '😀').map((unit) => unit.repeat(length)));

const extremeNumbers = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(1e300, -1e300, 5e-324, 1e-200, 2 ** 53, 2 ** 53 + 2, -(2 ** 53) - 2, 1e16, 1e21, 0.1, -1, -0, 123456789012345680000),
);

/**
 * Nested arrays or objects `depth` levels deep, built when serialised (and printed short in a
 * counterexample, which fast-check could not print at this depth).
 */
class Deep {
  constructor(
    readonly depth: number,
    readonly arrays: boolean,
  ) {}

  toJSON(): unknown {
    let value: unknown = this.arrays ? [] : {};
    for (let i = 0; i < this.depth; i++) value = this.arrays ? [value] : { a: value };
    return value;
  }

  [fc.toStringMethod](): string {
    return `<${this.depth} levels of ${this.arrays ? '[]' : '{"a": }'}>`;
  }
}

const deepNesting = fc.tuple(fc.integer({ min: 10, max: 3_000 }), fc.boolean()).map(([depth, arrays]) => new Deep(depth, arrays));

const objectsWithPrototypeKeys = fc
  .tuple(fc.constantFrom(...PROTOTYPE_KEYS), fc.oneof(fc.constant({ polluted: true }), fc.string(), fc.integer(), fc.constant(null)))
  .map(([key, value]) => own(key, value));

const hostileValue = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
  oddStrings,
  hugeStrings,
  extremeNumbers,
  deepNesting,
  objectsWithPrototypeKeys,
  fc.constantFrom(null, true, false, [], {}, [null], ['INSTORE'], { type: 'mobile' }),
);

type Path = (string | number)[];

/** Sets (or, for `undefined`, deletes) the value at `path`, creating containers on the way. */
function setAt(target: Record<string, any>, path: Path, value: unknown): Record<string, any> {
  if (path.length === 0) return value as Record<string, any>;
  let node: any = target;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    const child = Object.prototype.hasOwnProperty.call(node, key) ? node[key] : undefined;
    if (child === null || typeof child !== 'object' || child instanceof Deep) {
      own(String(key), typeof path[i + 1] === 'number' ? [] : {}, node);
    }
    node = node[key];
  }
  const last = path[path.length - 1];
  if (value === undefined) delete node[last];
  else own(String(last), value, node);
  return target;
}

const anyKey = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ maxLength: 70 }), oddStrings);

/** Paths into the valid body: profiles, identifiers, comm channels. */
const profilePaths: fc.Arbitrary<Path> = fc.oneof(
  fc.constantFrom<Path>(
    ['profiles'],
    ['profiles', 0],
    ['profiles', 1],
    ['profiles', 0, 'source'],
    ['profiles', 0, 'accountId'],
    ['profiles', 0, 'firstName'],
    ['profiles', 0, 'lastName'],
    ['profiles', 0, 'identifiers'],
    ['profiles', 0, 'identifiers', 0],
    ['profiles', 0, 'identifiers', 0, 'type'],
    ['profiles', 0, 'identifiers', 0, 'value'],
    ['profiles', 0, 'identifiers', 1, 'value'],
    ['profiles', 0, 'identifiers', 2],
    ['profiles', 0, 'identifiers', 2, 'type'],
    ['profiles', 0, 'identifiers', 2, 'value'],
    ['profiles', 0, 'identifiers', 2, 'seriesId'],
    ['profiles', 0, 'identifiers', 2, 'statusLabel'],
    ['profiles', 0, 'commChannels'],
    ['profiles', 0, 'commChannels', 0],
    ['profiles', 0, 'commChannels', 0, 'type'],
    ['profiles', 0, 'commChannels', 0, 'value'],
    ['profiles', 0, 'commChannels', 0, 'primary'],
    ['profiles', 0, 'commChannels', 0, 'meta'],
    ['profiles', 0, 'commChannels', 0, 'meta', 'lastViewedDate'],
  ),
  anyKey.map((key): Path => ['profiles', 0, key]),
  anyKey.map((key): Path => ['profiles', 0, 'identifiers', 0, key]),
);

/** Paths into customer-level parts: extended fields, enrollments, dates, tills, flags. */
const customerPaths: fc.Arbitrary<Path> = fc.oneof(
  fc.constantFrom<Path>(
    [],
    ['loyaltyType'],
    ['loyaltyInfo'],
    ['loyaltyInfo', 'loyaltyType'],
    ['extendedFields'],
    ['extendedFields', 'gender'],
    ['extendedFields', 'dob'],
    ['extendedFields', 'household_size'],
    ['extendedFields', 'annual_income'],
    ['extendedFields', 'marketing_opt_in_at'],
    ['extendedFields', 'nationality'],
    ['loyaltyProgramEnrollments'],
    ['loyaltyProgramEnrollments', 0],
    ['loyaltyProgramEnrollments', 0, 'programId'],
    ['loyaltyProgramEnrollments', 0, 'tierNumber'],
    ['loyaltyProgramEnrollments', 0, 'loyaltyPoints'],
    ['loyaltyProgramEnrollments', 0, 'tierExpiryDate'],
    ['loyaltyProgramEnrollments', 0, 'pointsExpiryDate'],
    ['createDate'],
    ['associatedWith'],
    ['endPointsEnabled'],
    ['endPointsEnabled', 0],
    ['activity'],
  ),
  anyKey.map((key): Path => [key]),
  anyKey.map((key): Path => ['extendedFields', key]),
);

/** Paths into free-form maps the service stores as sent: custom fields and comm channel attributes. */
const freeFormPaths: fc.Arbitrary<Path> = fc.oneof(
  fc.constantFrom<Path>(['profiles', 0, 'fields'], ['profiles', 0, 'commChannels', 0, 'attributes']),
  anyKey.map((key): Path => ['profiles', 0, 'fields', key]),
  anyKey.map((key): Path => ['profiles', 0, 'commChannels', 0, 'attributes', key]),
  anyKey.map((key): Path => ['profiles', 0, 'identifiers', 2, 'fields', key]),
);

interface Mutation {
  mobile: string;
  source: string;
  mutations: [Path, unknown][];
}

/** A valid body with one to four mutations (set a hostile value, or delete) at the given paths. */
function mutatedBodies(paths: fc.Arbitrary<Path>): fc.Arbitrary<Mutation> {
  return fc.record({
    mobile: mobiles,
    source: fc.constantFrom('INSTORE', 'ECOMMERCE', 'WEBSITE'),
    mutations: fc.array(
      fc.tuple(paths, fc.oneof({ weight: 5, arbitrary: hostileValue }, { weight: 1, arbitrary: fc.constant(undefined) })),
      {
        minLength: 1,
        maxLength: 4,
      },
    ),
  });
}

/**
 * A copy of a generated value, own keys (`__proto__` too) kept: two mutations may be handed the
 * same generated object, and setting one inside the other would make the body circular.
 */
function copyOf(value: unknown): unknown {
  if (Array.isArray(value)) return Array.from(value, copyOf);
  if (value === null || typeof value !== 'object' || value instanceof Deep) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) own(key, copyOf((value as Record<string, unknown>)[key]), copy);
  return copy;
}

function build({ mobile, source, mutations }: Mutation): string {
  let body: unknown = validBody(mobile, source);
  for (const [path, generated] of mutations) {
    const value = copyOf(generated);
    body = body !== null && typeof body === 'object' ? setAt(body as Record<string, any>, path, value) : setAt({}, path, value);
  }
  return serialise(body);
}

/** A failure prints its seed; FC_SEED=<seed> replays it. */
const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
const runs = (numRuns: number) => ({ numRuns, seed: SEED });

// ---------------------------------------------------------------------------------------------
// Properties

describe('generated bodies never produce a 5xx, a malformed rejection, or a write when rejected', () => {
  beforeAll(async () => {
    expect(await quickWrittenCount()).toBe(await writtenCount());
  });

  afterAll(async () => {
    expect(await quickWrittenCount()).toBe(await writtenCount());
  });

  test('any JSON value as the whole body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        await sendAndCheck(serialise(value));
      }),
      runs(200),
    );
  });

  test('any JavaScript value, serialised as JSON, as the whole body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything({ maxDepth: 4, withNullPrototype: true, withObjectString: true }), async (value) => {
        await sendAndCheck(serialise(value));
      }),
      runs(150),
    );
  });

  test('arbitrary text as the body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.json({ maxDepth: 3 })), async (text) => {
        await sendAndCheck(text);
      }),
      runs(150),
    );
  });

  test('a valid body mutated in its profiles, identifiers and comm channels', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedBodies(profilePaths), async (mutation) => {
        await sendAndCheck(build(mutation));
      }),
      runs(400),
    );
  });

  test('a valid body mutated in its customer-level parts (extended fields, enrollments, dates, unknown keys)', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedBodies(customerPaths), async (mutation) => {
        await sendAndCheck(build(mutation));
      }),
      runs(350),
    );
  });

  test('a valid body mutated in its free-form maps (custom fields, comm channel attributes)', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedBodies(freeFormPaths), async (mutation) => {
        await sendAndCheck(build(mutation));
      }),
      runs(250),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Examples

/** Sends a body that must be refused with `status` and `code`, and checks nothing was written. */
async function expectRefused(raw: string, status: number, code: number, headers: Record<string, string> = {}): Promise<Reply> {
  const before = await writtenCount();
  const reply = await send(raw, headers);
  expectWellFormed(reply);
  expect({ status: reply.status, codes: codes(reply) }).toEqual({ status, codes: [code] });
  expect(await writtenCount()).toBe(before);
  return reply;
}

const validRaw = () => serialise({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] });

/** A valid body padded (with an unknown key) to exactly `bytes` bytes of UTF-8. */
function paddedTo(bytes: number, unit = 'x'): string {
  const base = { profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])], padding: '' };
  const empty = Buffer.byteLength(serialise(base));
  const unitBytes = Buffer.byteLength(unit);
  const units = Math.floor((bytes - empty) / unitBytes);
  const filler = unit.repeat(units) + 'x'.repeat(bytes - empty - units * unitBytes);
  const raw = serialise({ ...base, padding: filler });
  expect(Buffer.byteLength(raw)).toBe(bytes);
  return raw;
}

describe('body size, content type and JSON', () => {
  test('a body of more than 64 KiB is refused with 413', async () => {
    await expectRefused(paddedTo(MAX_BODY_BYTES + 1), 413, 413);
    await expectRefused(paddedTo(200 * 1024), 413, 413);
  });

  test('the 64 KiB limit counts bytes, not characters', async () => {
    const raw = paddedTo(MAX_BODY_BYTES + 2, '€');
    expect(raw.length).toBeLessThan(MAX_BODY_BYTES);
    await expectRefused(raw, 413, 413);
  });

  test('a body of exactly 64 KiB is read', async () => {
    const reply = await send(paddedTo(MAX_BODY_BYTES));
    expectWellFormed(reply);
    expect(reply.status).toBe(200);
    expect(reply.body.warnings).toEqual([expect.objectContaining({ code: 8200, path: '/padding' })]);
  });

  test.each([
    'text/plain',
    'text/html',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/jsonp',
    'application/octet-stream',
    '',
  ])('a JSON body sent as %j is refused with 415', async (contentType) => {
    await expectRefused(validRaw(), 415, 415, { 'Content-Type': contentType });
  });

  test('a body without any Content-Type header is refused with 415', async () => {
    const before = await writtenCount();
    const event = apiEvent('POST', '/v2/customers', undefined, { rawBody: validRaw() });
    delete event.headers['Content-Type'];
    const reply = await call(addCustomerHandler as never, event);
    expectWellFormed(reply);
    expect({ status: reply.status, codes: codes(reply) }).toEqual({ status: 415, codes: [415] });
    expect(await writtenCount()).toBe(before);
  });

  test.each(['application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8'])(
    'a JSON body sent as %j is read',
    async (contentType) => {
      const reply = await send(validRaw(), { 'Content-Type': contentType });
      expectWellFormed(reply);
      expect(reply.status).toBe(200);
    },
  );

  test.each([
    '{',
    '{"profiles": [}',
    "{'profiles': []}",
    '{"profiles": [],}',
    '{"profiles": []} trailing',
    '{"a": 01}',
    '{"a": NaN}',
    '{"a": undefined}',
    '\uFEFF{"profiles": []}',
    '',
    '   ',
    'undefined',
    '{"a": "\u0001"}',
    '{"a":"\\x41"}',
  ])('malformed JSON %j is refused with 400', async (raw) => {
    await expectRefused(raw, 400, 400);
  });

  test.each(['[]', '[{"profiles": []}]', '42', '-1.5e3', '"text"', 'null', 'true', 'false', '""'])(
    'a body that is the JSON %s, not an object, is refused with 400',
    async (raw) => {
      await expectRefused(raw, 400, 400);
    },
  );

  test('an Idempotency-Key body rejected as malformed JSON is refused with 400 and leaves nothing', async () => {
    await expectRefused('{"profiles":', 400, 400, { 'Idempotency-Key': 'malformed-json-key' });
  });
});

describe('prototype pollution', () => {
  test.each([
    '{"__proto__": {"polluted": true}, "profiles": [{"source": "INSTORE", "identifiers": [{"type": "mobile", "value": "MOBILE"}]}]}',
    '{"constructor": {"prototype": {"polluted": true}}, "profiles": [{"source": "INSTORE", "identifiers": [{"type": "mobile", "value": "MOBILE"}]}]}',
    '{"profiles": [{"__proto__": {"polluted": true, "source": "INSTORE"}, "source": "INSTORE", "identifiers": [{"type": "mobile", "value": "MOBILE", "__proto__": {"polluted": true}}]}]}',
    '{"profiles": [{"source": "INSTORE", "identifiers": [{"type": "mobile", "value": "MOBILE"}]}], "extendedFields": {"__proto__": {"polluted": true}}}',
    '{"profiles": [{"source": "INSTORE", "identifiers": [{"type": "mobile", "value": "MOBILE"}], "commChannels": [{"type": "email", "value": "a@example.com", "meta": {"__proto__": {"polluted": true}}}]}]}',
    '{"__proto__": {"polluted": true}}',
  ])('%s does not pollute Object.prototype', async (template) => {
    const raw = template.replace(/MOBILE/g, uniqueMobile());
    const before = await writtenCount();
    const reply = await send(raw);
    expectWellFormed(reply);
    expectNoPollution();
    if (reply.status !== 200) expect(await writtenCount()).toBe(before);
  });
});

describe('values the table must hold exactly, or refuse', () => {
  /** A 200 must read back what was sent; anything else must be a clean 400 with nothing written. */
  async function expectStoredOrRefused(body: Record<string, unknown>, readBack: (customer: any) => unknown, sent: unknown): Promise<void> {
    const before = await writtenCount();
    const reply = await send(serialise(body));
    expectWellFormed(reply);
    expect([200, 400]).toContain(reply.status);
    if (reply.status === 400) {
      expect(await writtenCount()).toBe(before);
      return;
    }
    const customer = await getCustomer(reply.body.createdId);
    expect(customer.status).toBe(200);
    expect(readBack(customer.body)).toEqual(sent);
  }

  const profileWith = (extra: Record<string, unknown>) => instoreProfile([{ type: 'mobile', value: uniqueMobile() }], extra);

  test.each([1e300, -1e300, 1e16, 2 ** 53 + 2, 1e-200, 5e-324, 1e126])(
    'annual_income (DOUBLE) of %p is stored exactly or refused with 400, never 500',
    async (income) => {
      await expectStoredOrRefused(
        { profiles: [profileWith({})], extendedFields: { annual_income: income } },
        (c) => c.extendedFields.annual_income,
        income,
      );
    },
  );

  test.each(['1e300', '1e-200'])(
    'annual_income (DOUBLE) sent as the string %p is stored exactly or refused with 400, never 500',
    async (income) => {
      await expectStoredOrRefused(
        { profiles: [profileWith({})], extendedFields: { annual_income: income } },
        (c) => c.extendedFields.annual_income,
        Number(income),
      );
    },
  );

  test.each([2 ** 53, 1e16, 1e300])('loyaltyPoints of %p are stored exactly or refused with 400, never 500', async (points) => {
    await expectStoredOrRefused(
      { profiles: [profileWith({})], loyaltyProgramEnrollments: [{ programId: 1, tierNumber: 1, loyaltyPoints: points }] },
      (c) => c.loyaltyProgramDetails[0].loyaltyPoints,
      points,
    );
  });

  test.each([1e300, 1e16, 1e-200])('a comm channel attribute of %p is stored exactly or refused with 400, never 500', async (value) => {
    await expectStoredOrRefused(
      { profiles: [profileWith({ commChannels: [{ type: 'email', value: 'numbers@example.com', attributes: { score: value } }] })] },
      (c) => c.profiles[0].commChannels[0].attributes,
      { score: value },
    );
  });

  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    'a custom field named %p is stored as sent or refused with 400, never 500',
    async (key) => {
      const fields = own(key, 'value', { plain: 'kept' });
      await expectStoredOrRefused({ profiles: [profileWith({ fields })] }, (c) => c.profiles[0].fields, { ...fields });
    },
  );

  test.each(['constructor', '__proto__', 'toString'])(
    'a comm channel attribute named %p is stored as sent or refused with 400, never 500',
    async (key) => {
      const attributes = own(key, 'value', { plain: 'kept' });
      await expectStoredOrRefused(
        { profiles: [profileWith({ commChannels: [{ type: 'email', value: 'keys@example.com', attributes }] })] },
        (c) => c.profiles[0].commChannels[0].attributes,
        { ...attributes },
      );
    },
  );

  test.each(['constructor', '__proto__'])('a card field named %p is stored as sent or refused with 400, never 500', async (key) => {
    const fields = own(key, 'value', { plain: 'kept' });
    await expectStoredOrRefused(
      {
        profiles: [
          instoreProfile([
            { type: 'mobile', value: uniqueMobile() },
            { type: 'card', seriesId: 501, statusLabel: 'ACTIVE', fields } as never,
          ]),
        ],
      },
      (c) => c.cardDetails.length,
      1,
    );
  });

  test.each([
    ['255 emoji', '😀'.repeat(255)],
    ['a NUL character', 'ext\u0000id'],
    ['a lone surrogate', 'ext\ud800id'],
    ['right-to-left override', '\u202eext-id'],
  ])('an externalId with %s is stored as sent or refused with 400, never 500', async (_name, value) => {
    await expectStoredOrRefused(
      { profiles: [instoreProfile([{ type: 'externalId', value }])] },
      (c) => c.profiles[0].identifiers[0].value,
      JSON.parse(JSON.stringify(value)),
    );
  });

  test('a deeply nested value under an ignored key is ignored with a warning, never 500', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    for (const key of ['activity', 'notAField']) {
      const raw = `{"profiles":[{"source":"INSTORE","identifiers":[{"type":"mobile","value":"${uniqueMobile()}"}]}],"${key}":${deep}}`;
      const reply = await send(raw);
      expectWellFormed(reply);
      expect(reply.status).toBe(200);
      expect(reply.body.warnings).toEqual([expect.objectContaining({ code: 8200, path: `/${key}` })]);
    }
  });
});

describe('unknown keys are ignored with a warning naming their path', () => {
  test('an unknown key in a profile, an identifier and a comm channel is not stored', async () => {
    const reply = await send(
      serialise({
        profiles: [
          instoreProfile([{ type: 'mobile', value: uniqueMobile(), nickname: 'x' } as never], {
            hobby: 'chess',
            commChannels: [{ type: 'email', value: 'unknown.keys@example.com', colour: 'blue' }],
          }),
        ],
      }),
    );
    expectWellFormed(reply);
    expect(reply.status).toBe(200);
    expect(reply.body.warnings.map((w: { code: number; path: string }) => `${w.code} ${w.path}`).sort()).toEqual([
      '8200 /profiles/0/commChannels/0/colour',
      '8200 /profiles/0/hobby',
      '8200 /profiles/0/identifiers/0/nickname',
    ]);
    const profile = (await getCustomer(reply.body.createdId)).body.profiles[0];
    expect(profile.hobby).toBeUndefined();
    expect(profile.identifiers[0].nickname).toBeUndefined();
    expect(profile.commChannels[0].colour).toBeUndefined();
  });

  test('an unknown key in a comm channel meta is not stored', async () => {
    const reply = await send(
      serialise({
        profiles: [
          instoreProfile([{ type: 'mobile', value: uniqueMobile() }], {
            commChannels: [{ type: 'mobilePush', value: 'push-token', meta: { lastViewedDate: '2024-01-01T00:00:00Z', foo: 'bar' } }],
          }),
        ],
      }),
    );
    expectWellFormed(reply);
    expect(reply.status).toBe(200);
    expect(reply.body.warnings).toEqual([expect.objectContaining({ code: 8200, path: '/profiles/0/commChannels/0/meta/foo' })]);
    const channel = (await getCustomer(reply.body.createdId)).body.profiles[0].commChannels[0];
    expect(channel.meta.lastViewedDate).toBe('2024-01-01T00:00:00Z');
    expect(channel.meta).not.toHaveProperty('foo');
  });

  test('a deeply nested unknown key in a comm channel meta is ignored with a warning, never 500', async () => {
    let nested: Record<string, unknown> = {};
    for (let i = 0; i < 30; i++) nested = { a: nested };
    const before = await writtenCount();
    const reply = await send(
      serialise({
        profiles: [
          instoreProfile([{ type: 'mobile', value: uniqueMobile() }], {
            commChannels: [{ type: 'email', value: 'nested.meta@example.com', meta: { nested } }],
          }),
        ],
      }),
    );
    expectWellFormed(reply);
    if (reply.status !== 200) expect(await writtenCount()).toBe(before);
    expect(reply.status).toBe(200);
    expect(reply.body.warnings).toEqual([expect.objectContaining({ code: 8200, path: '/profiles/0/commChannels/0/meta/nested' })]);
  });
});
