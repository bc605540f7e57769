import { randomUUID } from 'node:crypto';
import { Entity } from '../../lib/store/keys';
import {
  addCustomer,
  changeIdentifier,
  eraseCustomer,
  getCustomer,
  instoreProfile,
  lookup,
  uniqueMobile,
  updateCustomer,
} from '../support/customers';
import { codes, warningCodes, type EventOptions, type Reply } from '../support/http';
import { customerItems, registrationItems, useDemoTable } from '../support/table';
import { luhnValid } from '../support/luhn';

// `PUT /v2/customers/{id}` and `POST /v2/customers/{id}/changeIdentifier` (SPEC section 11,
// with the codes of section 4, the limits of section 6 and the guards of section 13), through
// the real handlers against DynamoDB Local. Every rejection is checked to have written nothing.

useDemoTable();
jest.setTimeout(120_000);

afterEach(() => {
  jest.restoreAllMocks();
});

// ---------------------------------------------------------------------------------------------
// Helpers

type Identifier = { type: string; value: string };
// GET documents and reply bodies are checked against docs/openapi.json by the helpers; here they are read loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

const mobileOf = (value = uniqueMobile()): Identifier => ({ type: 'mobile', value });
const uniqueEmail = () => `c.${randomUUID()}@example.com`;
const emailOf = (value = uniqueEmail()): Identifier => ({ type: 'email', value });

/** Registers one customer (expecting 200 without errors) and returns its id. */
async function registerBody(body: Record<string, unknown>, options?: EventOptions): Promise<number> {
  const reply = await addCustomer(body, options);
  expect(reply.status).toBe(200);
  expect(codes(reply)).toEqual([]);
  return reply.body.createdId;
}

/** An INSTORE customer with these identifiers (and any profile extras) and customer-level parts. */
function register(
  identifiers: Identifier[] = [mobileOf()],
  profileExtra: Record<string, unknown> = {},
  customerExtra: Record<string, unknown> = {},
  options?: EventOptions,
): Promise<number> {
  return registerBody({ profiles: [instoreProfile(identifiers, profileExtra)], ...customerExtra }, options);
}

/** An INSTORE customer with `mobile`, then merged into WECHAT wx-main through that mobile (the WECHAT profile lists it too). */
async function registerMerged(mobile: string, wechat = `wx-${randomUUID()}`): Promise<number> {
  const id = await register([mobileOf(mobile)]);
  const merged = await addCustomer({
    profiles: [
      {
        source: 'WECHAT',
        accountId: 'wx-main',
        firstName: 'Wei',
        lastName: 'Chen',
        identifiers: [mobileOf(mobile), { type: 'wechat', value: wechat }],
      },
    ],
  });
  expect(merged.status).toBe(200);
  expect(merged.body.createdId).toBe(id);
  expect(warningCodes(merged)).toContain(8050);
  return id;
}

async function documentOf(id: number, options?: EventOptions): Promise<Doc> {
  const reply = await getCustomer(id, options);
  expect(reply.status).toBe(200);
  return reply.body;
}

function profileIn(doc: Doc, source: string, accountId: string | null = null): Doc {
  const profile = doc.profiles.find((p: Doc) => p.source === source && p.accountId === accountId);
  expect(profile).toBeDefined();
  return profile;
}

/** The customer a value belongs to (through lookup across all sources), or the lookup's status when none. */
async function ownerOf(identifierName: string, identifierValue: string, options?: EventOptions): Promise<number | string> {
  const reply = await lookup({ source: 'ALL', identifierName, identifierValue }, options);
  if (reply.status === 200) return reply.body.entity;
  expect(codes(reply)).toEqual([8015]);
  return `status ${reply.status}`;
}

const NOT_FOUND = 'status 404';

/** Identifiers of a GET profile as `type:value`, sorted. */
const identifiersOf = (profile: Doc): string[] => profile.identifiers.map((i: Identifier) => `${i.type}:${i.value}`).sort();

/** Runs a request that must be refused and checks that no customer, profile or identifier item changed. */
async function expectNothingWritten(send: () => Promise<Reply>): Promise<Reply> {
  const before = await customerItems();
  const reply = await send();
  expect(reply.status).toBeGreaterThanOrEqual(400);
  for (const error of reply.body.errors) expect(error.status).toBe(false);
  expect(await customerItems()).toEqual(before);
  return reply;
}

/** Everything requests wrote (customers, profiles, identifiers, idempotency records), in a stable order; not the rate counters. */
async function written(): Promise<Record<string, unknown>[]> {
  return (await registrationItems())
    .filter((item) => item.entity !== Entity.rateWindow)
    .sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
}

const errorPaths = (reply: Reply): string[] => reply.body.errors.map((e: { path?: string }) => e.path);
const warningsWith = (reply: Reply, code: number) => reply.body.warnings.filter((w: { code: number }) => w.code === code);

const withKey = (key: string, options: EventOptions = {}): EventOptions => ({
  ...options,
  headers: { ...options.headers, 'Idempotency-Key': key },
});

// ---------------------------------------------------------------------------------------------
// PUT /v2/customers/{id}

