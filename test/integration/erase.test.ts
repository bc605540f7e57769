import { randomInt, randomUUID } from 'node:crypto';
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
import { codes, warningCodes, type Reply } from '../support/http';
import { allItems, useDemoTable } from '../support/table';
import { Entity, keys } from '../../lib/store/keys';
import { IDENTIFIER_TYPES } from '../../lib/vocabulary';
import { eraseCustomer as eraseInSteps } from '../../lib/lifecycle/erase';
import { runner } from '../support/steps';

// Erase (SPEC section 12): the values are freed, the merged profiles and personal data go, a
// tombstone keeps the id, erasedAt and the enrollments with their points; only allowed tills may
// erase (403 whatever the id); a customer too large for one transaction is marked ERASING and
// erased in resumable steps. Through the real handlers (and lib/lifecycle/erase.ts directly for
// small step sizes and interruptions) against DynamoDB Local.

useDemoTable();
jest.setTimeout(120_000);

const token = (name: string) => `${name}${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const uniqueEmail = (name = 'erase') => `${name}.${randomUUID().slice(0, 8)}@example.com`;
const cardNumber = () => `7${String(randomInt(0, 1_000_000_000)).padStart(9, '0')}${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;

/** Identifier types that take any non-empty string (mobile, email and card have their own rules). */
const FREE_TYPES = IDENTIFIER_TYPES.filter((type) => !['mobile', 'email', 'card'].includes(type));

/** Every source account of the demo orgs. */
const PLACES: [string, string?][] = [
  ['INSTORE'],
  ['FACEBOOK', 'fb-main'],
  ['WEB_ENGAGE', 'we-main'],
  ['WECHAT', 'wx-main'],
  ['WECHAT', 'wx-second'],
  ['MARTJACK'],
  ['TMALL'],
  ['TAOBAO'],
  ['JD'],
  ['ECOMMERCE'],
  ['WEBSITE'],
  ['LINE', 'line-main'],
  ['MOBILE_APP', 'app-ios'],
  ['MOBILE_APP', 'app-android'],
];

type Id = { type: string; value: string };

function profileIn([source, accountId]: [string, string?], identifiers: Id[], extra: Record<string, unknown> = {}) {
  return { source, ...(accountId ? { accountId } : {}), identifiers, ...extra };
}

async function register(body: Record<string, unknown>, options?: Parameters<typeof addCustomer>[1]): Promise<number> {
  const reply = await addCustomer(body, options);
  expect({ status: reply.status, errors: codes(reply) }).toEqual({ status: 200, errors: [] });
  return reply.body.createdId;
}

async function merge(id: number, body: Record<string, unknown>): Promise<void> {
  const reply = await addCustomer(body);
  expect({ status: reply.status, errors: codes(reply), id: reply.body.createdId }).toEqual({ status: 200, errors: [], id });
  expect(warningCodes(reply)).toContain(8050);
}

async function ownerOf(identifierName: string, identifierValue: string, options?: Parameters<typeof lookup>[1]): Promise<number | string> {
  const reply = await lookup({ source: 'ALL', identifierName, identifierValue }, options);
  return reply.status === 200 ? reply.body.entity : `${reply.status}/${codes(reply).join(',')}`;
}

async function orgItems(orgId = 100): Promise<Record<string, unknown>[]> {
  return (await allItems()).filter((i) => String(i.pk).startsWith(keys.orgPrefix(orgId)));
}

/** What is left of a customer: its partition's items and the identifier items naming it. */
async function leftOf(id: number, orgId = 100): Promise<{ partition: Record<string, unknown>[]; identifiers: Record<string, unknown>[] }> {
  const items = await orgItems(orgId);
  return {
    partition: items.filter((i) => i.pk === keys.customerPartition(orgId, id)),
    identifiers: items.filter((i) => i.entity === Entity.identifier && i.customerId === id),
  };
}

/** The item count of a customer's aggregate: customer item, merged profile items, identifier items naming it. */
async function aggregateSize(id: number): Promise<number> {
  const { partition, identifiers } = await leftOf(id);
  return partition.length + identifiers.length;
}

/**
 * Checks the end state of an erase: only the tombstone is left (id, erasedAt, enrollments, no
 * profiles or extended fields), no identifier item names the customer, none of `personal`
 * appears in the tombstone or anywhere in the table, and GET answers 404 / 8015.
 */
async function expectErased(id: number, personal: string[] = []): Promise<Record<string, unknown>> {
  const { partition, identifiers } = await leftOf(id);
  expect(identifiers.map((i) => i.pk)).toEqual([]);
  expect(partition.map((i) => i.sk)).toEqual(['CUSTOMER']);
  const [tombstone] = partition;
  expect(tombstone).toMatchObject({ id, activity: 'ERASED', profiles: [], extendedFields: {} });
  expect(typeof tombstone.erasedAt).toBe('string');
  expect(Number.isNaN(Date.parse(String(tombstone.erasedAt)))).toBe(false);
  const inTombstone = JSON.stringify(tombstone);
  const inTable = JSON.stringify(await allItems());
  for (const value of personal) {
    expect({ value, inTombstone: inTombstone.includes(value), inTable: inTable.includes(value) }).toEqual({
      value,
      inTombstone: false,
      inTable: false,
    });
  }
  const got = await getCustomer(id);
  expect({ status: got.status, codes: codes(got) }).toEqual({ status: 404, codes: [8015] });
  return tombstone;
}

function outcomeOf(reply: Reply): string {
  return `${reply.status}/${codes(reply).join(',') || 'ok'}`;
}

function expectErasedReply(reply: Reply, id: number): void {
  expect(reply.status).toBe(200);
  expect(reply.body).toEqual({ entity: { id, status: 'ERASED' }, warnings: [] });
}

/**
 * A customer with `places.length` profiles (the first on the customer item, the others merged)
 * and `perProfile` identifiers in each (mobile, email and free types), with names and fields.
 * Returns its id, every identifier it holds, and the personal strings it was given.
 */
async function customerWithProfiles(places: [string, string?][], perProfile: number) {
  const mobile = uniqueMobile();
  const held: Id[] = [{ type: 'mobile', value: mobile }];
  const personal: string[] = [mobile];
  const identifiersOf = (): Id[] => {
    const list: Id[] = [{ type: 'email', value: uniqueEmail('p') }];
    for (const type of FREE_TYPES.slice(0, perProfile - 2)) list.push({ type, value: token(`${type}-`) });
    held.push(...list);
    personal.push(...list.map((i) => i.value));
    return list;
  };
  const named = () => {
    const firstName = token('First');
    const lastName = token('Last');
    const field = token('field');
    personal.push(firstName, lastName, field);
    return { firstName, lastName, fields: { note: field } };
  };
  const id = await register({ profiles: [profileIn(places[0], [{ type: 'mobile', value: mobile }, ...identifiersOf()], named())] });
  for (const place of places.slice(1)) {
    await merge(id, { profiles: [profileIn(place, [{ type: 'mobile', value: mobile }, ...identifiersOf()], named())] });
  }
  return { id, mobile, held, personal };
}

beforeAll(async () => {
  // Verify the tills' credentials once, so that the tests measure erases, not scrypt.
  expect((await lookup({ source: 'ALL', identifierName: 'mobile', identifierValue: uniqueMobile() })).status).toBe(404);
  expect((await lookup({ source: 'ALL', identifierName: 'mobile', identifierValue: uniqueMobile() }, { till: 'store2' })).status).toBe(404);
  expect((await lookup({ source: 'ALL', identifierName: 'mobile', identifierValue: uniqueMobile() }, { till: 'other' })).status).toBe(404);
});

describe('erase of a customer that fits one transaction', () => {
  it('frees every value: lookups answer 404 / 8015 and the same values register a new customer with another id', async () => {
    const mobile = uniqueMobile();
    const email = uniqueEmail();
    const externalId = token('ext-');
    const card = cardNumber();
    const id = await register({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: mobile },
          { type: 'email', value: email },
          { type: 'externalId', value: externalId },
          { type: 'card', value: card, seriesId: 502, statusLabel: 'ACTIVE' } as Id,
        ]),
      ],
    });
    expect(await ownerOf('mobile', mobile)).toBe(id);

    expectErasedReply(await eraseCustomer(id), id);

    expect(await ownerOf('mobile', mobile)).toBe('404/8015');
    expect(await ownerOf('email', email)).toBe('404/8015');
    expect(await ownerOf('externalId', externalId)).toBe('404/8015');
    expect(await ownerOf('card', card)).toBe('404/8015');
    for (const type of ['mobile', 'email', 'externalId', 'card']) {
      const bySource = await lookup({
        source: 'INSTORE',
        identifierName: type,
        identifierValue: { mobile, email, externalId, card }[type]!,
      });
      expect({ type, status: bySource.status, codes: codes(bySource) }).toEqual({ type, status: 404, codes: [8015] });
    }

    const again = await addCustomer({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: mobile },
          { type: 'email', value: email },
          { type: 'externalId', value: externalId },
          { type: 'card', value: card, seriesId: 502, statusLabel: 'ACTIVE' } as Id,
        ]),
      ],
    });
    expect({ status: again.status, errors: codes(again), warnings: warningCodes(again) }).toEqual({
      status: 200,
      errors: [],
      warnings: [],
    });
    const newId = again.body.createdId;
    expect(newId).not.toBe(id);
    expect(await ownerOf('mobile', mobile)).toBe(newId);
    expect(await ownerOf('card', card)).toBe(newId);
    const document = await getCustomer(newId);
    expect(document.status).toBe(200);
    expect(document.body.profiles).toHaveLength(1);
    // The erased customer stays erased.
    await expectErased(id);
  });

  it('answers 404 / 8015 to GET, update and changeIdentifier of the erased customer afterwards', async () => {
    const mobile = uniqueMobile();
    const id = await register({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
    expectErasedReply(await eraseCustomer(id), id);

    const got = await getCustomer(id);
    expect({ status: got.status, codes: codes(got) }).toEqual({ status: 404, codes: [8015] });
    const updated = await updateCustomer(id, { profiles: [{ firstName: 'Back' }] });
    expect({ status: updated.status, codes: codes(updated) }).toEqual({ status: 404, codes: [8015] });
    const changed = await changeIdentifier(id, { add: [{ type: 'email', value: uniqueEmail() }] });
    expect({ status: changed.status, codes: codes(changed) }).toEqual({ status: 404, codes: [8015] });
    // Neither brought anything back.
    await expectErased(id, [mobile]);
  });

  it('leaves a tombstone with id, erasedAt and enrollments with points, and no personal data, merged profile or identifier item', async () => {
    const mobile = uniqueMobile();
    const email = uniqueEmail('tomb');
    const card = cardNumber();
    const personal = {
      firstName: token('Meera'),
      lastName: token('Iyer'),
      field: token('fieldvalue'),
      city: token('City'),
      externalId: token('ext-'),
      mergedFirstName: token('Mira'),
      mergedField: token('mergedfield'),
      fbId: token('fb-'),
      mergedEmail: uniqueEmail('merged'),
    };
    const id = await register({
      profiles: [
        {
          source: 'INSTORE',
          firstName: personal.firstName,
          lastName: personal.lastName,
          identifiers: [
            { type: 'mobile', value: mobile },
            { type: 'email', value: email },
            { type: 'externalId', value: personal.externalId },
            { type: 'card', value: card, seriesId: 502, statusLabel: 'ACTIVE' },
          ],
          fields: { favourite: personal.field },
          commChannels: [{ type: 'email', value: email, primary: true, verified: true, subscribed: true }],
        },
      ],
      extendedFields: { city: personal.city, gender: 'Female', household_size: 3 },
      loyaltyProgramEnrollments: [
        { programId: 1, tierNumber: 2, loyaltyPoints: 250 },
        { programId: 2, tierNumber: 1, loyaltyPoints: 40 },
      ],
    });
    await merge(id, {
      profiles: [
        profileIn(
          ['FACEBOOK', 'fb-main'],
          [
            { type: 'mobile', value: mobile },
            { type: 'fbId', value: personal.fbId },
            { type: 'email', value: personal.mergedEmail },
          ],
          { firstName: personal.mergedFirstName, fields: { other: personal.mergedField } },
        ),
      ],
    });
    await merge(id, { profiles: [profileIn(['WEBSITE'], [{ type: 'email', value: email }])] });
    const before = await leftOf(id);
    expect(before.partition.map((i) => i.sk).sort()).toEqual(['CUSTOMER', 'PROFILE#FACEBOOK#fb-main', 'PROFILE#WEBSITE']);
    expect(before.identifiers).toHaveLength(6);

    expectErasedReply(await eraseCustomer(id), id);

    const tombstone = await expectErased(id, [mobile, email, card, ...Object.values(personal)]);
    expect(tombstone.enrollments).toEqual([
      expect.objectContaining({ programId: 1, tierNumber: 2, loyaltyPoints: 250 }),
      expect.objectContaining({ programId: 2, tierNumber: 1, loyaltyPoints: 40 }),
    ]);
    // Nothing left in the table names the customer but its tombstone.
    const naming = (await orgItems()).filter((i) => i.customerId === id || String(i.pk).includes(String(id)));
    expect(naming.map((i) => `${i.pk}|${i.sk}`)).toEqual([`${keys.customerPartition(100, id)}|CUSTOMER`]);
  });

  it('is idempotent: a second DELETE answers 200 with the same body and writes nothing', async () => {
    const id = await register({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] });
    const first = await eraseCustomer(id);
    expectErasedReply(first, id);
    const [tombstone] = (await leftOf(id)).partition;

    const second = await eraseCustomer(id);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    const third = await eraseCustomer(id);
    expect(third.body).toEqual(first.body);
    // The tombstone was not rewritten (same erasedAt, same version).
    expect((await leftOf(id)).partition).toEqual([tombstone]);
  });

  it('answers 403 to a till the org does not allow to erase, for an existing and a missing id alike, and writes nothing', async () => {
    const mobile = uniqueMobile();
    const id = await register({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
    const missing = id === 1 ? 2 : id - 1;
    const before = await allItems();

    const replies = [
      await eraseCustomer(id, { till: 'store2' }),
      await eraseCustomer(missing, { till: 'store2' }),
      await eraseCustomer('not-a-number', { till: 'store2' }),
      await eraseCustomer(id, { till: 'store2', headers: { 'Idempotency-Key': token('k') } }),
    ];
    for (const [i, reply] of replies.entries()) {
      expect({ i, status: reply.status, codes: codes(reply) }).toEqual({ i, status: 403, codes: [403] });
    }
    // The answers do not tell an existing id from a missing one.
    expect(replies[1].body).toEqual(replies[0].body);
    expect(replies[2].body).toEqual(replies[0].body);

    expect(await allItems()).toEqual(before);
    expect((await getCustomer(id)).status).toBe(200);
    expect(await ownerOf('mobile', mobile)).toBe(id);
  });

  it('answers 404 / 8015 to a missing id, another org’s id and an id that is not a positive integer, and leaves the other org’s customer alone', async () => {
    const id = await register({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] });
    const missing = id === 1 ? 2 : id - 1;
    const otherMobile = uniqueMobile();
    const otherId = await register({ profiles: [instoreProfile([{ type: 'mobile', value: otherMobile }])] }, { till: 'other' });
    const before = await orgItems(200);

    for (const target of [missing, otherId, 'abc', '0', '-5', '1.5', '12a', '99999999999999999999']) {
      const reply = await eraseCustomer(target);
      expect({ target, status: reply.status, codes: codes(reply) }).toEqual({ target, status: 404, codes: [8015] });
    }
    expect(await orgItems(200)).toEqual(before);
    expect((await getCustomer(otherId, { till: 'other' })).status).toBe(200);
    expect(await ownerOf('mobile', otherMobile, { till: 'other' })).toBe(otherId);
    // And the other org's own till (allowed to erase there) erases it; demo's customer is untouched.
    const orgs200 = await eraseCustomer(otherId, { till: 'other' });
    expectErasedReply(orgs200, otherId);
    expect(await ownerOf('mobile', otherMobile, { till: 'other' })).toBe('404/8015');
    expect((await leftOf(otherId, 200)).partition.map((i) => i.activity)).toEqual(['ERASED']);
    expect((await getCustomer(id)).status).toBe(200);
    // A till of org 200 cannot erase org 100's customer either.
    const crossed = await eraseCustomer(id, { till: 'other' });
    expect({ status: crossed.status, codes: codes(crossed) }).toEqual({ status: 404, codes: [8015] });
    expect((await getCustomer(id)).status).toBe(200);
  });

  it('replays the first answer to a repeat with the same Idempotency-Key, and answers 422 to the key with another id', async () => {
    const id = await register({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] });
    const key = token('erase-key-');
    const first = await eraseCustomer(id, { headers: { 'Idempotency-Key': key } });
    expectErasedReply(first, id);
    expect(first.headers['Idempotent-Replayed']).toBeUndefined();

    const repeat = await eraseCustomer(id, { headers: { 'Idempotency-Key': key } });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first.body);
    expect(repeat.headers['Idempotent-Replayed']).toBe('true');

    const other = await register({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] });
    const reused = await eraseCustomer(other, { headers: { 'Idempotency-Key': key } });
    expect({ status: reused.status, codes: codes(reused) }).toEqual({ status: 422, codes: [422] });
    expect((await getCustomer(other)).status).toBe(200);
  });

  it('replays a 404 answered under an Idempotency-Key', async () => {
    const id = await register({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] });
    const missing = id === 1 ? 2 : id - 1;
    const key = token('erase-missing-');
    const first = await eraseCustomer(missing, { headers: { 'Idempotency-Key': key } });
    expect({ status: first.status, codes: codes(first) }).toEqual({ status: 404, codes: [8015] });
    const repeat = await eraseCustomer(missing, { headers: { 'Idempotency-Key': key } });
    expect({ status: repeat.status, codes: codes(repeat) }).toEqual({ status: 404, codes: [8015] });
    expect(repeat.headers['Idempotent-Replayed']).toBe('true');
  });

  it('counts against the org’s per-minute limit: every answer carries X-RateLimit-* and the remaining count goes down', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const a = await register({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] });
      const b = await register({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] });
      const first = await eraseCustomer(a);
      const second = await eraseCustomer(b);
      const missing = await eraseCustomer(a === 1 ? 2 : a - 1);
      for (const reply of [first, second, missing]) {
        expect(reply.headers['X-RateLimit-Limit']).toBe('100000');
        expect(reply.headers['X-RateLimit-Remaining']).toMatch(/^\d+$/);
        expect(reply.headers['X-RateLimit-Reset']).toMatch(/^\d+$/);
      }
      // Within one window, each DELETE took one request of the org's minute.
      const resets = new Set([first, second, missing].map((r) => r.headers['X-RateLimit-Reset']));
      if (resets.size > 1) continue;
      expect(Number(second.headers['X-RateLimit-Remaining'])).toBe(Number(first.headers['X-RateLimit-Remaining']) - 1);
      expect(Number(missing.headers['X-RateLimit-Remaining'])).toBe(Number(second.headers['X-RateLimit-Remaining']) - 1);
      return;
    }
    throw new Error('three attempts crossed a minute boundary');
  });
});

