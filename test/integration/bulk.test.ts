import { randomUUID } from 'node:crypto';
import { handler as bulkHandler } from '../../handlers/bulkAddCustomers';
import { Entity, keys } from '../../lib/store/keys';
import { addCustomer, uniqueMobile } from '../support/customers';
import { expectDocumented } from '../support/contract';
import { apiEvent, call, codes, type EventOptions, type Reply } from '../support/http';
import { allItems, customerItems, useDemoTable } from '../support/table';

// `POST /v2/customers/bulk` (SPEC section 8): one result per item in input order, each what a
// single add would have answered; items sharing an identifier apply in order; the valid items
// count against the org's limit together; with an Idempotency-Key a retry replays the finished
// items and runs only the rest.

useDemoTable();
jest.setTimeout(120_000);

const bulk = (items: unknown, options: EventOptions & { remainingMs?: number } = {}) => {
  const event = apiEvent('POST', '/v2/customers/bulk', items, options);
  if (options.remainingMs === undefined) return call(bulkHandler as never, event);
  const context = { awsRequestId: randomUUID(), functionName: 'test', getRemainingTimeInMillis: () => options.remainingMs! };
  return (
    bulkHandler as unknown as (e: unknown, c: unknown) => Promise<{ statusCode: number; headers: Record<string, string>; body: string }>
  )(event, context).then((r) => {
    const reply = { status: r.statusCode, headers: r.headers, body: JSON.parse(r.body) } as Reply;
    expectDocumented(event.httpMethod, event.path, reply);
    return reply;
  });
};
const withKey = (key: string, options: EventOptions = {}): EventOptions => ({
  ...options,
  headers: { ...options.headers, 'Idempotency-Key': key },
});

const person = (mobile: string, extra: Record<string, unknown> = {}) => ({
  source: 'INSTORE',
  firstName: 'Asha',
  identifiers: [{ type: 'mobile', value: mobile }],
  ...extra,
});
const body = (...profiles: Record<string, unknown>[]) => ({ profiles });

/** What a reply says, without the ids a run draws: status, codes, warning codes, and which items share a customer. */
function outcomes(results: { status: number; codes: number[]; warnings: number[]; id: number | null }[]) {
  const ids = new Map<number, number>();
  return results.map((r) => ({
    status: r.status,
    codes: r.codes,
    warnings: r.warnings,
    customer: r.id === null ? null : (ids.get(r.id) ?? ids.set(r.id, ids.size).get(r.id)),
  }));
}
const ofBulk = (reply: Reply) =>
  reply.body.map((r: any) => ({
    status: r.status,
    codes: r.errors.map((e: any) => e.code),
    warnings: r.warnings.map((w: any) => w.code),
    id: r.entity?.id ?? null,
  }));
const ofSingle = (reply: Reply) => ({
  status: reply.status,
  codes: codes(reply),
  warnings: (reply.body.warnings ?? []).map((w: any) => w.code),
  id: reply.status === 200 ? reply.body.createdId : null,
});

/** A batch of bodies over fresh values, with in-batch duplicates, merges, conflicts and invalid items. */
function mixedBatch() {
  const [a, b, c, d] = [uniqueMobile(), uniqueMobile(), uniqueMobile(), uniqueMobile()];
  const email = `${randomUUID()}@example.com`;
  return [
    body(person(a)), // created
    body(person(b)), // created
    body(person(a)), // 8006: the first item's customer, same source
    body({
      source: 'ECOMMERCE',
      identifiers: [
        { type: 'mobile', value: a },
        { type: 'email', value: email },
      ],
    }), // merged into item 0
    body({
      source: 'WEBSITE',
      identifiers: [
        { type: 'mobile', value: b },
        { type: 'email', value: email },
      ],
    }), // 8052: a's and b's
    body(person('12')), // 8014
    { profiles: [] }, // 400
    body(person(c), person(d, { source: 'WEBSITE' })), // created, two profiles
    body({ source: 'MOBILE_APP', accountId: 'app-ios', identifiers: [{ type: 'mobile', value: d }] }), // merged into item 7
  ];
}

/** The same bodies with every mobile and email replaced consistently, so a second run meets fresh values. */
function renamed(items: unknown[]): unknown[] {
  const map = new Map<string, string>();
  const fresh = (value: string) => {
    if (!map.has(value)) map.set(value, value.includes('@') ? `${randomUUID()}@example.com` : value === '12' ? '12' : uniqueMobile());
    return map.get(value)!;
  };
  return JSON.parse(JSON.stringify(items), (key, value) => (key === 'value' && typeof value === 'string' ? fresh(value) : value));
}