describe('PUT /v2/customers/{id}', () => {
  test('changes the first name (trimmed) and removes the last name sent as an empty string', async () => {
    const id = await register([mobileOf()], { firstName: 'Asha', lastName: 'Rao' });

    const reply = await updateCustomer(id, { profiles: [{ firstName: '  Meera  ', lastName: '' }] });

    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ createdId: id, warnings: [], sideEffects: [] });
    const profile = (await documentOf(id)).profiles[0];
    expect(profile.firstName).toBe('Meera');
    expect(profile.lastName).toBeNull();
  });

  test('leaves the names alone when the body does not mention them', async () => {
    const id = await register([mobileOf()], { firstName: 'Asha', lastName: 'Rao' });

    const reply = await updateCustomer(id, { profiles: [{ fields: { lang: 'hi' } }] });

    expect(reply.status).toBe(200);
    const profile = (await documentOf(id)).profiles[0];
    expect(profile).toEqual(expect.objectContaining({ firstName: 'Asha', lastName: 'Rao', fields: { lang: 'hi' } }));
  });

  test('merges custom fields key by key: a new value replaces, null and "" remove the key, unsent keys stay', async () => {
    const id = await register([mobileOf()], { fields: { lang: 'en', tier: 'vip', club: 'golf', pet: 'cat' } });

    const reply = await updateCustomer(id, { profiles: [{ fields: { lang: 'ml', tier: null, club: '', shoe: '42' } }] });

    expect(reply.status).toBe(200);
    expect((await documentOf(id)).profiles[0].fields).toEqual({ lang: 'ml', pet: 'cat', shoe: '42' });
  });

  test('a comm channel replaces the stored one of its type and keeps the channels of other types', async () => {
    const mobile = uniqueMobile();
    const id = await register([mobileOf(mobile)], {
      commChannels: [
        { type: 'email', value: 'old@example.com', primary: true, verified: true },
        { type: 'mobile', value: mobile, primary: true, verified: false },
      ],
    });

    const reply = await updateCustomer(id, {
      profiles: [{ commChannels: [{ type: 'email', value: 'new@example.com', primary: true, verified: false }] }],
    });

    expect(reply.status).toBe(200);
    const channels = (await documentOf(id)).profiles[0].commChannels;
    expect(channels).toHaveLength(2);
    const byType = Object.fromEntries(channels.map((c: { type: string; value: string }) => [c.type, c]));
    expect(byType.email).toEqual(expect.objectContaining({ value: 'new@example.com', verified: false }));
    expect(byType.mobile.value).toContain(mobile);
  });

  test('a comm channel of a type the profile lacks is added', async () => {
    const id = await register([mobileOf()], { commChannels: [{ type: 'email', value: 'keep@example.com' }] });

    const mobile = uniqueMobile();
    const reply = await updateCustomer(id, { profiles: [{ commChannels: [{ type: 'mobile', value: mobile }] }] });

    expect(reply.status).toBe(200);
    const channels = (await documentOf(id)).profiles[0].commChannels;
    expect(channels.map((c: { type: string }) => c.type).sort()).toEqual(['email', 'mobile']);
  });

  test('an invalid email in a comm channel is 400 / 8057 and writes nothing', async () => {
    const id = await register([mobileOf()], { commChannels: [{ type: 'email', value: 'keep@example.com' }] });

    const reply = await expectNothingWritten(() =>
      updateCustomer(id, { profiles: [{ firstName: 'Changed', commChannels: [{ type: 'email', value: 'not-an-email' }] }] }),
    );

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([8057]);
    expect(errorPaths(reply)[0]).toMatch(/^\/profiles\/0\/commChannels\/0/);
  });

  test('merges extended fields key by key: a new value replaces or adds, null and "" remove the field', async () => {
    const id = await register(
      [mobileOf()],
      {},
      { extendedFields: { city: 'Pune', gender: 'Male', dob: '1990-04-01', age_group: '25-34' } },
    );

    const reply = await updateCustomer(id, { extendedFields: { city: 'Kochi', gender: null, dob: '', household_size: 3 } });

    expect(reply.status).toBe(200);
    expect(codes(reply)).toEqual([]);
    expect((await documentOf(id)).extendedFields).toEqual({ city: 'Kochi', age_group: '25-34', household_size: 3 });
  });

  test.each([
    ['not enabled for the org', { shoe_size: '42' }, '/extendedFields/shoe_size'],
    ['of the wrong type', { household_size: 'many' }, '/extendedFields/household_size'],
    ['not in its enum', { gender: 'Unknown' }, '/extendedFields/gender'],
    ['too long', { preferred_store: 'x'.repeat(51) }, '/extendedFields/preferred_store'],
    ['not a date', { dob: '01/04/1990' }, '/extendedFields/dob'],
  ])('an extended field %s is 400 / 91015 naming its path, and nothing of the update is written', async (_what, bad, path) => {
    const id = await register([mobileOf()], { firstName: 'Asha' }, { extendedFields: { city: 'Pune' } });

    const reply = await expectNothingWritten(() =>
      updateCustomer(id, { profiles: [{ firstName: 'Changed' }], extendedFields: { city: 'Kochi', ...bad } }),
    );

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([91015]);
    expect(errorPaths(reply)).toEqual([path]);
    const doc = await documentOf(id);
    expect(doc.extendedFields).toEqual({ city: 'Pune' });
    expect(doc.profiles[0].firstName).toBe('Asha');
  });

  test('every bad extended field is reported at once, each with its path', async () => {
    const id = await register();

    const reply = await expectNothingWritten(() => updateCustomer(id, { extendedFields: { shoe_size: '42', household_size: 'many' } }));

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([91015, 91015]);
    expect(errorPaths(reply).sort()).toEqual(['/extendedFields/household_size', '/extendedFields/shoe_size']);
  });

  test('an org without extended fields refuses any extended field with 91015 (org 200)', async () => {
    const id = await register([mobileOf()], {}, {}, { till: 'other' });

    const reply = await expectNothingWritten(() => updateCustomer(id, { extendedFields: { city: 'Pune' } }, { till: 'other' }));

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([91015]);
    expect(errorPaths(reply)).toEqual(['/extendedFields/city']);
  });

  test('a non_loyalty customer becomes loyalty and is enrolled in the default program at tier 1', async () => {
    const id = await register([mobileOf()], {}, { loyaltyType: 'non_loyalty' });
    const before = await documentOf(id);
    expect(before.loyaltyInfo.loyaltyType).toBe('non_loyalty');
    expect(before.loyaltyProgramDetails).toEqual([]);

    const reply = await updateCustomer(id, { loyaltyType: 'loyalty' });

    expect(reply.status).toBe(200);
    expect(codes(reply)).toEqual([]);
    const after = await documentOf(id);
    expect(after.loyaltyInfo.loyaltyType).toBe('loyalty');
    expect(after.loyaltyProgramDetails).toEqual([
      expect.objectContaining({ programId: 1, programName: 'Demo Rewards', tierNumber: 1, tierName: 'Silver', loyaltyPoints: 0 }),
    ]);
  });

  test('a loyalty customer cannot become non_loyalty: 400 / 8018 and nothing is written', async () => {
    const id = await register([mobileOf()], { firstName: 'Asha' });

    const reply = await expectNothingWritten(() =>
      updateCustomer(id, { profiles: [{ firstName: 'Changed' }], loyaltyType: 'non_loyalty' }),
    );

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([8018]);
    expect(errorPaths(reply)).toEqual(['/loyaltyType']);
    const doc = await documentOf(id);
    expect(doc.loyaltyInfo.loyaltyType).toBe('loyalty');
    expect(doc.loyaltyProgramDetails).toHaveLength(1);
    expect(doc.profiles[0].firstName).toBe('Asha');
  });

  test.each([
    ['identifiers', { identifiers: [{ type: 'email', value: 'x@example.com' }] }],
    ['source', { source: 'ECOMMERCE' }],
    ['accountId', { accountId: 'wx-main' }],
  ])('%s in a body profile is 400 naming its path, and nothing is written', async (key, part) => {
    const id = await register([mobileOf()], { firstName: 'Asha' });

    const reply = await expectNothingWritten(() => updateCustomer(id, { profiles: [{ firstName: 'Changed', ...part }] }));

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([400]);
    expect(errorPaths(reply)).toEqual([`/profiles/0/${key}`]);
    expect((await documentOf(id)).profiles[0].firstName).toBe('Asha');
  });

  test('identifiers, source and accountId together are each reported', async () => {
    const id = await register();

    const reply = await expectNothingWritten(() =>
      updateCustomer(id, { profiles: [{ source: 'WECHAT', accountId: 'wx-main', identifiers: [] }] }),
    );

    expect(reply.status).toBe(400);
    expect(errorPaths(reply).sort()).toEqual(['/profiles/0/accountId', '/profiles/0/identifiers', '/profiles/0/source']);
  });

  test('unknown keys are ignored with warning 8200 naming each path, and the rest of the update applies', async () => {
    const id = await register([mobileOf()], { firstName: 'Asha' });

    const reply = await updateCustomer(id, { profiles: [{ firstName: 'Meera', nickname: 'Mee' }], favouriteColour: 'red' });

    expect(reply.status).toBe(200);
    expect(codes(reply)).toEqual([]);
    const ignored = warningsWith(reply, 8200).map((w: { path: string }) => w.path);
    expect(ignored.sort()).toEqual(['/favouriteColour', '/profiles/0/nickname']);
    for (const w of reply.body.warnings) expect(w.status).toBe(false);
    const profile = (await documentOf(id)).profiles[0];
    expect(profile.firstName).toBe('Meera');
    expect(profile).not.toHaveProperty('nickname');
  });

  test('?source=WECHAT&accountId=wx-main names the merged profile, and only that profile changes', async () => {
    const mobile = uniqueMobile();
    const id = await registerMerged(mobile);
    const before = await documentOf(id);

    const reply = await updateCustomer(
      id,
      { profiles: [{ firstName: 'Li', fields: { openid: 'o-1' } }] },
      { query: { source: 'WECHAT', accountId: 'wx-main' }, till: 'store2' },
    );

    expect(reply.status).toBe(200);
    const after = await documentOf(id);
    expect(profileIn(after, 'INSTORE')).toEqual(profileIn(before, 'INSTORE'));
    const wechat = profileIn(after, 'WECHAT', 'wx-main');
    expect(wechat.firstName).toBe('Li');
    expect(wechat.lastName).toBe('Chen');
    expect(wechat.fields).toEqual({ openid: 'o-1' });
    expect(wechat.attribution.modifiedBy).toEqual({ code: 'store2.till', type: 'TILL' });
    expect(identifiersOf(wechat)).toEqual(identifiersOf(profileIn(before, 'WECHAT', 'wx-main')));
  });

  test('without a query, the customer first profile changes and a merged profile is left as it was', async () => {
    const id = await registerMerged(uniqueMobile());
    const before = await documentOf(id);

    const reply = await updateCustomer(id, { profiles: [{ lastName: 'Iyer' }] });

    expect(reply.status).toBe(200);
    const after = await documentOf(id);
    expect(after.profiles[0].source).toBe('INSTORE');
    expect(after.profiles[0].lastName).toBe('Iyer');
    expect(profileIn(after, 'WECHAT', 'wx-main')).toEqual(profileIn(before, 'WECHAT', 'wx-main'));
  });

  test.each([
    ['a source it has no profile in', { source: 'ECOMMERCE' }],
    ['a multi-account source it has no profile in', { source: 'FACEBOOK', accountId: 'fb-main' }],
    ['another account of a source it has a profile in', { source: 'WECHAT', accountId: 'wx-second' }],
  ])('naming %s is 404 / 8065 and nothing is written', async (_what, query) => {
    const id = await registerMerged(uniqueMobile());

    const reply = await expectNothingWritten(() => updateCustomer(id, { profiles: [{ firstName: 'X' }] }, { query }));

    expect(reply.status).toBe(404);
    expect(codes(reply)).toEqual([8065]);
  });

  test('asking a loyalty customer to be loyalty changes nothing of its enrolments and says so with warning 8200', async () => {
    const id = await register();
    const before = (await documentOf(id)).loyaltyProgramDetails;

    const reply = await updateCustomer(id, { loyaltyType: 'loyalty' });

    expect(reply.status).toBe(200);
    expect(warningsWith(reply, 8200).map((w: { path: string }) => w.path)).toEqual(['/loyaltyType']);
    expect((await documentOf(id)).loyaltyProgramDetails).toEqual(before);
  });

  test('an account id sent with a single-account source is ignored: ?source=INSTORE&accountId=x names the INSTORE profile', async () => {
    const id = await register([mobileOf()], { firstName: 'Asha' });

    const reply = await updateCustomer(id, { profiles: [{ firstName: 'Meera' }] }, { query: { source: 'INSTORE', accountId: 'whatever' } });

    expect(reply.status).toBe(200);
    expect((await documentOf(id)).profiles[0].firstName).toBe('Meera');
  });

  test('an id no customer has, an id of another org and an id that is not a number are 404 / 8015, and nothing is written', async () => {
    const ofOtherOrg = await register([mobileOf()], { firstName: 'Other' }, {}, { till: 'other' });
    const mine = await register();

    for (const id of [String(mine + 7_000_000_000), String(ofOtherOrg), 'abc', '0', '-5', '1.5', '12abc']) {
      const reply = await expectNothingWritten(() => updateCustomer(id, { profiles: [{ firstName: 'Intruder' }] }));
      expect({ id, status: reply.status, codes: codes(reply) }).toEqual({ id, status: 404, codes: [8015] });
    }
    expect((await documentOf(ofOtherOrg, { till: 'other' })).profiles[0].firstName).toBe('Other');
  });

  test('attribution.modifiedDate and modifiedBy appear on the changed profile only, signed by the till that changed it', async () => {
    const id = await registerMerged(uniqueMobile());
    const before = await documentOf(id);
    expect(profileIn(before, 'INSTORE').attribution.modifiedDate).toBeUndefined();
    const startedAt = new Date().toISOString();

    const reply = await updateCustomer(id, { profiles: [{ firstName: 'Kiran' }] }, { till: 'store2' });

    expect(reply.status).toBe(200);
    const after = await documentOf(id);
    const instore = profileIn(after, 'INSTORE');
    expect(instore.attribution.modifiedBy).toEqual({ code: 'store2.till', type: 'TILL' });
    expect(Number.isNaN(Date.parse(instore.attribution.modifiedDate))).toBe(false);
    expect(new Date(instore.attribution.modifiedDate).toISOString() >= startedAt).toBe(true);
    // The creation attribution is kept as it was.
    expect(instore.attribution.createDate).toBe(profileIn(before, 'INSTORE').attribution.createDate);
    expect(instore.attribution.createdBy).toEqual(profileIn(before, 'INSTORE').attribution.createdBy);
    const wechat = profileIn(after, 'WECHAT', 'wx-main');
    expect(wechat.attribution).not.toHaveProperty('modifiedDate');
    expect(wechat.attribution).not.toHaveProperty('modifiedBy');
  });

  test('malformed JSON is 400 and writes nothing', async () => {
    const id = await register();

    const reply = await expectNothingWritten(() => updateCustomer(id, undefined, { rawBody: '{"profiles": [{"firstName": "X"' }));

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([400]);
  });

  test('a content type that is not JSON is 415 and writes nothing', async () => {
    const id = await register();

    const reply = await expectNothingWritten(() =>
      updateCustomer(id, { profiles: [{ firstName: 'X' }] }, { headers: { 'Content-Type': 'text/plain' } }),
    );

    expect(reply.status).toBe(415);
    expect(codes(reply)).toEqual([415]);
  });

  test('a schema violation (a name over 100 characters, two profiles) is 400 and writes nothing', async () => {
    const id = await register();

    const long = await expectNothingWritten(() => updateCustomer(id, { profiles: [{ firstName: 'x'.repeat(101) }] }));
    expect(long.status).toBe(400);
    expect(errorPaths(long)).toEqual(['/profiles/0/firstName']);

    const two = await expectNothingWritten(() => updateCustomer(id, { profiles: [{ firstName: 'A' }, { firstName: 'B' }] }));
    expect(two.status).toBe(400);
  });

  test('custom fields stay within 50 keys after the merge: a 51st key is 400 and nothing is written', async () => {
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, `v${i}`]));
    const id = await register([mobileOf()], { fields: fifty });

    const reply = await expectNothingWritten(() => updateCustomer(id, { profiles: [{ fields: { k50: 'one too many' } }] }));

    expect(reply.status).toBe(400);
    expect(Object.keys((await documentOf(id)).profiles[0].fields)).toHaveLength(50);
  });

  test('no run of updates makes the customer outgrow what can be stored: each answer is 200 or 400, never 5xx, and GET still works', async () => {
    const id = await register();
    const statuses: number[] = [];

    // Each request is within the schema (50 keys of 64 characters, values of 255): only their sum is not.
    for (let round = 0; round < 30; round++) {
      const fields = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`r${round}-k${i}`.padEnd(64, 'x'), 'v'.repeat(255)]));
      const reply = await updateCustomer(id, { profiles: [{ fields }] });
      statuses.push(reply.status);
    }

    expect(statuses.filter((status) => status !== 200 && status !== 400)).toEqual([]);
    const doc = await documentOf(id);
    expect(Object.keys(doc.profiles[0].fields).length).toBeLessThanOrEqual(50);
  });

  test('replacing a key of a profile with 50 custom fields, or removing one and adding another, is fine', async () => {
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, `v${i}`]));
    const id = await register([mobileOf()], { fields: fifty });

    const reply = await updateCustomer(id, { profiles: [{ fields: { k0: 'changed', k1: null, k50: 'new' } }] });

    expect(reply.status).toBe(200);
    const fields = (await documentOf(id)).profiles[0].fields;
    expect(Object.keys(fields)).toHaveLength(50);
    expect(fields).toEqual(expect.objectContaining({ k0: 'changed', k50: 'new' }));
    expect(fields).not.toHaveProperty('k1');
  });

  test('a custom field value over 255 characters is 400 naming its path, and nothing is written', async () => {
    const id = await register([mobileOf()], { fields: { lang: 'en' } });

    const reply = await expectNothingWritten(() => updateCustomer(id, { profiles: [{ fields: { lang: 'x'.repeat(256) } }] }));

    expect(reply.status).toBe(400);
    expect(errorPaths(reply)).toEqual(['/profiles/0/fields/lang']);
  });

  test('a name that is not well-formed Unicode (a lone surrogate) is 400 naming its path, and nothing is written', async () => {
    const id = await register([mobileOf()], { firstName: 'Asha' });

    const reply = await expectNothingWritten(() => updateCustomer(id, { profiles: [{ firstName: 'A\uD800' }] }));

    expect(reply.status).toBe(400);
    expect(errorPaths(reply)).toEqual(['/profiles/0/firstName']);
  });

  test('an INTEGER extended field sent as a string of digits is read as the integer', async () => {
    const id = await register();

    const reply = await updateCustomer(id, { extendedFields: { household_size: ' 4 ' } });

    expect(reply.status).toBe(200);
    expect((await documentOf(id)).extendedFields).toEqual({ household_size: 4 });
  });

  test('an invalid source in the query is 400 / 8003 and nothing is written', async () => {
    const id = await register();

    const reply = await expectNothingWritten(() =>
      updateCustomer(id, { profiles: [{ firstName: 'X' }] }, { query: { source: 'MYSPACE' } }),
    );

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([8003]);
  });

  test('an erased customer is 404 / 8015 for update and change identifier', async () => {
    const id = await register();
    expect((await eraseCustomer(id)).status).toBe(200);

    const update = await expectNothingWritten(() => updateCustomer(id, { profiles: [{ firstName: 'Back' }] }));
    expect(update.status).toBe(404);
    expect(codes(update)).toEqual([8015]);
    const change = await expectNothingWritten(() => changeIdentifier(id, { add: [emailOf()] }));
    expect(change.status).toBe(404);
    expect(codes(change)).toEqual([8015]);
  });

  test('without credentials the update is 401 and writes nothing', async () => {
    const id = await register();

    const reply = await expectNothingWritten(() => updateCustomer(id, { profiles: [{ firstName: 'X' }] }, { till: null }));

    expect(reply.status).toBe(401);
    expect(codes(reply)).toEqual([401]);
  });
});

