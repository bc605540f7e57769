import { randomUUID } from 'node:crypto';
import { addCustomer, getCustomer, instoreProfile, lookup, uniqueMobile } from '../support/customers';
import { codes, warningCodes, TILLS, type Reply } from '../support/http';
import { registrationItems, useDemoTable } from '../support/table';
import { Entity, keys } from '../../lib/store/keys';

// Orgs never see each other (SPEC section 2: every read and write is scoped to the caller's
// org; section 3 rule 1: an identifier belongs to at most one customer *of the org*; section
// 5: an id of another org is 404 8015). Org 100 is reached with the demo and store2 tills,
// org 200 with the other till.

useDemoTable();
jest.setTimeout(120_000);

type Till = keyof typeof TILLS;

const uniqueEmail = () => `iso.${randomUUID().slice(0, 12)}@example.com`;
const uniqueExternalId = () => `ext-${randomUUID()}`;

interface Identity {
  mobile: string;
  email: string;
  externalId: string;
}

const newIdentity = (): Identity => ({ mobile: uniqueMobile(), email: uniqueEmail(), externalId: uniqueExternalId() });

const identifiersOf = (identity: Identity) => [
  { type: 'mobile', value: identity.mobile },
  { type: 'email', value: identity.email },
  { type: 'externalId', value: identity.externalId },
];

async function register(till: Till, identity: Identity): Promise<number> {
  const reply = await addCustomer({ profiles: [instoreProfile(identifiersOf(identity))] }, { till });
  expect({ till, status: reply.status, codes: codes(reply), warnings: warningCodes(reply) }).toEqual({
    till,
    status: 200,
    codes: [],
    warnings: [],
  });
  return reply.body.createdId;
}

/** Lookup of one identifier as `till` sees it: the customer id, or `status/codes`. */
async function lookupAs(till: Till, identifierName: string, identifierValue: string, source = 'ALL'): Promise<number | string> {
  const reply = await lookup({ source, identifierName, identifierValue }, { till });
  return reply.status === 200 ? reply.body.entity : `${reply.status}/${codes(reply).join(',')}`;
}

function expectNotFound(reply: Reply): void {
  expect(reply.status).toBe(404);
  expect(codes(reply)).toEqual([8015]);
}

/** Every item stored under one org's keys. */
async function itemsOfOrg(orgId: number): Promise<Record<string, unknown>[]> {
  return (await registrationItems())
    .filter((item) => String(item.pk).startsWith(keys.orgPrefix(orgId)) && item.entity !== Entity.rateWindow)
    .sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
}

describe('two orgs registering the same identifiers', () => {
  test('get two different customers, each a new registration in its own org', async () => {
    const identity = newIdentity();
    const inDemo = await register('demo', identity);
    const inOther = await register('other', identity);

    expect(inOther).not.toBe(inDemo);
    for (const [name, value] of [
      ['mobile', identity.mobile],
      ['email', identity.email],
      ['externalId', identity.externalId],
    ]) {
      expect(await lookupAs('demo', name, value)).toBe(inDemo);
      expect(await lookupAs('store2', name, value)).toBe(inDemo);
      expect(await lookupAs('other', name, value)).toBe(inOther);
    }
  });

  test('an identifier known in one org and new ones mixed in another org make no 8052 and no merge across orgs', async () => {
    const first = newIdentity();
    const second = newIdentity();
    const inDemoFirst = await register('demo', first);
    const inDemoSecond = await register('demo', second);

    // In org 100 these two identifiers belong to different customers (8052); org 200 knows neither.
    const mixed = {
      profiles: [
        instoreProfile([
          { type: 'mobile', value: first.mobile },
          { type: 'email', value: second.email },
        ]),
      ],
    };
    expect(codes(await addCustomer(mixed, { till: 'demo' }))).toEqual([8052]);
    const inOther = await addCustomer(mixed, { till: 'other' });
    expect(inOther.status).toBe(200);
    expect(warningCodes(inOther)).toEqual([]);
    expect([inDemoFirst, inDemoSecond]).not.toContain(inOther.body.createdId);
  });
});