describe('erase in steps', () => {
  it('erases a customer with several profiles and identifiers in steps of at most 5 items to the same end state', async () => {
    const places = PLACES.slice(0, 4);
    const { id, held, personal } = await customerWithProfiles(places, 5);
    // 1 customer item, 3 merged profile items, 1 + 4 × 4 identifier items.
    expect(await aggregateSize(id)).toBe(1 + 3 + 17);
    const { run, sent } = runner({ most: 5 });

    const outcome = await eraseInSteps(100, id, { stepItems: 5, run });

    expect(outcome).toMatchObject({ kind: 'erased', customerId: id });
    // Marked first, then 20 parts in steps of 5 with the last holding the tombstone.
    expect(sent.length).toBeGreaterThanOrEqual(1 + Math.ceil(20 / 5));
    const [mark] = sent;
    expect(mark.input.TransactItems).toHaveLength(1);
    expect(JSON.stringify(mark.input.TransactItems)).toContain('ERASING');
    await expectErased(id, personal);
    for (const { type, value } of held) expect({ type, owner: await ownerOf(type, value) }).toEqual({ type, owner: '404/8015' });
    // A DELETE through the handler afterwards answers as an erase does.
    expectErasedReply(await eraseCustomer(id), id);
  });

  it('leaves an interrupted stepped erase ERASING (GET 404, a merge through a held value 503), and a DELETE finishes it', async () => {
    const places = PLACES.slice(0, 4);
    const { id, held, personal, mobile } = await customerWithProfiles(places, 6);
    // 1 + 4 × 5 identifiers and 3 merged profiles: 24 parts.
    expect(await aggregateSize(id)).toBe(1 + 3 + 21);
    const { run, sent } = runner({ failAfter: 3, most: 5 });

    await expect(eraseInSteps(100, id, { stepItems: 5, run })).rejects.toThrow('simulated crash');
    expect(sent).toHaveLength(3);

    const midway = await leftOf(id);
    const customerItem = midway.partition.find((i) => i.sk === 'CUSTOMER')!;
    expect(customerItem.activity).toBe('ERASING');
    // Identifiers go first: two steps of 5 released 10 of them, no merged profile yet.
    expect(midway.identifiers).toHaveLength(21 - 10);
    expect(midway.partition).toHaveLength(4);
    const stillHeld = held.filter((i) =>
      midway.identifiers.some((item) => item.pk === keys.identifier(100, i.type, i.type === 'mobile' ? `91${i.value}` : i.value).pk),
    );
    const freed = held.filter((i) => !stillHeld.includes(i));
    expect(stillHeld.length).toBe(11);
    expect(freed.length).toBe(10);

    // Meanwhile: GET, update and changeIdentifier answer 404; a merge through a value it still holds is 503.
    const got = await getCustomer(id);
    expect({ status: got.status, codes: codes(got) }).toEqual({ status: 404, codes: [8015] });
    const updated = await updateCustomer(id, { profiles: [{ firstName: 'Late' }] });
    expect({ status: updated.status, codes: codes(updated) }).toEqual({ status: 404, codes: [8015] });
    const changed = await changeIdentifier(id, { add: [{ type: 'email', value: uniqueEmail() }] });
    expect({ status: changed.status, codes: codes(changed) }).toEqual({ status: 404, codes: [8015] });
    const before = await leftOf(id);
    for (const value of [stillHeld[0], stillHeld[stillHeld.length - 1]]) {
      const merging = await addCustomer({ profiles: [profileIn(['TMALL'], [value, { type: 'email', value: uniqueEmail('late') }])] });
      expect({ value, status: merging.status, codes: codes(merging) }).toEqual({ value, status: 503, codes: [503] });
      expect(merging.headers['Retry-After']).toBeDefined();
    }
    expect(await leftOf(id)).toEqual(before);
    // A value already freed is free: it registers a new customer, who keeps it after the erase ends.
    const reused = freed[0];
    const newcomer = await register({ profiles: [profileIn(['JD'], [reused])] });
    expect(newcomer).not.toBe(id);

    // A DELETE through the handler carries on and finishes.
    expectErasedReply(await eraseCustomer(id), id);
    await expectErased(
      id,
      personal.filter((p) => p !== reused.value),
    );
    for (const { type, value } of held) {
      expect({ type, value, owner: await ownerOf(type, value) }).toEqual({
        type,
        value,
        owner: value === reused.value ? newcomer : '404/8015',
      });
    }
    expect((await getCustomer(newcomer)).status).toBe(200);
    // The mobile it held registers a new customer now.
    const again = await register({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
    expect(again).not.toBe(id);
  });

  it('answers 503 to a registration through a value of a customer being erased in a source it has a profile in, or with another customer’s value', async () => {
    const { id, held, mobile } = await customerWithProfiles(PLACES.slice(0, 2), 5);
    const other = await register({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: uniqueMobile() },
          { type: 'email', value: uniqueEmail('other') },
        ]),
      ],
    });
    const otherEmail = (await getCustomer(other)).body.profiles[0].identifiers.find((i: Id) => i.type === 'email').value;
    // Interrupted right after the mark: every value is still the customer's.
    await expect(eraseInSteps(100, id, { stepItems: 5, run: runner({ failAfter: 1 }).run })).rejects.toThrow('simulated crash');
    const before = await allItems();

    // Until the erase ends the customer neither takes a profile nor exists (GET 404): a client is told to retry,
    // not that the customer exists in that source (8006) or that the values are two customers' (8052).
    const sameSource = await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
    const withOther = await addCustomer({
      profiles: [profileIn(['TMALL'], [held.find((i) => i.type === 'externalId')!, { type: 'email', value: otherEmail }])],
    });
    expect({ sameSource: outcomeOf(sameSource), withOther: outcomeOf(withOther) }).toEqual({ sameSource: '503/503', withOther: '503/503' });
    expect(await allItems()).toEqual(before);

    expectErasedReply(await eraseCustomer(id), id);
    await expectErased(id);
    // Once erased, the same request registers a new customer.
    const again = await register({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
    expect(again).not.toBe(id);
  });

  it('resumes an erase interrupted right after the mark, and one interrupted before its last transaction', async () => {
    for (const failAfter of [1, 4]) {
      const { id, held, personal } = await customerWithProfiles(PLACES.slice(0, 3), 5);
      const { run } = runner({ failAfter, most: 5 });
      await expect(eraseInSteps(100, id, { stepItems: 5, run })).rejects.toThrow('simulated crash');
      expect({ failAfter, activity: (await leftOf(id)).partition.find((i) => i.sk === 'CUSTOMER')!.activity }).toEqual({
        failAfter,
        activity: 'ERASING',
      });
      // Resumed with small steps too, then answered by the handler.
      const resumed = await eraseInSteps(100, id, { stepItems: 5, run: runner({ most: 5 }).run });
      expect(resumed).toMatchObject({ kind: 'erased', customerId: id });
      await expectErased(id, personal);
      for (const { type, value } of held)
        expect({ failAfter, type, owner: await ownerOf(type, value) }).toEqual({ failAfter, type, owner: '404/8015' });
      expectErasedReply(await eraseCustomer(id), id);
    }
  });

  it('finishes a resumed erase however many of its steps meet values an interrupted run already freed', async () => {
    // 8 profiles of 6 identifiers: about 45 items; the interrupted run frees most of them in steps of 3.
    const { id, held, personal } = await customerWithProfiles(PLACES.slice(0, 8), 6);
    const { run } = runner({ failAfter: 14, most: 3 });
    await expect(eraseInSteps(100, id, { stepItems: 3, run })).rejects.toThrow('simulated crash');
    // Resumed with the same small steps: each step of freed values fails once, more often than a run may stall in a row.
    const resumed = await eraseInSteps(100, id, { stepItems: 3, run: runner({ most: 3 }).run });
    expect(resumed).toMatchObject({ kind: 'erased', customerId: id });
    await expectErased(id, personal);
    for (const { type, value } of held) expect({ type, owner: await ownerOf(type, value) }).toEqual({ type, owner: '404/8015' });
  });

  it('erases a customer of more than 100 items through the handler in steps, leaving nothing behind', async () => {
    // 10 profiles of 8 identifiers each in one registration (mostIdentifiers(10) = 88), then 4
    // more source accounts merged with 12 new identifiers each.
    const mobile = uniqueMobile();
    const held: Id[] = [{ type: 'mobile', value: mobile }];
    const personal: string[] = [mobile];
    /** An email and `count - 1` values of the free types, all new. */
    const fresh = (count: number): Id[] => {
      const list: Id[] = [{ type: 'email', value: uniqueEmail('big') }];
      for (const type of FREE_TYPES.slice(0, count - 1)) list.push({ type, value: token(`${type}-`) });
      held.push(...list);
      personal.push(...list.map((i) => i.value));
      return list;
    };
    const mobileId: Id = { type: 'mobile', value: mobile };
    const secret = (prefix: string) => {
      const value = token(prefix);
      personal.push(value);
      return value;
    };
    const firstTen = PLACES.slice(0, 10).map((place, i) =>
      profileIn(place, i === 0 ? [mobileId, ...fresh(7)] : fresh(8), { firstName: secret('Big') }),
    );
    const id = await register({ profiles: firstTen, extendedFields: { city: secret('BigCity') } });
    expect(await aggregateSize(id)).toBe(1 + 80);
    for (const place of PLACES.slice(10)) {
      await merge(id, { profiles: [profileIn(place, [mobileId, ...fresh(12)], { lastName: secret('Merged') })] });
    }
    const document = await getCustomer(id);
    expect(document.body.profiles).toHaveLength(14);
    const size = await aggregateSize(id);
    expect(size).toBeGreaterThan(100);
    expect(size).toBe(1 + 4 + 80 + 4 * 12);

    expectErasedReply(await eraseCustomer(id), id);

    await expectErased(id, personal);
    for (const { type, value } of held) expect({ type, owner: await ownerOf(type, value) }).toEqual({ type, owner: '404/8015' });
    expectErasedReply(await eraseCustomer(id), id);
    const again = await register({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
    expect(again).not.toBe(id);
  });

  it('refuses a merge into a large customer being erased (503) and finishes the erase on the next DELETE', async () => {
    const mobile = uniqueMobile();
    const fresh = (): Id[] => FREE_TYPES.slice(0, 7).map((type) => ({ type, value: token(`${type}-`) }));
    const profiles = PLACES.slice(0, 10).map((place, i) =>
      profileIn(place, [...(i === 0 ? [{ type: 'mobile', value: mobile }] : []), { type: 'email', value: uniqueEmail('e') }, ...fresh()]),
    );
    const id = await register({ profiles });
    await merge(id, {
      profiles: [
        profileIn(PLACES[10], [{ type: 'mobile', value: mobile }, ...FREE_TYPES.map((type) => ({ type, value: token(`${type}-`) }))]),
      ],
    });
    await merge(id, {
      profiles: [
        profileIn(PLACES[11], [{ type: 'mobile', value: mobile }, ...FREE_TYPES.map((type) => ({ type, value: token(`${type}-`) }))]),
      ],
    });
    expect(await aggregateSize(id)).toBeGreaterThan(100);
    // Interrupted right after the mark, with DynamoDB's own step size.
    const { run } = runner({ failAfter: 1 });
    await expect(eraseInSteps(100, id, { run })).rejects.toThrow('simulated crash');
    expect((await leftOf(id)).partition.find((i) => i.sk === 'CUSTOMER')!.activity).toBe('ERASING');

    const late = await addCustomer({ profiles: [profileIn(PLACES[12], [{ type: 'mobile', value: mobile }])] });
    expect({ status: late.status, codes: codes(late) }).toEqual({ status: 503, codes: [503] });
    // Nothing was written: the mobile's item still names the customer being erased, its erase finishes it.
    expect((await leftOf(id)).identifiers.map((i) => i.pk)).toContain(keys.identifier(100, 'mobile', `91${mobile}`).pk);

    expectErasedReply(await eraseCustomer(id), id);
    await expectErased(id, [mobile]);
    expect(await ownerOf('mobile', mobile)).toBe('404/8015');
  });
});