// ---------------------------------------------------------------------------------------------
// POST /v2/customers/{id}/changeIdentifier

describe('POST /v2/customers/{id}/changeIdentifier', () => {
  test('replaces a mobile in one request: the old value is free again, the new one belongs to the customer', async () => {
    const old = uniqueMobile();
    const id = await register([mobileOf(old)]);
    const next = uniqueMobile();

    const reply = await changeIdentifier(id, {
      remove: [{ type: 'mobile', value: old }],
      add: [{ type: 'mobile', value: `+91 ${next.slice(0, 5)}-${next.slice(5)}` }],
    });

    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ createdId: id, warnings: [], sideEffects: [] });
    expect(await ownerOf('mobile', next)).toBe(id);
    expect(await ownerOf('mobile', old)).toBe(NOT_FOUND);
    expect(identifiersOf((await documentOf(id)).profiles[0])).toEqual([`mobile:91${next}`]);

    // The old value registers as a new customer.
    const again = await register([mobileOf(old)]);
    expect(again).not.toBe(id);
    expect(await ownerOf('mobile', old)).toBe(again);
  });

  test('adds an identifier of a new type alongside the existing ones', async () => {
    const mobile = uniqueMobile();
    const id = await register([mobileOf(mobile)]);
    const email = uniqueEmail();

    const reply = await changeIdentifier(id, { add: [{ type: 'email', value: `  ${email.toUpperCase()} ` }] });

    expect(reply.status).toBe(200);
    expect(await ownerOf('email', email)).toBe(id);
    expect(await ownerOf('mobile', mobile)).toBe(id);
    expect(identifiersOf((await documentOf(id)).profiles[0])).toEqual([`email:${email}`, `mobile:91${mobile}`].sort());
  });

  test('adding a value of another customer is 409 / 8053 at /add/i/value, and nothing is written', async () => {
    const taken = `ext-${randomUUID()}`;
    const owner = await register([{ type: 'externalId', value: taken }]);
    const id = await register();
    const free = uniqueEmail();

    const reply = await expectNothingWritten(() =>
      changeIdentifier(id, {
        add: [
          { type: 'email', value: free },
          { type: 'externalId', value: taken },
        ],
      }),
    );

    expect(reply.status).toBe(409);
    expect(codes(reply)).toEqual([8053]);
    expect(errorPaths(reply)).toEqual(['/add/1/value']);
    expect(await ownerOf('externalId', taken)).toBe(owner);
    expect(await ownerOf('email', free)).toBe(NOT_FOUND);
  });

  test('adding a mobile another customer holds, in another notation, is 409 / 8053', async () => {
    const mobile = uniqueMobile();
    const owner = await register([mobileOf(mobile)]);
    const id = await register([emailOf()]);

    const reply = await expectNothingWritten(() => changeIdentifier(id, { add: [{ type: 'mobile', value: `+91 ${mobile}` }] }));

    expect(reply.status).toBe(409);
    expect(codes(reply)).toEqual([8053]);
    expect(errorPaths(reply)).toEqual(['/add/0/value']);
    expect(await ownerOf('mobile', mobile)).toBe(owner);
  });

  test('adding a value this customer already has is 200 with warning 8200 at /add/i, and adds nothing', async () => {
    const mobile = uniqueMobile();
    const email = uniqueEmail();
    const id = await register([mobileOf(mobile), emailOf(email)]);

    const reply = await changeIdentifier(id, { add: [{ type: 'email', value: email }] });

    expect(reply.status).toBe(200);
    expect(codes(reply)).toEqual([]);
    expect(warningsWith(reply, 8200).map((w: { path: string }) => w.path)).toEqual(['/add/0']);
    expect(identifiersOf((await documentOf(id)).profiles[0])).toEqual([`email:${email}`, `mobile:91${mobile}`].sort());
    expect(await ownerOf('email', email)).toBe(id);
  });

  test('a value held by another profile of the same customer is already its own: warning 8200, not a 409', async () => {
    const mobile = uniqueMobile();
    const wechat = `wx-${randomUUID()}`;
    const id = await registerMerged(mobile, wechat);

    const reply = await changeIdentifier(id, { add: [{ type: 'wechat', value: wechat }] });

    expect(reply.status).toBe(200);
    expect(warningsWith(reply, 8200).map((w: { path: string }) => w.path)).toEqual(['/add/0']);
    expect(await ownerOf('wechat', wechat)).toBe(id);
  });

  test('adding a second mobile without removing the first is 400 and nothing is written', async () => {
    const mobile = uniqueMobile();
    const id = await register([mobileOf(mobile)]);
    const next = uniqueMobile();

    const reply = await expectNothingWritten(() => changeIdentifier(id, { add: [mobileOf(next)] }));

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([400]);
    expect(errorPaths(reply)).toEqual(['/add/0']);
    expect(await ownerOf('mobile', next)).toBe(NOT_FOUND);
    expect(await ownerOf('mobile', mobile)).toBe(id);
  });

  test('two values of one type in one request are 400 and nothing is written', async () => {
    const id = await register([emailOf()]);

    const reply = await expectNothingWritten(() => changeIdentifier(id, { add: [mobileOf(), mobileOf()] }));

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([400]);
  });

  test('removing the last identifier of the profile is 400 / 8005 and nothing is written', async () => {
    const mobile = uniqueMobile();
    const id = await register([mobileOf(mobile)]);

    const reply = await expectNothingWritten(() => changeIdentifier(id, { remove: [mobileOf(mobile)] }));

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([8005]);
    expect(await ownerOf('mobile', mobile)).toBe(id);
  });

  test('removing every identifier while adding only a placeholder is 400 / 8005 and nothing is written', async () => {
    const mobile = uniqueMobile();
    const id = await register([mobileOf(mobile)]);

    const reply = await expectNothingWritten(() =>
      changeIdentifier(id, { remove: [mobileOf(mobile)], add: [{ type: 'mobile', value: '9999999999' }] }),
    );

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([8005]);
    expect(await ownerOf('mobile', mobile)).toBe(id);
  });

  test('removing a value that is not on the profile is a warning 8200 at /remove/i, and the rest applies', async () => {
    const mobile = uniqueMobile();
    const id = await register([mobileOf(mobile)]);
    const stranger = uniqueEmail();
    const owner = await register([emailOf(stranger)]);
    const email = uniqueEmail();

    const reply = await changeIdentifier(id, { remove: [emailOf(stranger)], add: [emailOf(email)] });

    expect(reply.status).toBe(200);
    expect(codes(reply)).toEqual([]);
    expect(warningsWith(reply, 8200).map((w: { path: string }) => w.path)).toEqual(['/remove/0']);
    // The other customer's value is untouched, the added one is this customer's.
    expect(await ownerOf('email', stranger)).toBe(owner);
    expect(await ownerOf('email', email)).toBe(id);
  });

  test('a value listed by two profiles of one customer stays its own when removed from one, and is freed only when removed from both', async () => {
    const mobile = uniqueMobile();
    const wechat = `wx-${randomUUID()}`;
    const id = await registerMerged(mobile, wechat);

    const fromWechat = await changeIdentifier(id, { remove: [mobileOf(mobile)] }, { query: { source: 'WECHAT', accountId: 'wx-main' } });

    expect(fromWechat.status).toBe(200);
    expect(codes(fromWechat)).toEqual([]);
    let doc = await documentOf(id);
    expect(identifiersOf(profileIn(doc, 'WECHAT', 'wx-main'))).toEqual([`wechat:${wechat}`]);
    expect(identifiersOf(profileIn(doc, 'INSTORE'))).toEqual([`mobile:91${mobile}`]);
    expect(await ownerOf('mobile', mobile)).toBe(id);
    // Still held: another customer cannot take it.
    const stranger = await register([emailOf()]);
    const refused = await expectNothingWritten(() => changeIdentifier(stranger, { add: [mobileOf(mobile)] }));
    expect(codes(refused)).toEqual([8053]);

    const email = uniqueEmail();
    const fromInstore = await changeIdentifier(id, { remove: [mobileOf(mobile)], add: [emailOf(email)] });

    expect(fromInstore.status).toBe(200);
    doc = await documentOf(id);
    expect(identifiersOf(profileIn(doc, 'INSTORE'))).toEqual([`email:${email}`]);
    expect(await ownerOf('mobile', mobile)).toBe(NOT_FOUND);
    const again = await register([mobileOf(mobile)]);
    expect(again).not.toBe(id);
  });

  test('links a card of series 501 without a value: a DEMO number with a Luhn check digit, as side effect and in cardDetails', async () => {
    const id = await register();

    const reply = await changeIdentifier(id, { add: [{ type: 'card', seriesId: 501, statusLabel: 'ACTIVE' }] });

    expect(reply.status).toBe(200);
    expect(codes(reply)).toEqual([]);
    expect(reply.body.sideEffects).toEqual([
      { type: 'card', cardNumber: expect.stringMatching(/^DEMO\d{12}$/), seriesId: 501, seriesCode: 'DEMO-GEN', statusLabel: 'ACTIVE' },
    ]);
    const cardNumber: string = reply.body.sideEffects[0].cardNumber;
    expect(luhnValid(cardNumber.slice(4))).toBe(true);
    const doc = await documentOf(id);
    expect(doc.cardDetails).toEqual([
      expect.objectContaining({ cardNumber, seriesId: 501, seriesCode: 'DEMO-GEN', statusLabel: 'ACTIVE', issuedDate: expect.any(String) }),
    ]);
    expect(await ownerOf('card', cardNumber)).toBe(id);
    expect(await ownerOf('cardnumber', cardNumber)).toBe(id);
  });

  test('links a card of series 502 with its own number, found by lookup afterwards', async () => {
    const id = await register();
    const cardNumber = String(Date.now()) + String(Math.floor(Math.random() * 1000)).padStart(3, '0');

    const reply = await changeIdentifier(id, {
      add: [{ type: 'card', seriesCode: 'PARTNER-EXT', value: cardNumber, statusLabel: 'ACTIVE' }],
    });

    expect(reply.status).toBe(200);
    expect(reply.body.sideEffects).toEqual([{ type: 'card', cardNumber, seriesId: 502, seriesCode: 'PARTNER-EXT', statusLabel: 'ACTIVE' }]);
    expect((await documentOf(id)).cardDetails.map((c: { cardNumber: string }) => c.cardNumber)).toEqual([cardNumber]);
    expect(await ownerOf('card', cardNumber)).toBe(id);
  });

  test('a card of a series that does not exist is 400 / 3004 and nothing is written', async () => {
    const id = await register();

    const reply = await expectNothingWritten(() => changeIdentifier(id, { add: [{ type: 'card', seriesId: 599, statusLabel: 'ACTIVE' }] }));

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([3004]);
    expect(errorPaths(reply)).toEqual(['/add/0/seriesId']);
  });

  test('a card number that does not fit its series is 400 / 3000, and an unknown status label 3017; nothing is written', async () => {
    const id = await register();

    const misfit = await expectNothingWritten(() =>
      changeIdentifier(id, { add: [{ type: 'card', seriesId: 502, value: '12345', statusLabel: 'ACTIVE' }] }),
    );
    expect(misfit.status).toBe(400);
    expect(codes(misfit)).toEqual([3000]);

    const label = await expectNothingWritten(() => changeIdentifier(id, { add: [{ type: 'card', seriesId: 501, statusLabel: 'LOST' }] }));
    expect(label.status).toBe(400);
    expect(codes(label)).toEqual([3017]);
  });

  test('a card number issued to another customer is a 409 and nothing is written', async () => {
    const cardNumber = `77${String(Date.now())}`;
    const owner = await register([mobileOf(), { type: 'card', value: cardNumber, seriesId: 502, statusLabel: 'ACTIVE' } as never]);
    const id = await register();

    const reply = await expectNothingWritten(() =>
      changeIdentifier(id, { add: [{ type: 'card', seriesId: 502, value: cardNumber, statusLabel: 'ACTIVE' }] }),
    );

    expect(reply.status).toBe(409);
    expect([[8053], [3009]]).toContainEqual(codes(reply));
    expect(await ownerOf('card', cardNumber)).toBe(owner);
  });

  test('a blocked placeholder mobile (9999999999) is dropped with warning 8200 naming its path, and never becomes an identifier', async () => {
    const email = uniqueEmail();
    const id = await register([emailOf(email)]);

    const reply = await changeIdentifier(id, { add: [{ type: 'mobile', value: '9999999999' }] });

    expect(reply.status).toBe(200);
    expect(codes(reply)).toEqual([]);
    const ignored = warningsWith(reply, 8200).map((w: { path: string }) => w.path);
    expect(ignored).toHaveLength(1);
    expect(ignored[0]).toMatch(/^\/add\/0/);
    expect(identifiersOf((await documentOf(id)).profiles[0])).toEqual([`email:${email}`]);
    expect(await ownerOf('mobile', '9999999999')).toBe(NOT_FOUND);
    const mobiles = (await customerItems()).filter((i) => i.entity === Entity.identifier && String(i.pk).includes('919999999999'));
    expect(mobiles).toEqual([]);
  });

  test('a blocked placeholder email (test@test.com) is dropped with warning 8200 as well', async () => {
    const mobile = uniqueMobile();
    const id = await register([mobileOf(mobile)]);

    const reply = await changeIdentifier(id, { add: [{ type: 'email', value: 'test@test.com' }] });

    expect(reply.status).toBe(200);
    expect(warningCodes(reply)).toEqual([8200]);
    expect(identifiersOf((await documentOf(id)).profiles[0])).toEqual([`mobile:91${mobile}`]);
  });

  test('an invalid mobile is 400 / 8014 at its path and nothing is written', async () => {
    const mobile = uniqueMobile();
    const id = await register([mobileOf(mobile)]);

    const reply = await expectNothingWritten(() =>
      changeIdentifier(id, { remove: [mobileOf(mobile)], add: [{ type: 'mobile', value: '12345' }] }),
    );

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([8014]);
    expect(errorPaths(reply)).toEqual(['/add/0/value']);
    expect(await ownerOf('mobile', mobile)).toBe(id);
  });

  test('an invalid email is 400 / 8055 at its path and nothing is written', async () => {
    const id = await register();

    const reply = await expectNothingWritten(() => changeIdentifier(id, { add: [{ type: 'email', value: 'asha@@example' }] }));

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([8055]);
    expect(errorPaths(reply)).toEqual(['/add/0/value']);
  });

  test('every problem of a request is reported at once', async () => {
    const id = await register();

    const reply = await expectNothingWritten(() =>
      changeIdentifier(id, {
        add: [
          { type: 'email', value: 'bad@' },
          { type: 'card', seriesId: 599, statusLabel: 'ACTIVE' },
        ],
      }),
    );

    expect(reply.status).toBe(400);
    expect(codes(reply).sort()).toEqual([3004, 8055]);
  });

  test.each([
    ['an empty body {}', {}],
    ['empty lists', { add: [], remove: [] }],
    ['a removal without value', { remove: [{ type: 'mobile' }] }],
    ['an unknown identifier type', { add: [{ type: 'passport', value: 'X1' }] }],
  ])('%s is 400 and writes nothing', async (_what, body) => {
    const id = await register();

    const reply = await expectNothingWritten(() => changeIdentifier(id, body));

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([400]);
  });

  test('an id no customer has, an id of another org and an id that is not a number are 404 / 8015, and nothing is written', async () => {
    const ofOtherOrg = await register([mobileOf()], {}, {}, { till: 'other' });
    const mine = await register();

    for (const id of [String(mine + 7_000_000_000), String(ofOtherOrg), 'abc', '0', '-1']) {
      const reply = await expectNothingWritten(() => changeIdentifier(id, { add: [emailOf()] }));
      expect({ id, status: reply.status, codes: codes(reply) }).toEqual({ id, status: 404, codes: [8015] });
    }
  });

  test('naming a profile the customer does not have is 404 / 8065, and the query names the profile that changes', async () => {
    const mobile = uniqueMobile();
    const id = await registerMerged(mobile);

    const missing = await expectNothingWritten(() =>
      changeIdentifier(id, { add: [emailOf()] }, { query: { source: 'LINE', accountId: 'line-main' } }),
    );
    expect(missing.status).toBe(404);
    expect(codes(missing)).toEqual([8065]);

    const email = uniqueEmail();
    const reply = await changeIdentifier(id, { add: [emailOf(email)] }, { query: { source: 'WECHAT', accountId: 'wx-main' } });
    expect(reply.status).toBe(200);
    const doc = await documentOf(id);
    expect(identifiersOf(profileIn(doc, 'WECHAT', 'wx-main'))).toContain(`email:${email}`);
    expect(identifiersOf(profileIn(doc, 'INSTORE'))).toEqual([`mobile:91${mobile}`]);
    expect(profileIn(doc, 'WECHAT', 'wx-main').attribution.modifiedBy).toEqual({ code: 'demo.till', type: 'TILL' });
    expect(profileIn(doc, 'INSTORE').attribution).not.toHaveProperty('modifiedBy');
  });

  test('malformed JSON is 400 and a content type that is not JSON is 415; nothing is written', async () => {
    const id = await register();

    const malformed = await expectNothingWritten(() => changeIdentifier(id, undefined, { rawBody: '{"add": [' }));
    expect(malformed.status).toBe(400);
    expect(codes(malformed)).toEqual([400]);

    const wrongType = await expectNothingWritten(() =>
      changeIdentifier(id, { add: [emailOf()] }, { headers: { 'Content-Type': 'text/plain' } }),
    );
    expect(wrongType.status).toBe(415);
    expect(codes(wrongType)).toEqual([415]);
  });

  test('removes a value sent in another notation: a mobile with +91 and spaces, an email in capitals', async () => {
    const mobile = uniqueMobile();
    const email = uniqueEmail();
    const externalId = `ext-${randomUUID()}`;
    const id = await register([mobileOf(mobile), emailOf(email), { type: 'externalId', value: externalId }]);

    const reply = await changeIdentifier(id, {
      remove: [
        { type: 'mobile', value: `+91 ${mobile.slice(0, 5)} ${mobile.slice(5)}` },
        { type: 'email', value: ` ${email.toUpperCase()} ` },
      ],
    });

    expect(reply.status).toBe(200);
    expect(codes(reply)).toEqual([]);
    expect(warningCodes(reply)).toEqual([]);
    expect(identifiersOf((await documentOf(id)).profiles[0])).toEqual([`externalId:${externalId}`]);
    expect(await ownerOf('mobile', mobile)).toBe(NOT_FOUND);
    expect(await ownerOf('email', email)).toBe(NOT_FOUND);
  });

  test('a value is normalised before the uniqueness check: zero-width characters do not make a taken value free', async () => {
    const taken = `ext-${randomUUID()}`;
    const owner = await register([{ type: 'externalId', value: taken }]);
    const id = await register();

    const reply = await expectNothingWritten(() =>
      changeIdentifier(id, { add: [{ type: 'externalId', value: `${taken.slice(0, 4)}\u200B${taken.slice(4)}\u2060` }] }),
    );

    expect(reply.status).toBe(409);
    expect(codes(reply)).toEqual([8053]);
    expect(await ownerOf('externalId', taken)).toBe(owner);
  });

  test('a value that is not well-formed Unicode (a lone surrogate) is 400 naming its path, and nothing is written', async () => {
    const id = await register();

    const reply = await expectNothingWritten(() => changeIdentifier(id, { add: [{ type: 'externalId', value: 'ab\uDC00' }] }));

    expect(reply.status).toBe(400);
    expect(errorPaths(reply)).toEqual(['/add/0/value']);
  });

  test('a mobile sent as a JSON number is read as its digits', async () => {
    const id = await register([emailOf()]);
    const mobile = uniqueMobile();

    const reply = await changeIdentifier(id, { add: [{ type: 'mobile', value: Number(mobile) }] });

    expect(reply.status).toBe(200);
    expect(await ownerOf('mobile', mobile)).toBe(id);
  });

  test('a value added by change identifier is the customer own for registration: another source merges, the same source is 8006', async () => {
    const id = await register();
    const email = uniqueEmail();
    expect((await changeIdentifier(id, { add: [emailOf(email)] })).status).toBe(200);

    const same = await addCustomer({ profiles: [instoreProfile([emailOf(email)])] });
    expect(same.status).toBe(409);
    expect(codes(same)).toEqual([8006]);

    const merged = await addCustomer({ profiles: [{ source: 'ECOMMERCE', firstName: 'Asha', identifiers: [emailOf(email)] }] });
    expect(merged.status).toBe(200);
    expect(merged.body.createdId).toBe(id);
    expect(warningCodes(merged)).toContain(8050);
  });

  test('removing a card frees its number and leaves the profile without card details', async () => {
    const cardNumber = `88${String(Date.now())}`;
    const mobile = uniqueMobile();
    const id = await register([mobileOf(mobile), { type: 'card', value: cardNumber, seriesId: 502, statusLabel: 'ACTIVE' } as never]);
    expect((await documentOf(id)).cardDetails).toHaveLength(1);

    const reply = await changeIdentifier(id, { remove: [{ type: 'card', value: cardNumber }] });

    expect(reply.status).toBe(200);
    expect(codes(reply)).toEqual([]);
    const doc = await documentOf(id);
    expect(doc.cardDetails).toEqual([]);
    expect(identifiersOf(doc.profiles[0])).toEqual([`mobile:91${mobile}`]);
    expect(await ownerOf('card', cardNumber)).toBe(NOT_FOUND);
    const other = await register();
    expect(
      (await changeIdentifier(other, { add: [{ type: 'card', seriesId: 502, value: cardNumber, statusLabel: 'ACTIVE' }] })).status,
    ).toBe(200);
    expect(await ownerOf('card', cardNumber)).toBe(other);
  });

  test('a second card without removing the first is 400, and replacing it in one request frees the old number', async () => {
    const cardNumber = `66${String(Date.now())}`;
    const id = await register([mobileOf(), { type: 'card', value: cardNumber, seriesId: 502, statusLabel: 'ACTIVE' } as never]);

    const refused = await expectNothingWritten(() =>
      changeIdentifier(id, { add: [{ type: 'card', seriesId: 501, statusLabel: 'ACTIVE' }] }),
    );
    expect(refused.status).toBe(400);

    const replaced = await changeIdentifier(id, {
      remove: [{ type: 'card', value: cardNumber }],
      add: [{ type: 'card', seriesId: 501, statusLabel: 'ACTIVE' }],
    });
    expect(replaced.status).toBe(200);
    const drawn: string = replaced.body.sideEffects[0].cardNumber;
    expect(drawn).toMatch(/^DEMO\d{12}$/);
    expect((await documentOf(id)).cardDetails.map((c: { cardNumber: string }) => c.cardNumber)).toEqual([drawn]);
    expect(await ownerOf('card', cardNumber)).toBe(NOT_FOUND);
    expect(await ownerOf('card', drawn)).toBe(id);
  });

  test('removing a mobile and adding it back in one request keeps it the customer own', async () => {
    const mobile = uniqueMobile();
    const id = await register([mobileOf(mobile)]);

    const reply = await changeIdentifier(id, { remove: [mobileOf(mobile)], add: [mobileOf(mobile)] });

    expect(reply.status).toBe(200);
    expect(await ownerOf('mobile', mobile)).toBe(id);
    expect(identifiersOf((await documentOf(id)).profiles[0])).toEqual([`mobile:91${mobile}`]);
  });

  test('values are per org: a value of a customer of org 200 can be added in org 100', async () => {
    const email = uniqueEmail();
    const theirs = await register([emailOf(email)], {}, {}, { till: 'other' });
    const mine = await register();

    const reply = await changeIdentifier(mine, { add: [emailOf(email)] });

    expect(reply.status).toBe(200);
    expect(await ownerOf('email', email)).toBe(mine);
    expect(await ownerOf('email', email, { till: 'other' })).toBe(theirs);
  });

  test('removing a value of another profile of the customer through the named profile removes nothing (warning 8200)', async () => {
    const mobile = uniqueMobile();
    const wechat = `wx-${randomUUID()}`;
    const id = await registerMerged(mobile, wechat);
    const email = uniqueEmail();
    expect((await changeIdentifier(id, { add: [emailOf(email)] })).status).toBe(200);

    const reply = await changeIdentifier(id, { remove: [emailOf(email)] }, { query: { source: 'WECHAT', accountId: 'wx-main' } });

    expect(reply.status).toBe(200);
    expect(warningsWith(reply, 8200).map((w: { path: string }) => w.path)).toEqual(['/remove/0']);
    expect(identifiersOf(profileIn(await documentOf(id), 'INSTORE'))).toContain(`email:${email}`);
    expect(await ownerOf('email', email)).toBe(id);
  });

  test('unknown keys are ignored with warning 8200 naming their path, and the change applies', async () => {
    const id = await register();
    const email = uniqueEmail();

    const reply = await changeIdentifier(id, { add: [emailOf(email)], replace: [] });

    expect(reply.status).toBe(200);
    expect(warningsWith(reply, 8200).map((w: { path: string }) => w.path)).toEqual(['/replace']);
    expect(await ownerOf('email', email)).toBe(id);
  });
});