describe('results', () => {
  test('are aligned with the input, and each is what sequential single adds of the same bodies answer', async () => {
    const items = mixedBatch();
    const reply = await bulk(items);
    expect(reply.status).toBe(200);
    expect(reply.body).toHaveLength(items.length);

    const singles = [];
    for (const item of renamed(items)) singles.push(ofSingle(await addCustomer(item)));
    expect(outcomes(ofBulk(reply))).toEqual(outcomes(singles));
    expect(outcomes(ofBulk(reply)).map((o) => o.status)).toEqual([200, 200, 409, 200, 409, 400, 400, 200, 200]);
    expect(reply.headers['X-Bulk-Total']).toBe('9');
    expect(reply.headers['X-Bulk-Failed']).toBe('4');
  });

  test('carry the paths of errors and warnings inside the item, and side effects as a single add gives them', async () => {
    const reply = await bulk([
      body(person(uniqueMobile(), { nickname: 'x' })),
      body({
        source: 'INSTORE',
        identifiers: [
          { type: 'mobile', value: uniqueMobile() },
          { type: 'card', seriesId: 501, statusLabel: 'ACTIVE' },
        ],
      }),
      body(person('12')),
    ]);
    expect(reply.body[0]).toEqual(expect.objectContaining({ status: 200, entity: { id: expect.any(Number) } }));
    expect(reply.body[0].warnings).toEqual([expect.objectContaining({ code: 8200, path: '/profiles/0/nickname' })]);
    expect(reply.body[1].sideEffects).toEqual([
      expect.objectContaining({ type: 'card', seriesId: 501, cardNumber: expect.stringMatching(/^DEMO\d{12}$/) }),
    ]);
    expect(reply.body[2]).toEqual({
      entity: null,
      status: 400,
      errors: [
        expect.objectContaining({ code: 8014, path: '/profiles/0/identifiers/0/value' }),
        expect.objectContaining({ code: 8005, path: '/profiles/0/identifiers' }),
      ],
      warnings: [],
      sideEffects: [],
    });
  });

  test('an item over 64 KiB is that item’s 413, and its siblings are registered', async () => {
    const big = body(
      person(uniqueMobile(), { fields: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, 'x'.repeat(250)])) }),
    );
    (big as any).padding = 'y'.repeat(60 * 1024);
    const reply = await bulk([big, body(person(uniqueMobile()))]);
    expect(reply.status).toBe(200);
    expect(reply.body.map((r: any) => r.status)).toEqual([413, 200]);
    expect(reply.body[0].errors).toEqual([expect.objectContaining({ code: 413 })]);
  });

  // Whatever is wrong inside an item is that item's 400 with a path into it (SPEC section 8):
  // text that is not well-formed Unicode, a wrong type, a bound broken. The raw bodies carry
  // the escapes as JSON text, as a client would send them.
  const mobileItem = (mobile: string) => `{"profiles":[{"source":"INSTORE","identifiers":[{"type":"mobile","value":"${mobile}"}]}]}`;
  test.each([
    [
      'a lone surrogate in firstName',
      (m: string) => `{"profiles":[{"source":"INSTORE","firstName":"Ad\\udc00a","identifiers":[{"type":"mobile","value":"${m}"}]}]}`,
      400,
      '/profiles/0/firstName',
    ],
    [
      'a lone surrogate in an identifier value',
      () => `{"profiles":[{"source":"INSTORE","identifiers":[{"type":"externalId","value":"x\\ud800"}]}]}`,
      400,
      '/profiles/0/identifiers/0/value',
    ],
    [
      'a lone surrogate in a key',
      (m: string) => `{"profiles":[{"source":"INSTORE","fields":{"a\\udc00":"b"},"identifiers":[{"type":"mobile","value":"${m}"}]}]}`,
      400,
      '/profiles/0/fields',
    ],
    ['a number for an item', () => '5', 400, ''],
    ['null for an item', () => 'null', 400, ''],
    ['a string for profiles', () => '{"profiles":"x"}', 400, '/profiles'],
    ['12 profiles', () => `{"profiles":[${Array(12).fill('{"source":"INSTORE","identifiers":[]}').join(',')}]}`, 400, '/profiles'],
    [
      'a number too large for JSON',
      () => '{"profiles":[{"source":"INSTORE","identifiers":[{"type":"mobile","value":1e400}]}]}',
      400,
      '/profiles/0/identifiers/0/value',
    ],
  ])('%s is that item’s 400 at its path; the siblings around it are registered', async (_name, bad, status, path) => {
    const [before, after, inside] = [uniqueMobile(), uniqueMobile(), uniqueMobile()];
    const itemsBefore = await customerItems();
    const reply = await bulk(undefined, { rawBody: `[${mobileItem(before)},${bad(inside)},${mobileItem(after)}]` });
    expect(reply.status).toBe(200);
    expect(reply.headers['X-Bulk-Failed']).toBe('1');
    expect(reply.body.map((r: any) => r.status)).toEqual([200, status, 200]);
    expect(reply.body[1].entity).toBeNull();
    expect(reply.body[1].errors[0]).toMatchObject({ code: 400, path });
    // The two siblings' customers and identifiers are written, nothing of the bad item.
    const written = (await customerItems()).filter((item) => !itemsBefore.some((old) => old.pk === item.pk && old.sk === item.sk));
    const owners = written.filter((item) => item.entity === Entity.identifier).map((item) => String(item.pk).replace(/^ORG#100#ID#/, ''));
    expect(owners.sort()).toEqual([`mobile#91${before}`, `mobile#91${after}`].sort());
    expect(JSON.stringify(written)).not.toContain(inside);
  });

  test('100 items sharing nothing are all registered, and 100 sharing one mobile give one customer, in order', async () => {
    const independent = await bulk(Array.from({ length: 100 }, () => body(person(uniqueMobile()))));
    expect(independent.body.every((r: any) => r.status === 200)).toBe(true);
    expect(new Set(independent.body.map((r: any) => r.entity.id)).size).toBe(100);

    const mobile = uniqueMobile();
    const sources = ['INSTORE', 'ECOMMERCE', 'WEBSITE', 'JD', 'TMALL'];
    const chained = await bulk(
      Array.from({ length: 100 }, (_, i) => body({ source: sources[i % 5], identifiers: [{ type: 'mobile', value: mobile }] })),
    );
    expect(chained.body.map((r: any) => r.status)).toEqual(Array.from({ length: 100 }, (_, i) => (i < 5 ? 200 : 409)));
    expect(chained.body.slice(1, 5).map((r: any) => r.warnings.map((w: any) => w.code))).toEqual([[8050], [8050], [8050], [8050]]);
    const owner = chained.body[0].entity.id;
    expect(chained.body.slice(0, 5).map((r: any) => r.entity.id)).toEqual([owner, owner, owner, owner, owner]);
    const identifier = (await allItems()).filter((i) => i.pk === keys.identifier(100, 'mobile', `91${mobile}`).pk);
    expect(identifier.map((i) => i.customerId)).toEqual([owner]);
  });
});

