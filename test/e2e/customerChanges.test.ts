import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expectDocumented } from '../support/contract';
import { uniqueMobile } from '../support/customers';
import { basicAuth, TILLS } from '../support/http';
import { ROOT, SERVERLESS, useOffline } from '../support/offline';
import { customerItems } from '../support/table';

// After registration, as a client meets it (SPEC sections 11 and 12): PUT, changeIdentifier and
// DELETE over HTTP against `serverless offline`, and the routes' example events through
// `serverless invoke local`.

const run = promisify(execFile);
const offline = useOffline();
const auths = {
  demo: basicAuth(TILLS.demo[0], TILLS.demo[1]),
  store2: basicAuth(TILLS.store2[0], TILLS.store2[1]),
  other: basicAuth(TILLS.other[0], TILLS.other[1]),
};
type Till = keyof typeof auths;

interface HttpReply {
  status: number;
  headers: Headers;
  body: any;
}

async function request(method: string, path: string, body?: unknown, till: Till = 'demo', headers: Record<string, string> = {}) {
  const response = await fetch(`${offline.url}${path}`, {
    method,
    headers: { Authorization: auths[till], ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    // A request that hangs fails the test naming itself, not by the test's timeout.
    signal: AbortSignal.timeout(20_000),
  }).catch((error: unknown) => {
    throw new Error(`${method} ${path}: ${String(error)}`);
  });
  const text = await response.text();
  if (!text) throw new Error(`${method} ${path}: ${response.status} with an empty body`);
  const reply: HttpReply = { status: response.status, headers: response.headers, body: JSON.parse(text) };
  expectDocumented(method, path, reply);
  return reply;
}

const codesOf = (reply: HttpReply): number[] => (reply.body.errors ?? []).map((e: { code: number }) => e.code);
const warningCodesOf = (reply: HttpReply): number[] => (reply.body.warnings ?? []).map((w: { code: number }) => w.code);
const lookupMobile = (mobile: string) => request('GET', `/v2/customers/lookup?source=ALL&identifierName=mobile&identifierValue=${mobile}`);

async function register(mobile: string, extra: Record<string, unknown> = {}): Promise<number> {
  const created = await request('POST', '/v2/customers', {
    profiles: [
      {
        source: 'INSTORE',
        firstName: 'Ravi',
        lastName: 'Nair',
        identifiers: [
          { type: 'mobile', value: mobile },
          { type: 'email', value: `ravi.${mobile}@example.com` },
        ],
        fields: { old_store: 'MG Road', tier_note: 'walk-in' },
      },
    ],
    ...extra,
  });
  expect(created.status).toBe(200);
  expect(created.body.createdId).toEqual(expect.any(Number));
  return created.body.createdId;
}

test('a customer is updated, given a new mobile, read back with who changed it, erased, and its mobile registers anew', async () => {
  const oldMobile = uniqueMobile();
  const newMobile = uniqueMobile();
  const id = await register(oldMobile, { extendedFields: { city: 'Pune', gender: 'Male' } });

  // Never changed yet: no modifiedDate / modifiedBy.
  const fresh = await request('GET', `/v2/customers/${id}`);
  expect(fresh.status).toBe(200);
  expect(fresh.body.profiles[0].attribution).not.toHaveProperty('modifiedDate');
  expect(fresh.body.profiles[0].attribution).not.toHaveProperty('modifiedBy');

  // PUT: a new last name, custom fields merged key by key (null removes), a comm channel, extended fields.
  const updated = await request('PUT', `/v2/customers/${id}?source=INSTORE`, {
    profiles: [
      {
        lastName: 'Nair-Menon',
        fields: { preferred_language: 'ml', old_store: null, tier_note: '' },
        commChannels: [{ type: 'email', value: 'ravi.menon@example.com', primary: true, verified: false, subscribed: true }],
      },
    ],
    extendedFields: { city: 'Kochi', gender: null },
  });
  expect(updated.status).toBe(200);
  expect(updated.body).toEqual({ createdId: id, warnings: [], sideEffects: [] });
  // A write route: counted against the org's one per-minute limit.
  expect(updated.headers.get('x-ratelimit-limit')).toBe('100000');

  // changeIdentifier, by another till of the org: the old mobile out, the new one in.
  const changed = await request(
    'POST',
    `/v2/customers/${id}/changeIdentifier?source=INSTORE`,
    { remove: [{ type: 'mobile', value: oldMobile }], add: [{ type: 'mobile', value: newMobile }] },
    'store2',
  );
  expect(changed.status).toBe(200);
  expect(changed.body).toEqual({ createdId: id, warnings: [], sideEffects: [] });
  expect(changed.headers.get('x-ratelimit-limit')).toBe('100000');

  // The same change sent again is harmless: both parts are warnings 8200, nothing changes.
  const again = await request(
    'POST',
    `/v2/customers/${id}/changeIdentifier?source=INSTORE`,
    { remove: [{ type: 'mobile', value: oldMobile }], add: [{ type: 'mobile', value: newMobile }] },
    'store2',
  );
  expect(again.status).toBe(200);
  expect(again.body.createdId).toBe(id);
  expect(warningCodesOf(again)).toEqual([8200, 8200]);
  expect(again.body.warnings.map((w: { path: string }) => w.path).sort()).toEqual(['/add/0', '/remove/0']);

  // GET shows every change, and who made the last one when.
  const read = await request('GET', `/v2/customers/${id}`);
  expect(read.status).toBe(200);
  const profile = read.body.profiles[0];
  expect(profile).toMatchObject({ firstName: 'Ravi', lastName: 'Nair-Menon', source: 'INSTORE' });
  expect(profile.fields).toEqual({ preferred_language: 'ml' });
  expect(profile.commChannels).toEqual([expect.objectContaining({ type: 'email', value: 'ravi.menon@example.com' })]);
  expect(profile.identifiers).toEqual(
    expect.arrayContaining([
      { type: 'mobile', value: `91${newMobile}` },
      { type: 'email', value: `ravi.${oldMobile}@example.com` },
    ]),
  );
  expect(profile.identifiers).toHaveLength(2);
  expect(read.body.extendedFields).toEqual({ city: 'Kochi' });
  expect(profile.attribution.createdBy).toEqual({ code: 'demo.till', type: 'TILL' });
  expect(profile.attribution.modifiedBy).toEqual({ code: 'store2.till', type: 'TILL' });
  expect(Date.parse(profile.attribution.modifiedDate)).toBeGreaterThanOrEqual(Date.parse(profile.attribution.createDate));

  // Lookups follow the change: the new mobile is the customer's, the old one nobody's.
  expect((await lookupMobile(newMobile)).body).toEqual({ entity: id, warnings: [] });
  const oldLookup = await lookupMobile(oldMobile);
  expect(oldLookup.status).toBe(404);
  expect(codesOf(oldLookup)).toEqual([8015]);

  // The shopper seen again on WeChat: a merged profile (an item of its own) to erase too.
  const merged = await request('POST', '/v2/customers', {
    profiles: [
      {
        source: 'WECHAT',
        accountId: 'wx-main',
        firstName: 'Ravi',
        identifiers: [
          { type: 'mobile', value: newMobile },
          { type: 'wechat', value: `wx-${newMobile}` },
        ],
      },
    ],
  });
  expect(merged.body.createdId).toBe(id);

  // A till the org does not allow to erase: 403, for this id and for one that does not exist.
  for (const target of [id, 1]) {
    const refused = await request('DELETE', `/v2/customers/${target}`, undefined, 'store2');
    expect(refused.status).toBe(403);
    expect(codesOf(refused)).toEqual([403]);
  }
  // Another org's till that may erase: this customer is not its org's.
  const foreign = await request('DELETE', `/v2/customers/${id}`, undefined, 'other');
  expect(foreign.status).toBe(404);
  expect(codesOf(foreign)).toEqual([8015]);
  expect((await request('GET', `/v2/customers/${id}`)).status).toBe(200);

  // demo.till erases.
  const erased = await request('DELETE', `/v2/customers/${id}`);
  expect(erased.status).toBe(200);
  expect(erased.body).toEqual({ entity: { id, status: 'ERASED' }, warnings: [] });
  expect(erased.headers.get('x-ratelimit-limit')).toBe('100000');

  // What is left: the tombstone alone, with no name, identifier, field or extended field.
  const left = (await customerItems()).filter((item) => String(item.pk).includes(`#CUSTOMER#${id}`) || item.customerId === id);
  expect(left).toHaveLength(1);
  const tombstone = left[0];
  expect(tombstone).toMatchObject({
    activity: 'ERASED',
    erasedAt: expect.any(String),
    createDate: expect.any(String),
    loyaltyType: 'loyalty',
    associatedWith: 'demo.till',
  });
  expect(tombstone.enrollments).toEqual([expect.objectContaining({ programId: 1, tierNumber: 1 })]);
  expect(tombstone.profiles ?? []).toEqual([]);
  expect(tombstone.extendedFields ?? {}).toEqual({});
  for (const personal of ['Ravi', 'Nair', newMobile, oldMobile, 'example.com', 'Kochi', 'preferred_language']) {
    expect(JSON.stringify(tombstone)).not.toContain(personal);
  }

  // Gone for reads, lookups and changes.
  const gone = await request('GET', `/v2/customers/${id}`);
  expect(gone.status).toBe(404);
  expect(codesOf(gone)).toEqual([8015]);
  const wechatLookup = await request('GET', `/v2/customers/lookup?source=ALL&identifierName=wechat&identifierValue=wx-${newMobile}`);
  expect(wechatLookup.status).toBe(404);
  for (const mobile of [newMobile, oldMobile]) {
    const lookedUp = await lookupMobile(mobile);
    expect(lookedUp.status).toBe(404);
    expect(codesOf(lookedUp)).toEqual([8015]);
  }
  const emailLookup = await request(
    'GET',
    `/v2/customers/lookup?source=INSTORE&identifierName=email&identifierValue=${encodeURIComponent(`ravi.${oldMobile}@example.com`)}`,
  );
  expect(emailLookup.status).toBe(404);
  const lateUpdate = await request('PUT', `/v2/customers/${id}`, { profiles: [{ firstName: 'Late' }] });
  expect(lateUpdate.status).toBe(404);
  expect(codesOf(lateUpdate)).toEqual([8015]);
  const lateChange = await request('POST', `/v2/customers/${id}/changeIdentifier`, { add: [{ type: 'externalId', value: `EXT-${id}` }] });
  expect(lateChange.status).toBe(404);
  expect(codesOf(lateChange)).toEqual([8015]);

  // Idempotent: the erased customer answers 200 again; store2.till still 403.
  const twice = await request('DELETE', `/v2/customers/${id}`);
  expect(twice.status).toBe(200);
  expect(twice.body).toEqual({ entity: { id, status: 'ERASED' }, warnings: [] });
  expect((await request('DELETE', `/v2/customers/${id}`, undefined, 'store2')).status).toBe(403);

  // The same mobile (and email) register as a new customer.
  const reborn = await register(newMobile);
  expect(reborn).not.toBe(id);
  expect((await lookupMobile(newMobile)).body).toEqual({ entity: reborn, warnings: [] });
  const other = await register(oldMobile);
  expect(other).not.toBe(id);
  expect(other).not.toBe(reborn);
}, 120_000);

test('an update refuses what it cannot change, and warns when asked for what the customer is already', async () => {
  const id = await register(uniqueMobile());
  const refused = await request('PUT', `/v2/customers/${id}`, {
    profiles: [{ source: 'WECHAT', accountId: 'wx-main', identifiers: [{ type: 'mobile', value: uniqueMobile() }] }],
  });
  expect(refused.status).toBe(400);
  expect(refused.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
    '/profiles/0/accountId',
    '/profiles/0/identifiers',
    '/profiles/0/source',
  ]);

  const loyal = await request('PUT', `/v2/customers/${id}`, { loyaltyType: 'loyalty' });
  expect(loyal.status).toBe(200);
  expect(warningCodesOf(loyal)).toEqual([8200]);

  const noProfile = await request('PUT', `/v2/customers/${id}?source=WECHAT&accountId=wx-main`, { profiles: [{ firstName: 'X' }] });
  expect(noProfile.status).toBe(404);
  expect(codesOf(noProfile)).toEqual([8065]);
}, 60_000);