describe('reads across orgs', () => {
  test("neither org can GET the other's customer (404 8015), while every till of the owning org can", async () => {
    const identity = newIdentity();
    const inDemo = await register('demo', identity);
    const inOther = await register('other', identity);

    expectNotFound(await getCustomer(inDemo, { till: 'other' }));
    expectNotFound(await getCustomer(inOther, { till: 'demo' }));
    expectNotFound(await getCustomer(inOther, { till: 'store2' }));
    expectNotFound(await getCustomer(inDemo, { till: 'limited' }));

    const own = await getCustomer(inDemo, { till: 'store2' });
    expect(own.status).toBe(200);
    expect(own.body.id).toBe(inDemo);
    expect((await getCustomer(inOther, { till: 'other' })).body.id).toBe(inOther);
  });

  test("neither org can look up the other's customer by its identifiers (404 8015), in any source", async () => {
    const onlyInDemo = newIdentity();
    const onlyInOther = newIdentity();
    await register('demo', onlyInDemo);
    await register('other', onlyInOther);

    for (const source of ['ALL', 'INSTORE']) {
      for (const [name, value] of [
        ['mobile', onlyInDemo.mobile],
        ['email', onlyInDemo.email],
        ['externalId', onlyInDemo.externalId],
      ]) {
        expect(await lookupAs('other', name, value, source)).toBe('404/8015');
      }
      for (const [name, value] of [
        ['mobile', onlyInOther.mobile],
        ['email', onlyInOther.email],
        ['externalId', onlyInOther.externalId],
      ]) {
        expect(await lookupAs('demo', name, value, source)).toBe('404/8015');
        expect(await lookupAs('limited', name, value, source)).toBe('404/8015');
      }
    }
  });
});

describe('merges across orgs', () => {
  test("a merge in org 200 never touches org 100's customer", async () => {
    const identity = newIdentity();
    const inDemo = await register('demo', identity);
    const inOther = await register('other', identity);
    const demoItems = await itemsOfOrg(100);
    const demoCustomer = (await getCustomer(inDemo, { till: 'demo' })).body;
    const mergedEmail = uniqueEmail();

    const merged = await addCustomer(
      {
        profiles: [
          {
            source: 'ECOMMERCE',
            firstName: 'Asha',
            identifiers: [
              { type: 'mobile', value: identity.mobile },
              { type: 'email', value: mergedEmail },
            ],
          },
        ],
      },
      { till: 'other' },
    );

    expect(merged.status).toBe(200);
    expect(merged.body.createdId).toBe(inOther);
    expect(warningCodes(merged)).toContain(8050);
    // Org 100's items and customer are exactly as they were.
    expect(await itemsOfOrg(100)).toEqual(demoItems);
    expect((await getCustomer(inDemo, { till: 'demo' })).body).toEqual(demoCustomer);
    expect(await lookupAs('demo', 'email', mergedEmail)).toBe('404/8015');
    expect(await lookupAs('other', 'email', mergedEmail)).toBe(inOther);
    const otherCustomer = (await getCustomer(inOther, { till: 'other' })).body;
    expect(otherCustomer.profiles.map((p: { source: string }) => p.source).sort()).toEqual(['ECOMMERCE', 'INSTORE']);

    // Org 100's customer still has no ECOMMERCE profile: the same merge there succeeds (not 8006).
    const demoMerge = await addCustomer(
      { profiles: [{ source: 'ECOMMERCE', firstName: 'Asha', identifiers: [{ type: 'mobile', value: identity.mobile }] }] },
      { till: 'demo' },
    );
    expect(demoMerge.status).toBe(200);
    expect(demoMerge.body.createdId).toBe(inDemo);
    expect(warningCodes(demoMerge)).toContain(8050);
  });

  test('a conflict in one org (8006) says nothing about the other org', async () => {
    const identity = newIdentity();
    await register('demo', identity);
    const repeat = { profiles: [instoreProfile(identifiersOf(identity))] };

    expect(codes(await addCustomer(repeat, { till: 'store2' }))).toEqual([8006]);
    const other = await addCustomer(repeat, { till: 'other' });
    expect(other.status).toBe(200);
    expect(warningCodes(other)).toEqual([]);
  });
});