describe('the envelope', () => {
  test.each([
    ['an object', { profiles: [] }],
    ['an empty array', []],
    ['101 items', Array.from({ length: 101 }, () => ({}))],
    ['a string', 'customers'],
  ])('that is %s is 400 for the whole request, nothing written', async (_name, envelope) => {
    const before = await customerItems();
    const reply = await bulk(envelope);
    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([400]);
    expect(await customerItems()).toEqual(before);
  });

  test('over 1 MiB is 413, and not JSON is 415', async () => {
    const huge = await bulk(undefined, { rawBody: JSON.stringify([{ padding: 'z'.repeat(1024 * 1024) }]) });
    expect(huge.status).toBe(413);
    const text = await bulk(undefined, { rawBody: '[]', headers: { 'Content-Type': 'text/plain' } });
    expect(text.status).toBe(415);
  });
});

describe('the rate limit', () => {
  test('a bulk whose valid items do not fit the org’s minute is 429 whole, writes nothing, and leaves the minute as it was', async () => {
    // Org 300 admits 10 a minute; wait for a fresh minute if this one is nearly over.
    const into = Date.now() % 60_000;
    if (into > 45_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - into + 100));
    const windowKey = keys.rateWindow(300, Math.floor(Date.now() / 60_000) * 60_000);
    const counted = async () => Number((await allItems()).find((i) => i.pk === windowKey.pk)?.requests ?? 0);

    const before = await customerItems();
    const tooMany = await bulk([...Array.from({ length: 11 }, () => body(person(uniqueMobile()))), body(person('12'))], {
      till: 'limited',
    });
    expect(tooMany.status).toBe(429);
    expect(tooMany.headers['Retry-After']).toEqual(expect.any(String));
    expect(await customerItems()).toEqual(before);
    expect(await counted()).toBe(0);

    // Six fit; then five do not fit the four left: 429, nothing written, the count as it was.
    const valid = (n: number) => Array.from({ length: n }, () => body(person(uniqueMobile())));
    expect((await bulk(valid(6), { till: 'limited' })).status).toBe(200);
    expect(await counted()).toBe(6);
    const written = await customerItems();
    const overflow = await bulk(valid(5), { till: 'limited' });
    expect(overflow.status).toBe(429);
    expect(await customerItems()).toEqual(written);
    expect(await counted()).toBe(6);

    // Four valid items and two invalid ones fit: the invalid ones are not counted.
    const fits = await bulk([...valid(4), body(person('12')), { profiles: [] }], { till: 'limited' });
    expect(fits.status).toBe(200);
    expect(fits.body.map((r: any) => r.status)).toEqual([...Array(4).fill(200), 400, 400]);
    expect(await counted()).toBe(10);
    expect(fits.headers['X-RateLimit-Remaining']).toBe('0');
  });
});