test('an update names one profile at most, and an empty name removes the name', async () => {
  const id = await register(uniqueMobile());
  const two = await request('PUT', `/v2/customers/${id}`, { profiles: [{ firstName: 'A' }, { firstName: 'B' }] });
  expect(two.status).toBe(400);

  const cleared = await request('PUT', `/v2/customers/${id}`, { profiles: [{ firstName: '' }] });
  expect(cleared.status).toBe(200);
  const read = await request('GET', `/v2/customers/${id}`);
  expect(read.body.profiles[0].firstName).toBeNull();
  expect(read.body.profiles[0].lastName).toBe('Nair');
}, 60_000);

test('concurrent updates of one customer keep every change', async () => {
  const id = await register(uniqueMobile());
  const keys = Array.from({ length: 6 }, (_, i) => `k${i}`);
  const replies = await Promise.all(
    keys.map((key) => request('PUT', `/v2/customers/${id}?source=INSTORE`, { profiles: [{ fields: { [key]: key.toUpperCase() } }] })),
  );
  expect(replies.map((r) => r.status)).toEqual(keys.map(() => 200));
  const read = await request('GET', `/v2/customers/${id}`);
  expect(read.body.profiles[0].fields).toEqual({
    old_store: 'MG Road',
    tier_note: 'walk-in',
    ...Object.fromEntries(keys.map((key) => [key, key.toUpperCase()])),
  });
}, 60_000);

