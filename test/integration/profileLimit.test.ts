import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handler as bulkHandler } from '../../handlers/bulkAddCustomers';
import { importFile } from '../../lib/import/importFile';
import type { OrgFile } from '../../lib/org';
import { Entity } from '../../lib/store/keys';
import { saveOrg } from '../../lib/store/orgs';
import { DEMO_ORGS_FILE } from '../../scripts/loadOrgs';
import { addCustomer, getCustomer, uniqueMobile } from '../support/customers';
import { apiEvent, call, codes, type EventOptions } from '../support/http';
import { allItems, useDemoTable } from '../support/table';

// SPEC section 13: maxProfilesPerCustomer is exact. Org 300 ("Small Shop") allows three
// profiles a customer. Whatever the order or the timing of the merges (one after another
// through different identifiers, at once through different identifiers or one shared mobile,
// bulk items and import lines), no customer ever holds more, and the count kept on the
// customer item is the number of profiles it has. Checked through the real handlers and the
// importer against DynamoDB Local, with the whole table's invariants read back afterwards.

useDemoTable();
jest.setTimeout(120_000);

const MAX = 3;
const smallShop: EventOptions = { till: 'limited' };

beforeAll(async () => {
  // This file sends more than org 300's 10 registrations a minute: its copy lifts the limit and keeps the guards.
  const orgs = JSON.parse(readFileSync(DEMO_ORGS_FILE, 'utf8')) as OrgFile[];
  await saveOrg({ ...orgs.find((org) => org.orgId === 300)!, rateLimitPerMinute: 100_000 });
});

/** Every source account of the demo orgs, each as a profile's source and account. */
const SOURCE_ACCOUNTS: { source: string; accountId?: string }[] = [
  { source: 'INSTORE' },
  { source: 'WEBSITE' },
  { source: 'ECOMMERCE' },
  { source: 'TMALL' },
  { source: 'TAOBAO' },
  { source: 'JD' },
  { source: 'MARTJACK' },
  { source: 'WECHAT', accountId: 'wx-main' },
  { source: 'WECHAT', accountId: 'wx-second' },
  { source: 'FACEBOOK', accountId: 'fb-main' },
  { source: 'LINE', accountId: 'line-main' },
  { source: 'MOBILE_APP', accountId: 'app-ios' },
  { source: 'MOBILE_APP', accountId: 'app-android' },
  { source: 'WEB_ENGAGE', accountId: 'we-main' },
];

type Identifier = { type: string; value: string };
const profileIn = (at: { source: string; accountId?: string }, identifiers: Identifier[]) => ({ ...at, identifiers });
const externalId = (): Identifier => ({ type: 'externalId', value: `X-${randomUUID()}` });
/** Free-text identifier types: a profile holds at most one value of a type. */
const TYPES = [
  'externalId',
  'wechat',
  'martjackId',
  'fbId',
  'tmall_uname',
  'cuid',
  'ali_uname',
  'jd_uname',
  'vip_uname',
  'line',
  'unionId',
];
/** `count` fresh values, each of another type, so that one profile can hold them all. */
const distinctIdentifiers = (count: number): Identifier[] =>
  TYPES.slice(0, count).map((type) => ({ type, value: `${type}-${randomUUID()}` }));

/** Registers a customer of org 300 with one profile holding `identifiers`; answers its id. */
async function registered(identifiers: Identifier[]): Promise<number> {
  const created = await addCustomer({ profiles: [profileIn(SOURCE_ACCOUNTS[0], identifiers)] }, smallShop);
  expect([created.status, codes(created)]).toEqual([200, []]);
  return created.body.createdId;
}

/**
 * The invariants of the table for org 300: every customer's count is its number of profiles
 * (on the item and merged) and within the maximum; every identifier item names a customer that
 * lists the value.
 */
async function expectProfileInvariants(): Promise<void> {
  const items = (await allItems()).filter((i) => String(i.pk).startsWith('ORG#300#'));
  const customers = items.filter((i) => i.entity === Entity.customer && i.activity === 'ACTIVE');
  for (const customer of customers) {
    const merged = items.filter((i) => i.entity === Entity.mergedProfile && i.pk === customer.pk);
    const profiles = (customer.profiles as unknown[]).length + merged.length;
    expect({ id: customer.id, profileCount: customer.profileCount }).toEqual({ id: customer.id, profileCount: profiles });
    expect(profiles).toBeLessThanOrEqual(MAX);
  }
  const ids = new Set(customers.map((c) => c.id));
  for (const identifier of items.filter((i) => i.entity === Entity.identifier)) expect(ids.has(identifier.customerId)).toBe(true);
}

const profilesOf = async (id: number) => (await getCustomer(id, smallShop)).body.profiles as { source: string }[];