describe('with an Idempotency-Key', () => {
  test('a retry replays every finished item, writes nothing, and is marked replayed', async () => {
    const key = `bulk-${randomUUID()}`;
    const items = mixedBatch();
    const first = await bulk(items, withKey(key));
    const written = await customerItems();
    const again = await bulk(items, withKey(key));
    expect(again.status).toBe(200);
    // The two invalid items are judged again (400 writes no record), so not every item was replayed.
    expect(again.body).toEqual(first.body);
    expect(again.headers['Idempotent-Replayed']).toBeUndefined();
    expect(await customerItems()).toEqual(written);

    const valid = [body(person(uniqueMobile())), body(person(uniqueMobile()))];
    const key2 = `bulk-${randomUUID()}`;
    const once = await bulk(valid, withKey(key2));
    const twice = await bulk(valid, withKey(key2));
    expect(twice.body).toEqual(once.body);
    expect(twice.headers['Idempotent-Replayed']).toBe('true');
  });

  test('the same key with another envelope is 422 for the whole request, nothing written', async () => {
    const key = `bulk-${randomUUID()}`;
    expect((await bulk([body(person(uniqueMobile()))], withKey(key))).status).toBe(200);
    const before = await customerItems();
    const reused = await bulk([body(person(uniqueMobile()))], withKey(key));
    expect(reused.status).toBe(422);
    expect(codes(reused)).toEqual([422]);
    expect(await customerItems()).toEqual(before);
  });

  test('keys of bulk items live apart from single adds’ keys', async () => {
    const key = `shared-${randomUUID()}`;
    const single = await addCustomer(body(person(uniqueMobile())), withKey(key));
    expect(single.status).toBe(200);
    const bulkReply = await bulk([body(person(uniqueMobile()))], withKey(key));
    expect(bulkReply.status).toBe(200);
    expect(bulkReply.body[0].status).toBe(200);
    const records = (await allItems()).filter((i) => i.entity === Entity.idempotency && String(i.pk).includes(key));
    expect(records).toHaveLength(2);
  });
});

describe('near the deadline', () => {
  test('items not started are answered 503 "not attempted", nothing of them is written, and a retry with the key runs them', async () => {
    const key = `bulk-${randomUUID()}`;
    const items = Array.from({ length: 30 }, () => body(person(uniqueMobile())));
    const before = await customerItems();
    // 3.4 s left: the request's deadline is 1.9 s away, less than an item needs to be started (2 s).
    const short = await bulk(items, { ...withKey(key), remainingMs: 3400 });
    expect(short.status).toBe(200);
    expect(short.body.map((r: any) => r.status)).toEqual(Array(30).fill(503));
    for (const r of short.body) expect(r.errors[0].message).toMatch(/not attempted/);
    expect(short.headers['X-Bulk-Failed']).toBe('30');
    expect(await customerItems()).toEqual(before);

    const retry = await bulk(items, withKey(key));
    expect(retry.body.map((r: any) => r.status)).toEqual(Array(30).fill(200));
    expect(retry.headers['Idempotent-Replayed']).toBeUndefined();
    const customers = (await customerItems()).filter((i) => i.entity === Entity.customer).length;
    expect(customers - before.filter((i) => i.entity === Entity.customer).length).toBe(30);

    // Every item finished now: the same request again replays them all.
    const again = await bulk(items, withKey(key));
    expect(again.body).toEqual(retry.body);
    expect(again.headers['Idempotent-Replayed']).toBe('true');
  });
});