test('a mobile two profiles list (kept by a merge) stays the customer until no profile lists it', async () => {
  const mobile = uniqueMobile();
  const id = await register(mobile);
  const merged = await request('POST', '/v2/customers', {
    profiles: [
      {
        source: 'WECHAT',
        accountId: 'wx-main',
        identifiers: [
          { type: 'mobile', value: mobile },
          { type: 'wechat', value: `wx-${mobile}` },
        ],
      },
    ],
  });
  expect(merged.body.createdId).toBe(id);

  const fromInstore = await request('POST', `/v2/customers/${id}/changeIdentifier?source=INSTORE`, {
    remove: [{ type: 'mobile', value: mobile }],
  });
  expect(fromInstore.status).toBe(200);
  expect(fromInstore.body.warnings).toEqual([]);
  // Still listed by the WeChat profile: still the customer's.
  expect((await lookupMobile(mobile)).body).toEqual({ entity: id, warnings: [] });
  const taken = await request('POST', '/v2/customers', {
    profiles: [{ source: 'ECOMMERCE', identifiers: [{ type: 'mobile', value: mobile }] }],
  });
  expect(taken.body.createdId).toBe(id);

  const fromWechat = await request('POST', `/v2/customers/${id}/changeIdentifier?source=WECHAT&accountId=wx-main`, {
    remove: [{ type: 'mobile', value: mobile }],
  });
  expect(fromWechat.status).toBe(200);
  // The ECOMMERCE profile the merge just added lists it too.
  expect((await lookupMobile(mobile)).body.entity).toBe(id);
  const fromEcommerce = await request('POST', `/v2/customers/${id}/changeIdentifier?source=ECOMMERCE`, {
    remove: [{ type: 'mobile', value: mobile }],
    add: [{ type: 'externalId', value: `EC-${mobile}` }],
  });
  expect(fromEcommerce.status).toBe(200);
  const freed = await lookupMobile(mobile);
  expect(freed.status).toBe(404);
  expect(codesOf(freed)).toEqual([8015]);
  // (The customer's email stays its own, so the new registration sends the mobile alone.)
  const anew = await request('POST', '/v2/customers', {
    profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: mobile }] }],
  });
  expect(anew.status).toBe(200);
  expect(anew.body.createdId).not.toBe(id);
}, 60_000);

