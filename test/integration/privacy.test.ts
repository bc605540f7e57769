import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handler as bulkHandler } from '../../handlers/bulkAddCustomers';
import { importFile } from '../../lib/import/importFile';
import { Entity, keys } from '../../lib/store/keys';
import {
  addCustomer,
  changeIdentifier,
  eraseCustomer,
  exportCustomer,
  getCustomer,
  updateCustomer,
  uniqueMobile,
} from '../support/customers';
import { apiEvent, call, codes, warningCodes, type EventOptions } from '../support/http';
import { allItems, useDemoTable } from '../support/table';

// SPEC section 12, the data subject's two requests. "Forget me": after an erase, nothing of the
// customer's personal data is left in any item of the table (a scan of every item, for every
// spelling of every value), whichever way it was written (add, bulk, import, update, change
// identifier, each with an Idempotency-Key), and no replay hands back its id or values. "Show me
// everything": the export holds what was written, for the tills allowed to ask, and only them.

useDemoTable();
jest.setTimeout(120_000);

const keyed = (key: string): EventOptions => ({ headers: { 'Idempotency-Key': key } });
const unique = () => randomUUID().slice(0, 8);

/** A person's values, each in the spellings a scan must not find after the erase. */
function person() {
  const mobile = uniqueMobile();
  const u = unique();
  return {
    firstName: `Zaynab${u}`,
    lastName: `Oyelaran${u}`,
    mobile,
    email: `Zaynab.${u}@Example.com`,
    externalId: `EXT-${u}`,
    wechat: `wx-${u}`,
    card: `77${String(Date.now()).slice(-9)}${Math.floor(Math.random() * 1e3)
      .toString()
      .padStart(3, '0')}`,
    field: `Lagos-${u}`,
    newMobile: uniqueMobile(),
    extended: `Ibadan-${u}`,
  };
}
type Person = ReturnType<typeof person>;

/** Every spelling of the person's values that an item could hold. */
function spellings(p: Person): string[] {
  return [
    p.firstName,
    p.lastName,
    p.mobile,
    `91${p.mobile}`,
    p.newMobile,
    `91${p.newMobile}`,
    p.email,
    p.email.toLowerCase(),
    p.externalId,
    p.wechat,
    p.card,
    p.field,
    p.extended,
  ];
}

async function expectNothingLeft(p: Person, id: number): Promise<void> {
  const items = await allItems();
  for (const item of items) {
    const text = JSON.stringify(item, (_k, v: unknown) => (v instanceof Set ? [...v] : v));
    for (const value of spellings(p)) {
      if (text.includes(value)) throw new Error(`${value} is still held in ${item.pk} / ${item.sk}: ${text.slice(0, 300)}`);
    }
  }
  // What stays is the tombstone, without profiles, fields or the records it listed.
  const tombstone = items.find((i) => i.entity === Entity.customer && i.id === id)!;
  expect(tombstone).toMatchObject({ activity: 'ERASED', profiles: [], extendedFields: {} });
  expect(tombstone.recordKeys).toBeUndefined();
}

/**
 * A customer of ten profiles holding a hundred values: ten types each (a registration takes at
 * most 88 values, so the last two types of each profile come by identifier changes, each with
 * a key). Answers its id.
 */
async function largeCustomer(p: Person, extra: (s: number) => Record<string, unknown> = () => ({})): Promise<number> {
  const types = ['externalId', 'wechat', 'martjackId', 'fbId', 'tmall_uname', 'cuid', 'ali_uname', 'jd_uname', 'vip_uname', 'line'];
  const value = (s: number, type: string) => `${p.externalId}-${s}-${type}`;
  const profiles = SOURCE_ACCOUNTS.map((at, s) => ({
    ...at,
    firstName: p.firstName,
    identifiers: types.slice(0, 8).map((type) => ({ type, value: value(s, type) })),
    ...extra(s),
  }));
  const created = await addCustomer({ profiles }, keyed(`large-${p.mobile}`));
  expect([created.status, codes(created)]).toEqual([200, []]);
  const id = created.body.createdId;
  for (const [s, at] of SOURCE_ACCOUNTS.entries()) {
    const query = { source: at.source, ...(at.accountId ? { accountId: at.accountId } : {}) };
    const changed = await changeIdentifier(
      id,
      { add: types.slice(8).map((type) => ({ type, value: value(s, type) })) },
      { ...keyed(`large-change-${s}-${p.mobile}`), query },
    );
    expect([changed.status, codes(changed)]).toEqual([200, []]);
  }
  return id;
}

