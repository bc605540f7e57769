import { randomUUID } from 'node:crypto';
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

// Races of the routes that change a registered customer (SPEC sections 11 and 12) with each
// other and with registrations: requests run in parallel through the real handlers against
// DynamoDB Local, several rounds each, and the table's invariants are checked afterwards.

useDemoTable();

const RACE_TIMEOUT = 120_000;
const ROUNDS = 6;
const uniqueEmail = (name = 'racer') => `${name}.${randomUUID().slice(0, 8)}@example.com`;
const uniqueValue = (prefix: string) => `${prefix}-${randomUUID()}`;
const normalisedMobile = (mobile: string) => `91${mobile}`;

beforeAll(async () => {
  // Verify the till's credentials once, so that the races measure the routes, not scrypt.
  expect((await lookup({ source: 'ALL', identifierName: 'mobile', identifierValue: uniqueMobile() })).status).toBe(404);
});

function outcome(reply: Reply): string {
  return `${reply.status}/${codes(reply).join(',') || 'ok'}`;
}

async function register(body: Record<string, unknown>): Promise<number> {
  const reply = await addCustomer(body);
  expect({ status: reply.status, errors: codes(reply) }).toEqual({ status: 200, errors: [] });
  return reply.body.createdId;
}

async function ownerOf(identifierName: string, identifierValue: string): Promise<number | string> {
  const reply = await lookup({ source: 'ALL', identifierName, identifierValue });
  return reply.status === 200 ? reply.body.entity : `${reply.status}/${codes(reply).join(',')}`;
}

interface StoredProfile {
  source: string;
  accountId: string;
  identifiers: { type: string; value: string }[];
  fields?: Record<string, string>;
  card?: { cardNumber?: string };
}

/** The identifier keys (`type#value`) a stored profile lists, its card number included. */
function listedBy(profile: StoredProfile): string[] {
  const listed = profile.identifiers.map((i) => `${i.type}#${i.value}`);
  if (profile.card?.cardNumber) listed.push(`card#${profile.card.cardNumber}`);
  return listed;
}

/**
 * The invariants of org 100's items:
 * - every identifier item names a customer that exists, is ACTIVE, and whose profiles (customer
 *   item and merged profile items) list that value;
 * - every value an ACTIVE customer's profiles list has an identifier item naming that customer;
 * - no value is listed by two customers' profiles;
 * - every merged profile item belongs to an existing customer that is not ERASED, and an ERASED
 *   customer's item lists no profile and no extended field.
 */
async function expectInvariants(): Promise<void> {
  const items = (await allItems()).filter((i) => String(i.pk).startsWith(keys.orgPrefix(100)));
  const customers = new Map<number, Record<string, unknown>>();
  for (const item of items.filter((i) => i.entity === Entity.customer)) customers.set(item.id as number, item);
  const mergedProfiles = items.filter((i) => i.entity === Entity.mergedProfile);
  const identifiers = items.filter((i) => i.entity === Entity.identifier);

  const profilesOf = new Map<number, StoredProfile[]>();
  for (const [id, customer] of customers) profilesOf.set(id, [...((customer.profiles as StoredProfile[]) ?? [])]);
  const problems: string[] = [];
  for (const merged of mergedProfiles) {
    const owner = /#CUSTOMER#(\d+)$/.exec(String(merged.pk));
    const id = owner ? Number(owner[1]) : NaN;
    const customer = customers.get(id);
    if (!customer) problems.push(`merged profile ${merged.pk}|${merged.sk} of a missing customer`);
    else if (customer.activity === 'ERASED') problems.push(`merged profile ${merged.pk}|${merged.sk} of an erased customer`);
    else profilesOf.get(id)!.push(merged.profile as StoredProfile);
  }
  for (const [id, customer] of customers) {
    if (customer.activity === 'ERASED') {
      if ((customer.profiles as unknown[]).length > 0) problems.push(`erased customer ${id} keeps profiles`);
      if (Object.keys((customer.extendedFields as object) ?? {}).length > 0) problems.push(`erased customer ${id} keeps extended fields`);
    }
  }

  const listers = new Map<string, Set<number>>();
  for (const [id, profiles] of profilesOf) {
    for (const profile of profiles) {
      for (const key of listedBy(profile)) {
        if (!listers.has(key)) listers.set(key, new Set());
        listers.get(key)!.add(id);
      }
    }
  }
  for (const [key, ids] of listers) if (ids.size > 1) problems.push(`${key} listed by customers ${[...ids].join(', ')}`);

  const itemOwners = new Map<string, number>();
  for (const identifier of identifiers) {
    const key = String(identifier.pk).slice(`${keys.orgPrefix(100)}ID#`.length);
    const id = identifier.customerId as number;
    itemOwners.set(key, id);
    const customer = customers.get(id);
    if (!customer) problems.push(`identifier ${key} names missing customer ${id}`);
    else if (customer.activity !== 'ACTIVE') problems.push(`identifier ${key} names ${customer.activity} customer ${id}`);
    else if (!listers.get(key)?.has(id)) problems.push(`identifier ${key} names customer ${id}, whose profiles do not list it`);
  }
  for (const [key, ids] of listers) {
    for (const id of ids) {
      if (customers.get(id)?.activity === 'ACTIVE' && itemOwners.get(key) !== id)
        problems.push(`${key} listed by active customer ${id} but its item names ${itemOwners.get(key) ?? 'nobody'}`);
    }
  }
  expect(problems).toEqual([]);
}