test('changeIdentifier refuses a value of another customer with 409 / 8053', async () => {
  const taken = uniqueMobile();
  await register(taken);
  const own = uniqueMobile();
  const id = await register(own);
  const refused = await request('POST', `/v2/customers/${id}/changeIdentifier`, {
    remove: [{ type: 'mobile', value: own }],
    add: [{ type: 'mobile', value: taken }],
  });
  expect(refused.status).toBe(409);
  expect(codesOf(refused)).toEqual([8053]);
  expect(refused.body.errors[0].path).toBe('/add/0/value');
  // Nothing written: the customer keeps its own mobile.
  expect((await lookupMobile(own)).body.entity).toBe(id);
}, 60_000);

test('DELETE with an Idempotency-Key replays its first answer', async () => {
  const id = await register(uniqueMobile());
  const key = `erase-${id}`;
  const first = await request('DELETE', `/v2/customers/${id}`, undefined, 'demo', { 'Idempotency-Key': key });
  expect(first.status).toBe(200);
  const replay = await request('DELETE', `/v2/customers/${id}`, undefined, 'demo', { 'Idempotency-Key': key });
  expect(replay.status).toBe(200);
  expect(replay.body).toEqual(first.body);
  expect(replay.headers.get('idempotent-replayed')).toBe('true');
}, 60_000);

describe('serverless invoke local with the example events', () => {
  async function invoke(fn: string, eventFile: string) {
    const { stdout } = await run(process.execPath, [SERVERLESS, 'invoke', 'local', '-f', fn, '-p', eventFile, '--stage', 'local'], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'silent' },
      maxBuffer: 10 * 1024 * 1024,
    });
    const result = JSON.parse(stdout.slice(stdout.indexOf('{\n'))) as {
      statusCode: number;
      headers?: Record<string, string>;
      body: unknown;
    };
    const reply = { status: result.statusCode, body: (typeof result.body === 'string' ? JSON.parse(result.body) : result.body) as any };
    const event = JSON.parse(readFileSync(join(ROOT, eventFile), 'utf8')) as { httpMethod: string; path: string };
    expectDocumented(event.httpMethod, event.path, { ...reply, headers: result.headers ?? {} });
    return reply;
  }

  // The events name customer 1, which no table holds: each answers 404 / 8015 once its body has
  // passed validation, which documents the route and its request.
  it.each([
    ['updateCustomer', 'events/update-customer.json'],
    ['changeIdentifier', 'events/change-identifier.json'],
    ['eraseCustomer', 'events/erase-customer.json'],
    ['exportCustomer', 'events/export-customer.json'],
  ])(
    '%s -p %s answers 404 / 8015 for customer 1',
    async (fn, file) => {
      const reply = await invoke(fn, file);
      expect(reply.status).toBe(404);
      expect(reply.body.errors.map((e: { code: number }) => e.code)).toEqual([8015]);
    },
    120_000,
  );
});