const SOURCE_ACCOUNTS = [
  { source: 'INSTORE' },
  { source: 'WEBSITE' },
  { source: 'ECOMMERCE' },
  { source: 'TMALL' },
  { source: 'TAOBAO' },
  { source: 'JD' },
  { source: 'MARTJACK' },
  { source: 'LINE', accountId: 'line-main' },
  { source: 'FACEBOOK', accountId: 'fb-main' },
  { source: 'WEB_ENGAGE', accountId: 'we-main' },
];

describe('an erase leaves nothing of the customer in the table', () => {
  test('for a customer written by add, update, change identifier and a merge, each with an Idempotency-Key', async () => {
    const p = person();
    const created = await addCustomer(
      {
        profiles: [
          {
            source: 'INSTORE',
            firstName: p.firstName,
            lastName: p.lastName,
            identifiers: [
              { type: 'mobile', value: p.mobile },
              { type: 'email', value: p.email },
              { type: 'card', value: p.card, seriesId: 502, statusLabel: 'ACTIVE' },
            ],
            fields: { home_city: p.field },
          },
        ],
      },
      keyed(`add-${p.mobile}`),
    );
    expect(created.status).toBe(200);
    const id = created.body.createdId;
    const merged = await addCustomer(
      {
        profiles: [
          {
            source: 'WECHAT',
            accountId: 'wx-main',
            identifiers: [
              { type: 'mobile', value: p.mobile },
              { type: 'wechat', value: p.wechat },
            ],
          },
        ],
      },
      keyed(`merge-${p.mobile}`),
    );
    expect(warningCodes(merged)).toEqual([8050]);
    expect((await updateCustomer(id, { extendedFields: { city: p.extended } }, keyed(`update-${p.mobile}`))).status).toBe(200);
    const changed = await changeIdentifier(
      id,
      {
        add: [
          { type: 'mobile', value: p.newMobile },
          { type: 'externalId', value: p.externalId },
        ],
        remove: [{ type: 'mobile', value: p.mobile }],
      },
      keyed(`change-${p.mobile}`),
    );
    expect(changed.status).toBe(200);

    // The records of those four requests are listed on the customer: the erase finds them without a scan.
    const listed = (await allItems()).find((i) => i.entity === Entity.customer && i.id === id)!.recordKeys as Set<string>;
    expect([...listed].map((entry) => entry.slice(entry.indexOf('|') + 1)).sort()).toEqual(
      [`add-${p.mobile}`, `change-${p.mobile}`, `merge-${p.mobile}`, `update-${p.mobile}`].sort(),
    );

    expect((await eraseCustomer(id)).status).toBe(200);
    await expectNothingLeft(p, id);
  });

  test('for customers written by a bulk add and an import, with their records', async () => {
    const [a, b] = [person(), person()];
    const body = (x: Person) => ({
      profiles: [
        {
          source: 'INSTORE',
          firstName: x.firstName,
          identifiers: [
            { type: 'mobile', value: x.mobile },
            { type: 'externalId', value: x.externalId },
          ],
        },
      ],
    });
    const bulk = await call(bulkHandler as never, apiEvent('POST', '/v2/customers/bulk', [body(a)], keyed(`bulk-${a.mobile}`)));
    expect(bulk.body[0].status).toBe(200);
    const file = join(mkdtempSync(join(tmpdir(), 'privacy-')), 'members.jsonl');
    writeFileSync(file, `${JSON.stringify(body(b))}\n`);
    const summary = await importFile({ file, orgId: 100, rate: 1000, concurrency: 1 });
    expect(summary.complete).toBe(true);
    const ids = [bulk.body[0].entity.id as number];
    const imported = (await allItems()).find(
      (i) => i.entity === Entity.identifier && i.pk === keys.identifier(100, 'externalId', b.externalId).pk,
    );
    ids.push(imported!.customerId as number);

    for (const id of ids) expect((await eraseCustomer(id)).status).toBe(200);
    await expectNothingLeft(a, ids[0]);
    await expectNothingLeft(b, ids[1]);
  });

  test('for a customer too large for one transaction, erased in steps', async () => {
    const p = person();
    const id = await largeCustomer(p);
    // One more profile merged in through one of its values, with its own record.
    const merged = await addCustomer(
      {
        profiles: [
          {
            source: 'MOBILE_APP',
            accountId: 'app-ios',
            identifiers: [
              { type: 'externalId', value: `${p.externalId}-0-externalId` },
              { type: 'mobile', value: p.mobile },
            ],
          },
        ],
      },
      keyed(`large-merge-${p.mobile}`),
    );
    expect(warningCodes(merged)).toEqual([8050]);

    expect((await eraseCustomer(id)).status).toBe(200);
    await expectNothingLeft(p, id);
  });
});