// ---------------------------------------------------------------------------------------------
// Both routes: Idempotency-Key (SPEC section 6)

describe('an Idempotency-Key on update and change identifier', () => {
  test('a repeated update replays the first 200 with Idempotent-Replayed: true and writes nothing the second time', async () => {
    const id = await register([mobileOf()], { firstName: 'Asha' });
    const key = `key-${randomUUID()}`;
    const body = { profiles: [{ firstName: 'Meera' }] };

    const first = await updateCustomer(id, body, withKey(key));
    expect(first.status).toBe(200);
    expect(first.headers['Idempotent-Replayed']).toBeUndefined();
    const before = await written();

    const repeat = await updateCustomer(id, body, withKey(key));

    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first.body);
    expect(repeat.headers['Idempotent-Replayed']).toBe('true');
    expect(await written()).toEqual(before);
  });

  test('a repeated change identifier replays its 200 and writes nothing, the replaced value staying free', async () => {
    const old = uniqueMobile();
    const id = await register([mobileOf(old)]);
    const next = uniqueMobile();
    const key = `key-${randomUUID()}`;
    const body = { remove: [mobileOf(old)], add: [mobileOf(next)] };

    const first = await changeIdentifier(id, body, withKey(key));
    expect(first.status).toBe(200);
    const before = await written();

    const repeat = await changeIdentifier(id, body, withKey(key));

    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first.body);
    expect(repeat.headers['Idempotent-Replayed']).toBe('true');
    expect(await written()).toEqual(before);
    expect(await ownerOf('mobile', old)).toBe(NOT_FOUND);
    expect(await ownerOf('mobile', next)).toBe(id);
  });

  test('a repeated change identifier replays its 409 / 8053, even after the value became free', async () => {
    const taken = uniqueEmail();
    const owner = await register([mobileOf(), emailOf(taken)]);
    const id = await register();
    const key = `key-${randomUUID()}`;
    const body = { add: [emailOf(taken)] };

    const first = await changeIdentifier(id, body, withKey(key));
    expect(first.status).toBe(409);
    expect(codes(first)).toEqual([8053]);

    // The owner lets the value go: a fresh evaluation would now succeed, a replay still answers 409.
    expect((await changeIdentifier(owner, { remove: [emailOf(taken)] })).status).toBe(200);
    const before = await written();

    const repeat = await changeIdentifier(id, body, withKey(key));

    expect(repeat.status).toBe(409);
    expect(repeat.body).toEqual(first.body);
    expect(repeat.headers['Idempotent-Replayed']).toBe('true');
    expect(await written()).toEqual(before);
    expect(await ownerOf('email', taken)).toBe(NOT_FOUND);
  });

  test('a repeated update replays its 400 / 8018 rejection with Idempotent-Replayed: true', async () => {
    const id = await register();
    const key = `key-${randomUUID()}`;

    const first = await updateCustomer(id, { loyaltyType: 'non_loyalty' }, withKey(key));
    expect(first.status).toBe(400);
    expect(codes(first)).toEqual([8018]);
    const before = await written();

    const repeat = await updateCustomer(id, { loyaltyType: 'non_loyalty' }, withKey(key));

    expect(repeat.status).toBe(400);
    expect(repeat.body).toEqual(first.body);
    expect(repeat.headers['Idempotent-Replayed']).toBe('true');
    expect(await written()).toEqual(before);
  });

  test('an update refused by validation leaves its key free: the corrected request with the same key is applied', async () => {
    const id = await register([mobileOf()], { firstName: 'Asha' });
    const key = `key-${randomUUID()}`;

    const refused = await expectNothingWritten(() => updateCustomer(id, { profiles: [{ firstName: 'x'.repeat(101) }] }, withKey(key)));
    expect(refused.status).toBe(400);

    const corrected = await updateCustomer(id, { profiles: [{ firstName: 'Meera' }] }, withKey(key));
    expect(corrected.status).toBe(200);
    expect(corrected.headers['Idempotent-Replayed']).toBeUndefined();
    expect((await documentOf(id)).profiles[0].firstName).toBe('Meera');
  });

  test('keys are scoped to the org: the same key and body in another org is applied there, not replayed', async () => {
    const key = `key-${randomUUID()}`;
    const mine = await register([mobileOf()], { firstName: 'Asha' });
    const theirs = await register([mobileOf()], { firstName: 'Asha' }, {}, { till: 'other' });
    const body = { profiles: [{ firstName: 'Meera' }] };

    expect((await updateCustomer(mine, body, withKey(key))).status).toBe(200);
    const there = await updateCustomer(theirs, body, withKey(key, { till: 'other' }));

    expect(there.status).toBe(200);
    expect(there.body.createdId).toBe(theirs);
    expect(there.headers['Idempotent-Replayed']).toBeUndefined();
    expect((await documentOf(theirs, { till: 'other' })).profiles[0].firstName).toBe('Meera');
  });

  test('an Idempotency-Key over 128 characters is 400 and nothing is written', async () => {
    const id = await register();

    const reply = await expectNothingWritten(() => changeIdentifier(id, { add: [emailOf()] }, withKey('k'.repeat(129))));

    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([400]);
  });

  test('the same key with a different body is 422 on update and writes nothing', async () => {
    const id = await register([mobileOf()], { firstName: 'Asha' });
    const key = `key-${randomUUID()}`;
    expect((await updateCustomer(id, { profiles: [{ firstName: 'Meera' }] }, withKey(key))).status).toBe(200);
    const before = await written();

    const reply = await updateCustomer(id, { profiles: [{ firstName: 'Kiran' }] }, withKey(key));

    expect(reply.status).toBe(422);
    expect(codes(reply)).toEqual([422]);
    expect(await written()).toEqual(before);
    expect((await documentOf(id)).profiles[0].firstName).toBe('Meera');
  });

  test('the same key with a different body is 422 on change identifier and writes nothing', async () => {
    const id = await register();
    const key = `key-${randomUUID()}`;
    expect((await changeIdentifier(id, { add: [emailOf()] }, withKey(key))).status).toBe(200);
    const before = await written();
    const other = uniqueEmail();

    const reply = await changeIdentifier(id, { add: [{ type: 'externalId', value: other }] }, withKey(key));

    expect(reply.status).toBe(422);
    expect(codes(reply)).toEqual([422]);
    expect(await written()).toEqual(before);
    expect(await ownerOf('externalId', other)).toBe(NOT_FOUND);
  });
});