test('merges one after another through different identifiers stop at the maximum with 8901', async () => {
  const [mobile, email, external, wechat] = [
    { type: 'mobile', value: uniqueMobile() },
    { type: 'email', value: `m.${randomUUID().slice(0, 8)}@example.com` },
    externalId(),
    { type: 'wechat', value: `wx-${randomUUID()}` },
  ];
  const id = await registered([mobile, email, external, wechat]);

  const answers = [];
  for (const [source, identifier] of [
    ['ECOMMERCE', mobile],
    ['WEBSITE', email],
    ['TMALL', external],
    ['JD', wechat],
  ] as const) {
    const reply = await addCustomer({ profiles: [profileIn({ source }, [identifier])] }, smallShop);
    answers.push([reply.status, reply.status === 200 ? reply.body.warnings.map((w: { code: number }) => w.code) : codes(reply)]);
  }

  // The identifier items the later requests came through never learnt of the merges through
  // the others: the count on the customer item is what refuses them.
  expect(answers).toEqual([
    [200, [8050]],
    [200, [8050]],
    [409, [8901]],
    [409, [8901]],
  ]);
  expect((await profilesOf(id)).map((p) => p.source).sort()).toEqual(['ECOMMERCE', 'INSTORE', 'WEBSITE']);
  await expectProfileInvariants();
});

test('merges at once through different identifiers of one customer never pass the maximum', async () => {
  const identifiers = distinctIdentifiers(9);
  const id = await registered(identifiers);

  const replies = await Promise.all(
    identifiers.map((identifier, i) => addCustomer({ profiles: [profileIn(SOURCE_ACCOUNTS[i + 1], [identifier])] }, smallShop)),
  );

  const merged = replies.filter((r) => r.status === 200);
  expect(merged).toHaveLength(MAX - 1);
  for (const reply of merged) expect(reply.body.createdId).toBe(id);
  for (const reply of replies.filter((r) => r.status !== 200)) expect([reply.status, codes(reply)]).toEqual([409, [8901]]);
  expect(await profilesOf(id)).toHaveLength(MAX);
  await expectProfileInvariants();
});

test('merges at once through one shared mobile never pass the maximum', async () => {
  const mobile = { type: 'mobile', value: uniqueMobile() };
  const id = await registered([mobile]);

  const replies = await Promise.all(
    SOURCE_ACCOUNTS.slice(1).map((at) => addCustomer({ profiles: [profileIn(at, [mobile, externalId()])] }, smallShop)),
  );

  expect(replies.filter((r) => r.status === 200)).toHaveLength(MAX - 1);
  for (const reply of replies.filter((r) => r.status !== 200)) expect([reply.status, codes(reply)]).toEqual([409, [8901]]);
  expect(await profilesOf(id)).toHaveLength(MAX);
  await expectProfileInvariants();
});

test('bulk items that reach one customer through different identifiers, run side by side, never pass the maximum', async () => {
  const identifiers = distinctIdentifiers(6);
  const id = await registered(identifiers);
  const items = identifiers.map((identifier, i) => ({ profiles: [profileIn(SOURCE_ACCOUNTS[i + 1], [identifier])] }));

  const reply = await call(bulkHandler as never, apiEvent('POST', '/v2/customers/bulk', items, smallShop));

  expect(reply.status).toBe(200);
  const statuses = (reply.body as { status: number; errors: { code: number }[] }[]).map((item) =>
    item.status === 200 ? 200 : `${item.status}/${item.errors.map((e) => e.code).join(',')}`,
  );
  expect(statuses.filter((s) => s === 200)).toHaveLength(MAX - 1);
  expect(statuses.filter((s) => s !== 200)).toEqual(Array(6 - (MAX - 1)).fill('409/8901'));
  expect(await profilesOf(id)).toHaveLength(MAX);
  await expectProfileInvariants();
});

test('import lines that reach one customer through different identifiers never pass the maximum', async () => {
  const identifiers = distinctIdentifiers(6);
  const id = await registered(identifiers);
  const dir = mkdtempSync(join(tmpdir(), 'profile-limit-'));
  const file = join(dir, 'members.jsonl');
  writeFileSync(
    file,
    identifiers.map((identifier, i) => JSON.stringify({ profiles: [profileIn(SOURCE_ACCOUNTS[i + 1], [identifier])] })).join('\n') + '\n',
  );

  const summary = await importFile({ file, orgId: 300, rate: 1000, concurrency: 6 });

  expect(summary.complete).toBe(true);
  expect(await profilesOf(id)).toHaveLength(MAX);
  const rejects = readFileSync(summary.paths.rejects, 'utf8').trim().split('\n');
  expect(rejects).toHaveLength(6 - (MAX - 1));
  await expectProfileInvariants();
});