describe('a replay after the erase', () => {
  const cardBody = (p: Person) => ({
    profiles: [
      {
        source: 'INSTORE',
        identifiers: [
          { type: 'mobile', value: p.mobile },
          { type: 'card', value: p.card, seriesId: 502, statusLabel: 'ACTIVE' },
        ],
      },
    ],
  });

  test('of the registration never answers the erased customer: it is a new, ordinary registration', async () => {
    const p = person();
    const key = keyed(`erase-demo-${p.mobile}`);
    const first = await addCustomer(cardBody(p), key);
    expect(first.status).toBe(200);
    const id = first.body.createdId;
    expect((await eraseCustomer(id)).status).toBe(200);

    const again = await addCustomer(cardBody(p), key);

    expect(again.status).toBe(200);
    expect(again.headers['Idempotent-Replayed']).toBeUndefined();
    expect(again.body.createdId).not.toBe(id);
    expect(again.body.sideEffects).toEqual([expect.objectContaining({ type: 'card', cardNumber: p.card })]);
    // And from now on the key replays the new customer.
    const third = await addCustomer(cardBody(p), key);
    expect([third.headers['Idempotent-Replayed'], third.body.createdId]).toEqual(['true', again.body.createdId]);
  });

  test('of a refusal that named the erased customer does not name it again: the request runs anew', async () => {
    const p = person();
    const owner = await addCustomer(cardBody(p));
    const id = owner.body.createdId;
    const refusedKey = keyed(`refused-${p.mobile}`);
    const refused = await addCustomer(
      { profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: p.mobile }] }] },
      refusedKey,
    );
    expect([refused.status, codes(refused)]).toEqual([409, [8006]]);
    expect(JSON.stringify(refused.body)).toContain(String(id));
    expect((await eraseCustomer(id)).status).toBe(200);

    const replay = await addCustomer({ profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: p.mobile }] }] }, refusedKey);

    expect(replay.status).toBe(200);
    expect(JSON.stringify(replay.body)).not.toContain(String(id));
    expect(replay.body.createdId).not.toBe(id);
  });

  test('of a bulk whose item was refused naming the erased customer: that item runs anew, the finished sibling replays', async () => {
    const p = person();
    const id = (await addCustomer(cardBody(p))).body.createdId;
    const sibling = uniqueMobile();
    const envelope = [
      { profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: p.mobile }] }] },
      { profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: sibling }] }] },
    ];
    const bulkKey = keyed(`bulk-refused-${p.mobile}`);
    const send = () => call(bulkHandler as never, apiEvent('POST', '/v2/customers/bulk', envelope, bulkKey));
    const first = await send();
    expect(first.body.map((r: any) => [r.status, r.errors.map((e: any) => e.code)])).toEqual([
      [409, [8006]],
      [200, []],
    ]);
    expect(JSON.stringify(first.body[0])).toContain(String(id));
    expect((await eraseCustomer(id)).status).toBe(200);

    const again = await send();

    expect(again.body.map((r: any) => r.status)).toEqual([200, 200]);
    expect(JSON.stringify(again.body)).not.toContain(String(id));
    expect(again.body[0].entity.id).not.toBe(id);
    expect(again.body[1].entity.id).toBe(first.body[1].entity.id);
    expect(again.headers['Idempotent-Replayed']).toBeUndefined();
  });

  test('of a refusal that names a live customer is still the refusal', async () => {
    const p = person();
    await addCustomer(cardBody(p));
    const body = { profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: p.mobile }] }] };
    const key = keyed(`refused-live-${p.mobile}`);
    expect((await addCustomer(body, key)).status).toBe(409);
    const replay = await addCustomer(body, key);
    expect([replay.status, replay.headers['Idempotent-Replayed']]).toEqual([409, 'true']);
  });

  test('of an update or an identifier change of the erased customer answers 404, never the change', async () => {
    const p = person();
    const id = (await addCustomer(cardBody(p))).body.createdId;
    const update = keyed(`upd-${p.mobile}`);
    expect((await updateCustomer(id, { profiles: [{ firstName: p.firstName }] }, update)).status).toBe(200);
    expect((await eraseCustomer(id)).status).toBe(200);
    const replay = await updateCustomer(id, { profiles: [{ firstName: p.firstName }] }, update);
    expect([replay.status, codes(replay)]).toEqual([404, [8015]]);
  });
});