// ---------------------------------------------------------------------------------------------
// Both routes: the org's one per-minute limit (SPEC sections 4 and 6)

describe("the org's per-minute limit on update and change identifier", () => {
  // As test/integration/rateLimit.test.ts: Date.now is pinned (and keeps ticking) 5 s into a
  // minute window no earlier request of this table used, so the count starts at zero there.
  const WINDOW_MS = 60_000;
  const realNow = Date.now;

  let windowsUsed = 0;

  /** A window of the test's own, two minutes apart from any other test's. */
  function ownWindow(): number {
    windowsUsed += 2;
    const windowStart = (Math.floor(realNow() / WINDOW_MS) + 3 + windowsUsed) * WINDOW_MS;
    const pinnedAt = realNow();
    jest.spyOn(Date, 'now').mockImplementation(() => windowStart + 5_000 + (realNow() - pinnedAt));
    return windowStart;
  }

  function expectRateHeaders(reply: Reply, limit: number, remaining: number, windowStart: number): void {
    expect(reply.headers['X-RateLimit-Limit']).toBe(String(limit));
    expect(reply.headers['X-RateLimit-Remaining']).toBe(String(remaining));
    expect(reply.headers['X-RateLimit-Reset']).toBe(String((windowStart + WINDOW_MS) / 1000));
  }

  function expectTooManyRequests(reply: Reply, windowStart: number): void {
    expect(reply.status).toBe(429);
    expect(codes(reply)).toEqual([429]);
    expectRateHeaders(reply, 10, 0, windowStart);
    const retryAfter = Number(reply.headers['Retry-After']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  }

  test('org 300 (10 a minute): adds, updates and identifier changes share one window; over it both routes answer 429 and write nothing', async () => {
    const windowStart = ownWindow();
    const limited: EventOptions = { till: 'limited' };
    const mobile = uniqueMobile();

    const created = await addCustomer({ profiles: [instoreProfile([mobileOf(mobile)])] }, limited);
    expect(created.status).toBe(200);
    expectRateHeaders(created, 10, 9, windowStart);
    const id: number = created.body.createdId;

    const updated = await updateCustomer(id, { profiles: [{ firstName: 'One' }] }, limited);
    expect(updated.status).toBe(200);
    expectRateHeaders(updated, 10, 8, windowStart);

    const changed = await changeIdentifier(id, { add: [emailOf()] }, limited);
    expect(changed.status).toBe(200);
    expectRateHeaders(changed, 10, 7, windowStart);

    for (let remaining = 6; remaining >= 0; remaining--) {
      const reply = await updateCustomer(id, { profiles: [{ lastName: `L${remaining}` }] }, limited);
      expect(reply.status).toBe(200);
      expectRateHeaders(reply, 10, remaining, windowStart);
    }

    const before = await written();
    const next = uniqueMobile();
    const refusedUpdate = await updateCustomer(id, { profiles: [{ firstName: 'Over' }] }, limited);
    expectTooManyRequests(refusedUpdate, windowStart);
    const refusedChange = await changeIdentifier(id, { remove: [mobileOf(mobile)], add: [mobileOf(next)] }, limited);
    expectTooManyRequests(refusedChange, windowStart);
    const refusedKeyed = await updateCustomer(id, { profiles: [{ firstName: 'Keyed' }] }, withKey(`key-${randomUUID()}`, limited));
    expectTooManyRequests(refusedKeyed, windowStart);
    const refusedAdd = await addCustomer({ profiles: [instoreProfile([mobileOf()])] }, limited);
    expectTooManyRequests(refusedAdd, windowStart);
    expect(await written()).toEqual(before);
    expect((await documentOf(id, limited)).profiles[0].firstName).toBe('One');
    expect(await ownerOf('mobile', mobile, limited)).toBe(id);
    expect(await ownerOf('mobile', next, limited)).toBe(NOT_FOUND);

    // Another org is not held back by org 300's minute.
    const demoId = await register();
    const demo = await updateCustomer(demoId, { profiles: [{ firstName: 'Free' }] });
    expect(demo.status).toBe(200);
    expect(demo.headers['X-RateLimit-Limit']).toBe('100000');
  });

  test('successful updates and identifier changes carry X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset', async () => {
    const windowStart = ownWindow();
    const id = await register();

    const updated = await updateCustomer(id, { profiles: [{ firstName: 'A' }] });
    expect(updated.status).toBe(200);
    const changed = await changeIdentifier(id, { add: [emailOf()] }, { till: 'store2' });
    expect(changed.status).toBe(200);

    for (const reply of [updated, changed]) {
      expect(reply.headers['X-RateLimit-Limit']).toBe('100000');
      expect(reply.headers['X-RateLimit-Reset']).toBe(String((windowStart + WINDOW_MS) / 1000));
    }
    // Both tills of org 100 count in the one org window, after the registration.
    expect(Number(updated.headers['X-RateLimit-Remaining']) - Number(changed.headers['X-RateLimit-Remaining'])).toBe(1);
  });
});