/** Only the tombstone is left of an erased customer, and no identifier item names it. */
async function expectNothingLeftOf(id: number): Promise<void> {
  const items = (await allItems()).filter((i) => String(i.pk).startsWith(keys.orgPrefix(100)));
  expect(items.filter((i) => i.pk === keys.customerPartition(100, id)).map((i) => `${i.sk}|${i.activity}`)).toEqual(['CUSTOMER|ERASED']);
  expect(items.filter((i) => i.entity === Entity.identifier && i.customerId === id).map((i) => i.pk)).toEqual([]);
  expect((await getCustomer(id)).status).toBe(404);
}

describe('races of changes and erases', () => {
  it(
    'lets exactly one of two customers claim one new value through changeIdentifier at once; the other gets 409 / 8053',
    async () => {
      for (let round = 0; round < ROUNDS * 2; round++) {
        const x = await register({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] });
        const y = await register({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] });
        const contested =
          round % 2 ? { type: 'email', value: uniqueEmail('contested') } : { type: 'externalId', value: uniqueValue('ext') };

        const replies = await Promise.all([changeIdentifier(x, { add: [contested] }), changeIdentifier(y, { add: [contested] })]);

        expect({ round, outcomes: replies.map(outcome).sort() }).toEqual({ round, outcomes: ['200/ok', '409/8053'] });
        const winner = replies[0].status === 200 ? x : y;
        const loser = winner === x ? y : x;
        expect(replies[winner === x ? 0 : 1].body).toEqual({ createdId: winner, warnings: [], sideEffects: [] });
        expect(replies[winner === x ? 1 : 0].body.errors[0].path).toBe('/add/0/value');
        expect(await ownerOf(contested.type, contested.value)).toBe(winner);
        const loserDocument = await getCustomer(loser);
        expect(loserDocument.body.profiles[0].identifiers.map((i: { type: string }) => i.type)).toEqual(['mobile']);
      }
      await expectInvariants();
    },
    RACE_TIMEOUT,
  );

  it(
    'never attaches a registration racing the erase of the customer owning its mobile to the erased customer',
    async () => {
      for (let round = 0; round < ROUNDS * 2; round++) {
        const mobile = uniqueMobile();
        const email = uniqueEmail('late');
        const x = await register({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });

        const [erased, registered] = await Promise.all([
          eraseCustomer(x),
          addCustomer({
            profiles: [
              {
                source: 'WEBSITE',
                identifiers: [
                  { type: 'mobile', value: mobile },
                  { type: 'email', value: email },
                ],
              },
            ],
          }),
        ]);

        expect({ round, erase: outcome(erased) }).toEqual({ round, erase: '200/ok' });
        expect({ round, registration: outcome(registered) }).toEqual({ round, registration: '200/ok' });
        await expectNothingLeftOf(x);
        const id = registered.body.createdId;
        if (id === x) {
          // Merged before the erase, and erased with it.
          expect(warningCodes(registered)).toContain(8050);
          expect(await ownerOf('mobile', mobile)).toBe('404/8015');
          expect(await ownerOf('email', email)).toBe('404/8015');
        } else {
          expect(warningCodes(registered)).not.toContain(8050);
          const document = await getCustomer(id);
          expect(document.status).toBe(200);
          expect(document.body.profiles.map((p: { source: string }) => p.source)).toEqual(['WEBSITE']);
          expect(await ownerOf('mobile', mobile)).toBe(id);
          expect(await ownerOf('email', email)).toBe(id);
        }
        const owner = await ownerOf('mobile', mobile);
        if (typeof owner === 'number') expect((await getCustomer(owner)).body.activity).toBe('ACTIVE');
        else expect(owner).toBe('404/8015');
      }
      await expectInvariants();
    },
    RACE_TIMEOUT,
  );

  it(
    'never attaches a registration racing a stepped erase to the customer being erased (merged before, new customer, or 503)',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const mobile = uniqueMobile();
        const x = await register({
          profiles: [
            instoreProfile([
              { type: 'mobile', value: mobile },
              { type: 'email', value: uniqueEmail('stepped') },
              { type: 'externalId', value: uniqueValue('ext') },
              { type: 'cuid', value: uniqueValue('cuid') },
            ]),
          ],
        });
        const email = uniqueEmail('late');

        const [erased, registered] = await Promise.all([
          eraseInSteps(100, x, { stepItems: 3 }),
          addCustomer({
            profiles: [
              {
                source: 'ECOMMERCE',
                identifiers: [
                  { type: 'mobile', value: mobile },
                  { type: 'email', value: email },
                ],
              },
            ],
          }),
        ]);

        expect(erased).toMatchObject({ kind: 'erased', customerId: x });
        expect({ round, registration: ['200/ok', '503/503'].includes(outcome(registered)) ? 'ok' : outcome(registered) }).toEqual({
          round,
          registration: 'ok',
        });
        await expectNothingLeftOf(x);
        if (registered.status === 200 && registered.body.createdId !== x) {
          const document = await getCustomer(registered.body.createdId);
          expect(document.status).toBe(200);
          expect(await ownerOf('email', email)).toBe(registered.body.createdId);
        } else {
          expect(await ownerOf('email', email)).toBe('404/8015');
        }
      }
      await expectInvariants();
    },
    RACE_TIMEOUT,
  );

  it(
    'keeps the invariants when an identifier change (mobile A by B) races a registration of A and a registration of B; B ends with one owner',
    async () => {
      for (let round = 0; round < ROUNDS * 2; round++) {
        const [a, b] = [uniqueMobile(), uniqueMobile()];
        const x = await register({ profiles: [instoreProfile([{ type: 'mobile', value: a }])] });

        const [changed, ofA, ofB] = await Promise.all([
          changeIdentifier(x, { remove: [{ type: 'mobile', value: a }], add: [{ type: 'mobile', value: b }] }),
          addCustomer({
            profiles: [
              {
                source: 'WEBSITE',
                identifiers: [
                  { type: 'mobile', value: a },
                  { type: 'email', value: uniqueEmail('a') },
                ],
              },
            ],
          }),
          addCustomer({
            profiles: [
              {
                source: 'ECOMMERCE',
                identifiers: [
                  { type: 'mobile', value: b },
                  { type: 'email', value: uniqueEmail('b') },
                ],
              },
            ],
          }),
        ]);

        const outcomes = { round, change: outcome(changed), a: outcome(ofA), b: outcome(ofB) };
        expect(['200/ok', '409/8053']).toContain(outcomes.change);
        expect(outcomes).toEqual({ ...outcomes, a: '200/ok', b: '200/ok' });

        const ownerOfB = await ownerOf('mobile', b);
        expect(typeof ownerOfB).toBe('number');
        const holdersOfB: number[] = [];
        for (const id of new Set([x, ofA.body.createdId, ofB.body.createdId])) {
          const document = await getCustomer(id);
          expect(document.status).toBe(200);
          const lists = document.body.profiles.some((p: { identifiers: { type: string; value: string }[] }) =>
            p.identifiers.some((i) => i.type === 'mobile' && i.value === normalisedMobile(b)),
          );
          if (lists) holdersOfB.push(id);
        }
        expect({ round, holdersOfB }).toEqual({ round, holdersOfB: [ownerOfB] });
        if (changed.status === 200) {
          expect(ownerOfB).toBe(x);
          const xDocument = await getCustomer(x);
          const instore = xDocument.body.profiles.find((p: { source: string }) => p.source === 'INSTORE');
          expect(instore.identifiers.map((i: { value: string }) => i.value)).toEqual([normalisedMobile(b)]);
        } else {
          // B was registered first, by a new customer; X kept A.
          expect(ownerOfB).toBe(ofB.body.createdId);
          expect(ownerOfB).not.toBe(x);
          expect(await ownerOf('mobile', a)).toBe(x);
        }
        // A belongs to whoever lists it: X (a merge before the change, or the change refused) or the new customer.
        const ownerOfA = await ownerOf('mobile', a);
        expect([x, ofA.body.createdId]).toContain(ownerOfA);
      }
      await expectInvariants();
    },
    RACE_TIMEOUT,
  );

  it(
    'applies both an update and a merge that race on one customer',
    async () => {
      for (let round = 0; round < ROUNDS * 2; round++) {
        const mobile = uniqueMobile();
        const x = await register({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }], { fields: { kept: 'yes' } })] });
        const email = uniqueEmail('merge');
        const city = `City ${round}`;

        const [updated, merged] = await Promise.all([
          updateCustomer(x, { profiles: [{ lastName: `Updated${round}`, fields: { tier: `t${round}` } }], extendedFields: { city } }),
          addCustomer({
            profiles: [
              {
                source: 'WEBSITE',
                firstName: 'Merged',
                identifiers: [
                  { type: 'mobile', value: mobile },
                  { type: 'email', value: email },
                ],
              },
            ],
          }),
        ]);

        expect({ round, update: outcome(updated), merge: outcome(merged) }).toEqual({ round, update: '200/ok', merge: '200/ok' });
        expect(merged.body.createdId).toBe(x);
        expect(warningCodes(merged)).toContain(8050);
        const document = (await getCustomer(x)).body;
        expect(document.profiles.map((p: { source: string }) => p.source)).toEqual(['INSTORE', 'WEBSITE']);
        expect(document.profiles[0].lastName).toBe(`Updated${round}`);
        expect(document.profiles[0].fields).toEqual({ kept: 'yes', tier: `t${round}` });
        expect(document.profiles[1].firstName).toBe('Merged');
        expect(document.extendedFields).toEqual({ city });
        expect(await ownerOf('email', email)).toBe(x);
      }
      await expectInvariants();
    },
    RACE_TIMEOUT,
  );

  it(
    'loses no update when several updates of one customer set different custom fields at once (customer item and merged profile)',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const mobile = uniqueMobile();
        const x = await register({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
        const merged = await addCustomer({
          profiles: [{ source: 'FACEBOOK', accountId: 'fb-main', identifiers: [{ type: 'mobile', value: mobile }] }],
        });
        expect(merged.body.createdId).toBe(x);
        const onItem = Array.from({ length: 4 }, (_, i) => [`item${i}`, `v${round}.${i}`]);
        const onMerged = Array.from({ length: 3 }, (_, i) => [`merged${i}`, `w${round}.${i}`]);

        const replies = await Promise.all([
          ...onItem.map(([key, value]) => updateCustomer(x, { profiles: [{ fields: { [key]: value } }] })),
          ...onMerged.map(([key, value]) =>
            updateCustomer(x, { profiles: [{ fields: { [key]: value } }] }, { query: { source: 'FACEBOOK', accountId: 'fb-main' } }),
          ),
          updateCustomer(x, { extendedFields: { city: `Race ${round}` } }),
          updateCustomer(x, { extendedFields: { household_size: round + 1 } }),
        ]);

        expect({ round, outcomes: replies.map(outcome) }).toEqual({ round, outcomes: replies.map(() => '200/ok') });
        const document = (await getCustomer(x)).body;
        const [instore, facebook] = document.profiles;
        expect(instore.source).toBe('INSTORE');
        expect(instore.fields).toEqual(Object.fromEntries(onItem));
        expect(facebook.source).toBe('FACEBOOK');
        expect(facebook.fields).toEqual(Object.fromEntries(onMerged));
        expect(document.extendedFields).toEqual({ city: `Race ${round}`, household_size: round + 1 });
      }
      await expectInvariants();
    },
    RACE_TIMEOUT,
  );

  it(
    'frees a value that a changeIdentifier adds while the customer is erased: the value ends free or the change is 404',
    async () => {
      for (let round = 0; round < ROUNDS * 2; round++) {
        const x = await register({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] });
        const added = { type: 'email', value: uniqueEmail('while-erased') };

        const [changed, erased] = await Promise.all([changeIdentifier(x, { add: [added] }), eraseCustomer(x)]);

        expect({ round, erase: outcome(erased) }).toEqual({ round, erase: '200/ok' });
        expect(['200/ok', '404/8015']).toContain(outcome(changed));
        await expectNothingLeftOf(x);
        expect(await ownerOf(added.type, added.value)).toBe('404/8015');
        // The value registers a new customer.
        const y = await register({ profiles: [instoreProfile([added])] });
        expect(y).not.toBe(x);
      }
      await expectInvariants();
    },
    RACE_TIMEOUT,
  );

  it(
    'erases a customer of more than 100 items once when three DELETEs race, leaving nothing behind',
    async () => {
      for (let round = 0; round < 2; round++) {
        const mobile = uniqueMobile();
        const types = IDENTIFIER_TYPES.filter((type) => !['mobile', 'email', 'card'].includes(type));
        const places: [string, string?][] = [
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
        ];
        const profileAt = ([source, accountId]: [string, string?], count: number) => ({
          source,
          ...(accountId ? { accountId } : {}),
          identifiers: [{ type: 'mobile', value: mobile }, ...types.slice(0, count).map((type) => ({ type, value: uniqueValue(type) }))],
        });
        const x = await register({ profiles: places.slice(0, 10).map((place) => profileAt(place, 8)) });
        for (const place of places.slice(10)) {
          const merged = await addCustomer({ profiles: [profileAt(place, 12)] });
          expect(merged.body.createdId).toBe(x);
        }
        const items = (await allItems()).filter((i) => i.pk === keys.customerPartition(100, x) || i.customerId === x);
        expect(items.length).toBeGreaterThan(100);

        const replies = await Promise.all([eraseCustomer(x), eraseCustomer(x), eraseCustomer(x)]);

        expect({ round, outcomes: replies.map(outcome) }).toEqual({ round, outcomes: ['200/ok', '200/ok', '200/ok'] });
        for (const reply of replies) expect(reply.body).toEqual({ entity: { id: x, status: 'ERASED' }, warnings: [] });
        await expectNothingLeftOf(x);
        expect(await ownerOf('mobile', mobile)).toBe('404/8015');
      }
      await expectInvariants();
    },
    RACE_TIMEOUT,
  );

  it(
    'keeps nothing of an update racing an erase: the update is 200 before the erase or 404 after it',
    async () => {
      for (let round = 0; round < ROUNDS * 2; round++) {
        const x = await register({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] });
        const secret = uniqueValue('secret');

        const [updated, erased] = await Promise.all([
          updateCustomer(x, { profiles: [{ firstName: secret, fields: { note: secret } }], extendedFields: { city: secret.slice(0, 40) } }),
          eraseCustomer(x),
        ]);

        expect({ round, erase: outcome(erased) }).toEqual({ round, erase: '200/ok' });
        expect(['200/ok', '404/8015']).toContain(outcome(updated));
        await expectNothingLeftOf(x);
        const tombstone = (await allItems()).find((i) => i.pk === keys.customerPartition(100, x))!;
        expect(JSON.stringify(tombstone)).not.toContain(secret.slice(0, 40));
      }
      await expectInvariants();
    },
    RACE_TIMEOUT,
  );
});