describe('the export of a customer', () => {
  test('holds what was written: the document GET returns, every profile, the enrollments and the keys of its records', async () => {
    const p = person();
    const created = await addCustomer(
      {
        profiles: [
          { source: 'INSTORE', firstName: p.firstName, identifiers: [{ type: 'mobile', value: p.mobile }], fields: { home_city: p.field } },
        ],
        loyaltyProgramEnrollments: [{ programId: 2, tierNumber: 2, loyaltyPoints: 40 }],
      },
      keyed(`exp-add-${p.mobile}`),
    );
    const id = created.body.createdId;
    await addCustomer(
      {
        profiles: [
          {
            source: 'WEBSITE',
            identifiers: [
              { type: 'mobile', value: p.mobile },
              { type: 'email', value: p.email },
            ],
          },
        ],
      },
      keyed(`exp-merge-${p.mobile}`),
    );
    await updateCustomer(id, { extendedFields: { city: p.extended } });

    const exported = await exportCustomer(id);

    expect(exported.status).toBe(200);
    const document = (await getCustomer(id)).body;
    expect(exported.body.customer).toEqual(document);
    expect(exported.body.profiles).toEqual(document.profiles);
    expect(exported.body.profiles.map((profile: { source: string }) => profile.source)).toEqual(['INSTORE', 'WEBSITE']);
    expect(exported.body.enrollments).toEqual([{ programId: 2, tierNumber: 2, loyaltyPoints: 40 }]);
    expect(exported.body.idempotencyKeys.sort()).toEqual([`exp-add-${p.mobile}`, `exp-merge-${p.mobile}`].sort());
    expect(exported.body.history).toEqual([]);
    expect(Math.abs(Date.parse(exported.body.generatedAt) - Date.now())).toBeLessThan(60_000);
    expect(exported.headers['X-RateLimit-Limit']).toBeDefined();
  });

  test('of a customer of ten profiles with a hundred values is one answer under 1 MB', async () => {
    const id = await largeCustomer(person(), () => ({
      fields: Object.fromEntries(Array.from({ length: 10 }, (_, f) => [`f${f}`, 'x'.repeat(200)])),
    }));
    const exported = await exportCustomer(id);
    expect(exported.status).toBe(200);
    expect(exported.body.profiles).toHaveLength(10);
    expect(exported.body.profiles.flatMap((profile: { identifiers: unknown[] }) => profile.identifiers)).toHaveLength(100);
    expect(exported.body.idempotencyKeys).toHaveLength(11);
    expect(Buffer.byteLength(JSON.stringify(exported.body))).toBeLessThan(1024 * 1024);
  });

  test('is refused with 403 to a till without mayExport, whatever the id', async () => {
    const id = (await addCustomer({ profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: uniqueMobile() }] }] })).body
      .createdId;
    for (const target of [id, 999999999, 'not-an-id']) {
      const reply = await exportCustomer(target, { till: 'store2' });
      expect([reply.status, codes(reply)]).toEqual([403, [403]]);
    }
  });

  test('is 404 / 8015 for a missing, an erased or another org’s customer', async () => {
    const erased = (await addCustomer({ profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: uniqueMobile() }] }] })).body
      .createdId;
    await eraseCustomer(erased);
    const otherOrgs = (
      await addCustomer({ profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: uniqueMobile() }] }] }, { till: 'other' })
    ).body.createdId;
    for (const target of [999999999, erased, otherOrgs, 'x']) {
      const reply = await exportCustomer(target);
      expect([reply.status, codes(reply)]).toEqual([404, [8015]]);
    }
  });
});
