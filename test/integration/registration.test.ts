import { randomUUID } from 'node:crypto';
import { addCustomer, getCustomer, instoreProfile, lookup, uniqueMobile } from '../support/customers';
import { saveOrg } from '../../lib/store/orgs';
import { basicAuth, codes, warningCodes, type Reply } from '../support/http';
import { customerItems, useDemoTable } from '../support/table';
import { Entity, keys } from '../../lib/store/keys';

// POST /v2/customers through the real handler against DynamoDB Local (SPEC sections 3 and 4):
// creation, normalisation, the identity and merge rules, and every rejection, each checked in
// the response and in what the table holds afterwards.

useDemoTable();

/** Sends a registration and checks that the table holds exactly what it held before. */
async function rejectedWithoutWrites(body: unknown, options?: Parameters<typeof addCustomer>[1]): Promise<Reply> {
  const before = await customerItems();
  const reply = await addCustomer(body, options);
  expect(await customerItems()).toEqual(before);
  return reply;
}

const uniqueEmail = (name = 'person') => `${name}.${randomUUID().slice(0, 8)}@example.com`;
const uniqueValue = (prefix: string) => `${prefix}-${randomUUID()}`;

async function customerRecords(): Promise<Record<string, unknown>[]> {
  return (await customerItems()).filter((i) => i.entity === Entity.customer);
}

async function identifierItemsOf(customerId: number): Promise<Record<string, unknown>[]> {
  return (await customerItems()).filter((i) => i.entity === Entity.identifier && i.customerId === customerId);
}

async function profileItemsOf(customerId: number): Promise<Record<string, unknown>[]> {
  return (await customerItems()).filter((i) => i.entity === Entity.mergedProfile && i.pk === keys.customerPartition(100, customerId));
}

/** The customer that lookup (source ALL) finds for an identifier, or the error code. */
async function ownerOf(identifierName: string, identifierValue: string): Promise<number | string> {
  const reply = await lookup({ source: 'ALL', identifierName, identifierValue });
  return reply.status === 200 ? reply.body.entity : `${reply.status}/${codes(reply).join(',')}`;
}

async function created(body: unknown): Promise<number> {
  const reply = await addCustomer(body);
  expect(reply.status).toBe(200);
  expect(codes(reply)).toEqual([]);
  return reply.body.createdId;
}

function sourceAccounts(document: { profiles: { source: string; accountId: string | null }[] }): string[] {
  return document.profiles.map((p) => (p.accountId ? `${p.source}#${p.accountId}` : p.source)).sort();
}

describe('creating a customer', () => {
  it('creates a customer with a positive JSON-safe id that GET returns with its profile, identifiers and default enrollment', async () => {
    const mobile = uniqueMobile();
    const email = uniqueEmail('Asha');
    const before = (await customerRecords()).length;

    const reply = await addCustomer({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: mobile },
          { type: 'email', value: email },
        ]),
      ],
    });

    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ createdId: expect.any(Number), warnings: [], sideEffects: [] });
    const id = reply.body.createdId;
    expect(Number.isSafeInteger(id)).toBe(true);
    expect(id).toBeGreaterThan(0);

    const document = await getCustomer(id);
    expect(document.status).toBe(200);
    expect(document.body).toMatchObject({
      id,
      loyaltyInfo: { loyaltyType: 'loyalty' },
      associatedWith: 'demo.till',
      endPointsEnabled: [],
      extendedFields: {},
      cardDetails: [],
      warnings: [],
      loyaltyProgramDetails: [{ programId: 1, programName: 'Demo Rewards', tierNumber: 1, tierName: 'Silver', loyaltyPoints: 0 }],
    });
    expect(document.body.profiles).toHaveLength(1);
    const [profile] = document.body.profiles;
    expect(profile).toMatchObject({
      firstName: 'Asha',
      lastName: 'Rao',
      source: 'INSTORE',
      attribution: { createdBy: { code: 'demo.till', type: 'TILL' } },
    });
    expect(profile.identifiers).toEqual(
      expect.arrayContaining([
        { type: 'mobile', value: `91${mobile}` },
        { type: 'email', value: email.toLowerCase() },
      ]),
    );
    expect(profile.identifiers).toHaveLength(2);
    expect(Number.isNaN(Date.parse(profile.attribution.createDate))).toBe(false);

    expect(await customerRecords()).toHaveLength(before + 1);
    expect(await identifierItemsOf(id)).toHaveLength(2);
    expect(await profileItemsOf(id)).toEqual([]);
    expect(await ownerOf('mobile', mobile)).toBe(id);
    expect(await ownerOf('email', email)).toBe(id);
  });

  it('gives every new customer a different id', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await created({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] }));
    expect(new Set(ids).size).toBe(5);
  });

  it('creates one customer holding every profile of a request with several profiles', async () => {
    const mobile = uniqueMobile();
    const fbId = uniqueValue('fb');
    const id = await created({
      profiles: [
        instoreProfile([{ type: 'mobile', value: mobile }]),
        {
          source: 'FACEBOOK',
          accountId: 'fb-main',
          identifiers: [
            { type: 'mobile', value: mobile },
            { type: 'fbId', value: fbId },
          ],
        },
      ],
    });

    const document = await getCustomer(id);
    expect(sourceAccounts(document.body)).toEqual(['FACEBOOK#fb-main', 'INSTORE']);
    // The shared mobile is one identifier of the org, not two.
    expect(await identifierItemsOf(id)).toHaveLength(2);
    expect(await ownerOf('fbId', fbId)).toBe(id);
    expect(await ownerOf('mobile', mobile)).toBe(id);
  });

  it('fills in a profile without source or accountId from the source and accountId query parameters', async () => {
    const wechat = uniqueValue('wx');
    const reply = await addCustomer(
      { profiles: [{ firstName: 'Li', identifiers: [{ type: 'wechat', value: wechat }] }] },
      { query: { source: 'WECHAT', accountId: 'wx-second' } },
    );
    expect(reply.status).toBe(200);
    const document = await getCustomer(reply.body.createdId);
    expect(sourceAccounts(document.body)).toEqual(['WECHAT#wx-second']);
  });

  it("prefers a profile's own source to the source query parameter", async () => {
    const reply = await addCustomer(
      { profiles: [{ source: 'WEBSITE', identifiers: [{ type: 'externalId', value: uniqueValue('ext') }] }] },
      { query: { source: 'INSTORE' } },
    );
    expect(reply.status).toBe(200);
    expect(sourceAccounts((await getCustomer(reply.body.createdId)).body)).toEqual(['WEBSITE']);
  });

  it('ignores an accountId sent for a single-account source with a warning 8200, so a second account there is the same source', async () => {
    const mobile = uniqueMobile();
    const reply = await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }], { accountId: 'store-1' })] });
    expect(reply.status).toBe(200);
    expect(reply.body.warnings).toEqual([expect.objectContaining({ code: 8200, path: '/profiles/0/accountId' })]);
    const id = reply.body.createdId;
    expect((await getCustomer(id)).body.profiles[0]).toMatchObject({ source: 'INSTORE', accountId: null });

    const again = await rejectedWithoutWrites({
      profiles: [instoreProfile([{ type: 'mobile', value: mobile }], { accountId: 'store-2' })],
    });
    expect(again.status).toBe(409);
    expect(codes(again)).toEqual([8006]);
  });

  it('trims names and identifier values before storing them', async () => {
    const externalId = uniqueValue('ext');
    const id = await created({
      profiles: [instoreProfile([{ type: 'externalId', value: `  ${externalId}  ` }], { firstName: '  Meera ', lastName: ' Iyer  ' })],
    });
    const document = await getCustomer(id);
    expect(document.body.profiles[0]).toMatchObject({
      firstName: 'Meera',
      lastName: 'Iyer',
      identifiers: [{ type: 'externalId', value: externalId }],
    });
    expect(await ownerOf('externalId', externalId)).toBe(id);
  });
});

describe('normalisation: every spelling of one identifier is one customer', () => {
  it('reads "+91 98765 43210", "919876543210" and "09876543210" as the same mobile number', async () => {
    const mobile = uniqueMobile();
    const spelled = {
      international: `+91 ${mobile.slice(0, 5)} ${mobile.slice(5)}`,
      withCountryCode: `91${mobile}`,
      withTrunkZero: `0${mobile}`,
    };
    const id = await created({ profiles: [instoreProfile([{ type: 'mobile', value: spelled.international }])] });

    // Same source again, spelled with the country code but no plus: the same customer (8006).
    const again = await rejectedWithoutWrites({ profiles: [instoreProfile([{ type: 'mobile', value: spelled.withCountryCode }])] });
    expect(again.status).toBe(409);
    expect(codes(again)).toEqual([8006]);

    // Another source, spelled nationally with a trunk zero: merged into the same customer.
    const merged = await addCustomer({
      profiles: [{ source: 'WEBSITE', identifiers: [{ type: 'mobile', value: spelled.withTrunkZero }] }],
    });
    expect(merged.status).toBe(200);
    expect(merged.body.createdId).toBe(id);
    expect(warningCodes(merged)).toEqual([8050]);

    const document = await getCustomer(id);
    for (const profile of document.body.profiles) expect(profile.identifiers).toEqual([{ type: 'mobile', value: `91${mobile}` }]);
    expect(await identifierItemsOf(id)).toHaveLength(1);
    for (const spelling of [
      ...Object.values(spelled),
      mobile,
      `(+91) ${mobile.slice(0, 5)}-${mobile.slice(5)}`,
      `+91.${mobile.slice(0, 5)}.${mobile.slice(5)}`,
    ]) {
      expect(await ownerOf('mobile', spelling)).toBe(id);
    }
  });

  it('accepts a foreign mobile number given with its country code and stores it with that code', async () => {
    const national = `740${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const id = await created({
      profiles: [instoreProfile([{ type: 'mobile', value: `+44 ${national.slice(0, 4)} ${national.slice(4)}` }])],
    });
    expect((await getCustomer(id)).body.profiles[0].identifiers).toEqual([{ type: 'mobile', value: `44${national}` }]);
    expect(await ownerOf('mobile', `+44${national}`)).toBe(id);
  });

  it('matches emails case-insensitively and ignores surrounding spaces', async () => {
    const local = `Mixed.Case.${randomUUID().slice(0, 8)}`;
    const id = await created({ profiles: [instoreProfile([{ type: 'email', value: `${local}@Example.COM` }])] });

    const document = await getCustomer(id);
    expect(document.body.profiles[0].identifiers).toEqual([{ type: 'email', value: `${local.toLowerCase()}@example.com` }]);

    const again = await rejectedWithoutWrites({
      profiles: [instoreProfile([{ type: 'email', value: `  ${local.toUpperCase()}@EXAMPLE.com ` }])],
    });
    expect(again.status).toBe(409);
    expect(codes(again)).toEqual([8006]);

    const merged = await addCustomer({
      profiles: [{ source: 'ECOMMERCE', identifiers: [{ type: 'email', value: `${local.toLowerCase()}@example.com` }] }],
    });
    expect(merged.status).toBe(200);
    expect(merged.body.createdId).toBe(id);
    expect(await identifierItemsOf(id)).toHaveLength(1);
    expect(await ownerOf('email', `${local.toUpperCase()}@EXAMPLE.COM`)).toBe(id);
  });

  it('treats the same value under two identifier types as two different identifiers', async () => {
    const value = uniqueValue('shared');
    const first = await created({ profiles: [instoreProfile([{ type: 'externalId', value }])] });
    const second = await created({ profiles: [instoreProfile([{ type: 'cuid', value }])] });
    expect(second).not.toBe(first);
    expect(await ownerOf('externalId', value)).toBe(first);
    expect(await ownerOf('cuid', value)).toBe(second);
  });
});

describe('merging into an existing customer (rule 3)', () => {
  it('adds a profile from a new source to the existing customer with warning 8050 and attaches its new identifiers', async () => {
    const mobile = uniqueMobile();
    const id = await created({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
    const fbId = uniqueValue('fb');
    const email = uniqueEmail();

    const reply = await addCustomer({
      profiles: [
        {
          source: 'FACEBOOK',
          accountId: 'fb-main',
          firstName: 'Asha',
          identifiers: [
            { type: 'mobile', value: mobile },
            { type: 'fbId', value: fbId },
            { type: 'email', value: email },
          ],
        },
      ],
    });

    expect(reply.status).toBe(200);
    expect(reply.body.createdId).toBe(id);
    expect(warningCodes(reply)).toEqual([8050]);
    expect(reply.body.warnings[0]).toMatchObject({ status: false, code: 8050, message: expect.any(String) });
    expect(reply.body.errors).toBeUndefined();

    const document = await getCustomer(id);
    expect(sourceAccounts(document.body)).toEqual(['FACEBOOK#fb-main', 'INSTORE']);
    const facebook = document.body.profiles.find((p: { source: string }) => p.source === 'FACEBOOK');
    expect(facebook.identifiers).toEqual(
      expect.arrayContaining([
        { type: 'mobile', value: `91${mobile}` },
        { type: 'fbId', value: fbId },
        { type: 'email', value: email },
      ]),
    );

    expect(await ownerOf('fbId', fbId)).toBe(id);
    expect(await ownerOf('email', email)).toBe(id);
    expect((await lookup({ source: 'FACEBOOK', accountId: 'fb-main', identifierName: 'fbId', identifierValue: fbId })).body.entity).toBe(
      id,
    );
    expect(await customerRecords()).toEqual(expect.arrayContaining([expect.objectContaining({ id })]));
    expect((await customerItems()).filter((c) => c.id === id)).toHaveLength(1);
    expect(await identifierItemsOf(id)).toHaveLength(3);
    expect(await profileItemsOf(id)).toHaveLength(1);
  });

  it('merges a profile in another account of the same source', async () => {
    const wechat = uniqueValue('wx');
    const id = await created({ profiles: [{ source: 'WECHAT', accountId: 'wx-main', identifiers: [{ type: 'wechat', value: wechat }] }] });

    const reply = await addCustomer({
      profiles: [{ source: 'WECHAT', accountId: 'wx-second', identifiers: [{ type: 'wechat', value: wechat }] }],
    });

    expect(reply.status).toBe(200);
    expect(reply.body.createdId).toBe(id);
    expect(warningCodes(reply)).toEqual([8050]);
    expect(sourceAccounts((await getCustomer(id)).body)).toEqual(['WECHAT#wx-main', 'WECHAT#wx-second']);
  });

  it('merges when only one of several identifiers is known and the rest are new', async () => {
    const mobile = uniqueMobile();
    const id = await created({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
    const newMobile = uniqueMobile();
    const cuid = uniqueValue('cuid');

    const reply = await addCustomer({
      profiles: [
        {
          source: 'MOBILE_APP',
          accountId: 'app-ios',
          identifiers: [
            { type: 'cuid', value: cuid },
            { type: 'email', value: uniqueEmail() },
          ],
        },
        {
          source: 'JD',
          identifiers: [
            { type: 'mobile', value: mobile },
            { type: 'jd_uname', value: newMobile },
          ],
        },
      ],
    });

    expect(reply.status).toBe(200);
    expect(reply.body.createdId).toBe(id);
    expect(warningCodes(reply)).toContain(8050);
    expect(sourceAccounts((await getCustomer(id)).body)).toEqual(['INSTORE', 'JD', 'MOBILE_APP#app-ios']);
    expect(await ownerOf('cuid', cuid)).toBe(id);
    expect(await ownerOf('jd_uname', newMobile)).toBe(id);
    expect(await identifierItemsOf(id)).toHaveLength(4);
  });

  it('does not apply extendedFields, enrollments, loyaltyType or createDate of a merging request, and warns 8200 for each', async () => {
    const mobile = uniqueMobile();
    const createDate = '2021-06-01T10:00:00+05:30';
    const id = await created({
      createDate,
      extendedFields: { gender: 'Female', city: 'Chennai' },
      profiles: [instoreProfile([{ type: 'mobile', value: mobile }])],
    });
    const customerBefore = (await customerItems()).find((c) => c.id === id)!;

    const reply = await addCustomer({
      loyaltyType: 'non_loyalty',
      createDate: '2022-02-02T09:30:00+05:30',
      extendedFields: { gender: 'Male', city: 'Pune', household_size: 4 },
      loyaltyProgramEnrollments: [],
      profiles: [{ source: 'WEBSITE', identifiers: [{ type: 'mobile', value: mobile }] }],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.createdId).toBe(id);
    expect(warningCodes(reply)).toEqual(expect.arrayContaining([8050, 8200, 8200, 8200]));
    const ignored = reply.body.warnings
      .filter((w: { code: number }) => w.code === 8200)
      .map((w: { path: string }) => w.path)
      .sort();
    expect(ignored).toEqual(['/createDate', '/extendedFields', '/loyaltyType']);

    // Enrollments get their own warning when the merging request carries some.
    const withEnrollments = await addCustomer({
      loyaltyProgramEnrollments: [{ programId: 2, tierNumber: 2, loyaltyPoints: 50 }],
      profiles: [{ source: 'TMALL', identifiers: [{ type: 'mobile', value: mobile }] }],
    });
    expect(withEnrollments.status).toBe(200);
    expect(withEnrollments.body.createdId).toBe(id);
    expect(warningCodes(withEnrollments).sort()).toEqual([8050, 8200]);
    expect(withEnrollments.body.warnings.find((w: { code: number }) => w.code === 8200).path).toBe('/loyaltyProgramEnrollments');
    // No points were credited, so no points side effect.
    expect(withEnrollments.body.sideEffects).toEqual([]);

    const document = await getCustomer(id);
    expect(document.body.loyaltyInfo).toEqual({ loyaltyType: 'loyalty' });
    expect(document.body.extendedFields).toEqual({ gender: 'Female', city: 'Chennai' });
    expect(document.body.loyaltyProgramDetails).toEqual([expect.objectContaining({ programId: 1, tierNumber: 1, loyaltyPoints: 0 })]);
    expect(sourceAccounts(document.body)).toEqual(['INSTORE', 'TMALL', 'WEBSITE']);
    const customerAfter = (await customerItems()).find((c) => c.id === id)!;
    expect(customerAfter.createDate).toBe(customerBefore.createDate);
    expect(Date.parse(String(customerAfter.createDate))).toBe(Date.parse(createDate));
    expect(customerAfter.extendedFields).toEqual(customerBefore.extendedFields);
    expect(customerAfter.enrollments).toEqual(customerBefore.enrollments);
    expect(customerAfter.loyaltyType).toBe('loyalty');
  });

  it('does not apply a loyaltyInfo.loyaltyType of a merging request and warns 8200 for it', async () => {
    const mobile = uniqueMobile();
    const id = await created({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
    const reply = await addCustomer({
      loyaltyInfo: { loyaltyType: 'non_loyalty' },
      profiles: [{ source: 'WEBSITE', identifiers: [{ type: 'mobile', value: mobile }] }],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.createdId).toBe(id);
    expect(warningCodes(reply).sort()).toEqual([8050, 8200]);
    expect(reply.body.warnings.find((w: { code: number }) => w.code === 8200).path).toMatch(/^\/loyaltyInfo(\/loyaltyType)?$/);
    expect((await getCustomer(id)).body.loyaltyInfo).toEqual({ loyaltyType: 'loyalty' });
  });

  it('does not warn about customer-level details a merging request only sends as null or empty', async () => {
    const mobile = uniqueMobile();
    const id = await created({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
    const reply = await addCustomer({
      extendedFields: { city: '', gender: null },
      profiles: [{ source: 'TAOBAO', identifiers: [{ type: 'mobile', value: mobile }] }],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.createdId).toBe(id);
    expect(warningCodes(reply)).toEqual([8050]);
  });
});

describe('the same source again (rule 4)', () => {
  it('answers 409 with code 8006 and writes nothing when the customer already has a profile in the source', async () => {
    const mobile = uniqueMobile();
    const email = uniqueEmail();
    const body = {
      profiles: [
        instoreProfile([
          { type: 'mobile', value: mobile },
          { type: 'email', value: email },
        ]),
      ],
    };
    const id = await created(body);

    const reply = await rejectedWithoutWrites(body);

    expect(reply.status).toBe(409);
    expect(codes(reply)).toEqual([8006]);
    expect(reply.body.errors[0]).toMatchObject({ status: false, code: 8006, message: expect.any(String) });
    expect(reply.body.createdId).toBeUndefined();
    expect(sourceAccounts((await getCustomer(id)).body)).toEqual(['INSTORE']);
  });

  it('does not attach a new identifier sent along with a known one in a source the customer already has', async () => {
    const mobile = uniqueMobile();
    const id = await created({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
    const newEmail = uniqueEmail();

    const reply = await rejectedWithoutWrites({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: mobile },
          { type: 'email', value: newEmail },
        ]),
      ],
    });

    expect(reply.status).toBe(409);
    expect(codes(reply)).toEqual([8006]);
    expect(await ownerOf('email', newEmail)).toBe('404/8015');
    expect(await identifierItemsOf(id)).toHaveLength(1);
  });

  it('answers 8006 for the same source and account, also when that profile was added by a merge', async () => {
    const mobile = uniqueMobile();
    const id = await created({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
    const merged = await addCustomer({
      profiles: [{ source: 'LINE', accountId: 'line-main', identifiers: [{ type: 'mobile', value: mobile }] }],
    });
    expect(merged.status).toBe(200);
    expect(merged.body.createdId).toBe(id);

    const line = uniqueValue('line');
    const reply = await rejectedWithoutWrites({
      profiles: [
        {
          source: 'LINE',
          accountId: 'line-main',
          identifiers: [
            { type: 'mobile', value: mobile },
            { type: 'line', value: line },
          ],
        },
      ],
    });

    expect(reply.status).toBe(409);
    expect(codes(reply)).toEqual([8006]);
    expect(await ownerOf('line', line)).toBe('404/8015');
    expect(await profileItemsOf(id)).toHaveLength(1);
  });

  it('rejects a whole request with 8006 when one of its profiles is in a source the customer already has', async () => {
    const mobile = uniqueMobile();
    const id = await created({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
    const website = uniqueValue('web');

    const reply = await rejectedWithoutWrites({
      profiles: [
        {
          source: 'WEBSITE',
          identifiers: [
            { type: 'externalId', value: website },
            { type: 'mobile', value: mobile },
          ],
        },
        instoreProfile([{ type: 'mobile', value: mobile }]),
      ],
    });

    expect(reply.status).toBe(409);
    expect(codes(reply)).toEqual([8006]);
    expect(reply.body.errors[0].path).toBe('/profiles/1');
    expect(sourceAccounts((await getCustomer(id)).body)).toEqual(['INSTORE']);
    expect(await ownerOf('externalId', website)).toBe('404/8015');
  });
});

describe('identifiers of two customers (rule 5)', () => {
  it('answers 409 with code 8052 and writes nothing when the identifiers belong to different customers', async () => {
    const mobile = uniqueMobile();
    const email = uniqueEmail();
    const first = await created({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
    const second = await created({ profiles: [instoreProfile([{ type: 'email', value: email }])] });
    expect(second).not.toBe(first);
    const newCuid = uniqueValue('cuid');

    const reply = await rejectedWithoutWrites({
      profiles: [
        {
          source: 'WEBSITE',
          identifiers: [
            { type: 'mobile', value: mobile },
            { type: 'email', value: email },
            { type: 'cuid', value: newCuid },
          ],
        },
      ],
    });

    expect(reply.status).toBe(409);
    expect(codes(reply)).toEqual([8052]);
    expect(await ownerOf('mobile', mobile)).toBe(first);
    expect(await ownerOf('email', email)).toBe(second);
    expect(await ownerOf('cuid', newCuid)).toBe('404/8015');
    expect(sourceAccounts((await getCustomer(first)).body)).toEqual(['INSTORE']);
    expect(sourceAccounts((await getCustomer(second)).body)).toEqual(['INSTORE']);
  });

  it('answers 8052 also when the identifiers of the two customers sit in different profiles of the request', async () => {
    const mobile = uniqueMobile();
    const email = uniqueEmail();
    await created({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
    await created({ profiles: [{ source: 'WEBSITE', identifiers: [{ type: 'email', value: email }] }] });

    const reply = await rejectedWithoutWrites({
      profiles: [
        { source: 'TMALL', identifiers: [{ type: 'mobile', value: mobile }] },
        { source: 'TAOBAO', identifiers: [{ type: 'email', value: email }] },
      ],
    });
    expect(reply.status).toBe(409);
    expect(codes(reply)).toEqual([8052]);
  });
});

describe('card numbers (rule 1)', () => {
  const card = (value: string) => ({ type: 'card', value, seriesId: 502, statusLabel: 'ACTIVE' });
  const cardNumber = () => `7${String(Date.now()).slice(-9)}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;

  it('issues a card number to one customer only: a second customer with it gets 409 / 3009 and nothing is written', async () => {
    const number = cardNumber();
    const first = await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }, card(number)])] });
    expect(first.status).toBe(200);
    expect(first.body.sideEffects).toEqual([
      { type: 'card', cardNumber: number, seriesId: 502, seriesCode: 'PARTNER-EXT', statusLabel: 'ACTIVE' },
    ]);
    const mobile = uniqueMobile();

    const reply = await rejectedWithoutWrites({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: mobile },
          { ...card(number), type: 'cardnumber' },
        ]),
      ],
    });

    expect(reply.status).toBe(409);
    expect(codes(reply)).toEqual([3009]);
    expect(await ownerOf('card', number)).toBe(first.body.createdId);
    expect(await ownerOf('mobile', mobile)).toBe('404/8015');
  });
});

describe('rejections: status, codes and paths, and nothing written', () => {
  const valid = () => instoreProfile([{ type: 'mobile', value: uniqueMobile() }]);

  it('answers 400 with code 400 to malformed JSON', async () => {
    const reply = await rejectedWithoutWrites(undefined, { rawBody: '{"profiles": [' });
    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([400]);
    expect(reply.body.errors[0]).toMatchObject({ status: false, code: 400, message: expect.any(String) });
  });

  it('answers 400 to a JSON body that is not an object', async () => {
    for (const rawBody of ['[]', '"customer"', 'null', '42']) {
      const reply = await rejectedWithoutWrites(undefined, { rawBody });
      expect(reply.status).toBe(400);
      expect(codes(reply)).toEqual([400]);
    }
  });

  it('answers 400 with the path of each schema violation', async () => {
    const missing = await rejectedWithoutWrites({ loyaltyType: 'loyalty' });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([expect.objectContaining({ code: 400, path: '/profiles' })]);

    const empty = await rejectedWithoutWrites({ profiles: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.errors).toEqual([expect.objectContaining({ code: 400, path: '/profiles' })]);

    const eleven = await rejectedWithoutWrites({ profiles: Array.from({ length: 11 }, valid) });
    expect(eleven.status).toBe(400);
    expect(codes(eleven)).toEqual([400]);

    const wrong = await rejectedWithoutWrites({
      loyaltyType: 'gold',
      profiles: [{ ...valid(), firstName: 'x'.repeat(101), lastName: false }],
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 400, path: '/loyaltyType' }),
        expect.objectContaining({ code: 400, path: '/profiles/0/firstName' }),
        expect.objectContaining({ code: 400, path: '/profiles/0/lastName' }),
      ]),
    );
    expect(wrong.body.errors).toHaveLength(3);
  });

  it('answers 400 to two profiles in the same source and account', async () => {
    const mobile = uniqueMobile();
    const reply = await rejectedWithoutWrites({
      profiles: [
        { source: 'WECHAT', accountId: 'wx-main', identifiers: [{ type: 'mobile', value: mobile }] },
        { source: 'WECHAT', accountId: 'wx-main', identifiers: [{ type: 'wechat', value: uniqueValue('wx') }] },
      ],
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([expect.objectContaining({ code: 400, path: '/profiles/1' })]);
  });

  it('answers 400 to two identifiers of one type in one profile', async () => {
    const reply = await rejectedWithoutWrites({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: uniqueMobile() },
          { type: 'mobile', value: uniqueMobile() },
        ]),
      ],
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([expect.objectContaining({ code: 400, path: '/profiles/0/identifiers/1' })]);
  });

  it('answers 8003 to an invalid source, in the body or in the query', async () => {
    const inBody = await rejectedWithoutWrites({ profiles: [{ ...valid(), source: 'MYSPACE' }] });
    expect(inBody.status).toBe(400);
    expect(inBody.body.errors).toEqual([expect.objectContaining({ code: 8003, path: '/profiles/0/source' })]);

    const lowerCase = await rejectedWithoutWrites({ profiles: [{ ...valid(), source: 'instore' }] });
    expect(lowerCase.status).toBe(400);
    expect(codes(lowerCase)).toEqual([8003]);

    const { source: _omitted, ...withoutSource } = valid();
    const inQuery = await rejectedWithoutWrites({ profiles: [withoutSource] }, { query: { source: 'MYSPACE' } });
    expect(inQuery.status).toBe(400);
    expect(codes(inQuery)).toEqual([8003]);
  });

  it('answers 8004 to a profile without source', async () => {
    const { source: _omitted, ...withoutSource } = valid();
    const reply = await rejectedWithoutWrites({ profiles: [valid(), withoutSource] });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([expect.objectContaining({ code: 8004, path: '/profiles/1/source' })]);
  });

  it('answers 8005 to a profile without any valid identifier', async () => {
    const none = await rejectedWithoutWrites({ profiles: [{ source: 'INSTORE', firstName: 'Asha' }] });
    expect(none.status).toBe(400);
    expect(none.body.errors).toEqual([expect.objectContaining({ code: 8005, path: '/profiles/0/identifiers' })]);

    const empty = await rejectedWithoutWrites({ profiles: [instoreProfile([])] });
    expect(empty.status).toBe(400);
    expect(empty.body.errors).toEqual([expect.objectContaining({ code: 8005, path: '/profiles/0/identifiers' })]);

    const blank = await rejectedWithoutWrites({ profiles: [instoreProfile([{ type: 'externalId', value: '   ' }])] });
    expect(blank.status).toBe(400);
    expect(blank.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ code: 8005, path: '/profiles/0/identifiers' })]));
    expect(blank.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/profiles/0/identifiers/0/value' })]));
  });

  it('answers 8005 to a profile whose only identifier is of an unknown type', async () => {
    const reply = await rejectedWithoutWrites({ profiles: [instoreProfile([{ type: 'phone', value: uniqueMobile() }])] });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ code: 8005, path: '/profiles/0/identifiers' })]));
  });

  it('answers 8014 to an invalid mobile number', async () => {
    for (const value of ['12345', '+91 12345 67890', '98765-4321x', '+44 20 7946 0958']) {
      const reply = await rejectedWithoutWrites({
        profiles: [
          instoreProfile([
            { type: 'email', value: uniqueEmail() },
            { type: 'mobile', value },
          ]),
        ],
      });
      expect({ value, status: reply.status }).toEqual({ value, status: 400 });
      expect(reply.body.errors).toEqual([expect.objectContaining({ code: 8014, path: '/profiles/0/identifiers/1/value' })]);
    }
  });

  it('answers 8055 to an invalid email address', async () => {
    for (const value of ['not-an-email', 'a@', '@example.com', 'two@@example.com', 'spaced name@example.com']) {
      const reply = await rejectedWithoutWrites({
        profiles: [
          instoreProfile([
            { type: 'mobile', value: uniqueMobile() },
            { type: 'email', value },
          ]),
        ],
      });
      expect({ value, status: reply.status }).toEqual({ value, status: 400 });
      expect(reply.body.errors).toEqual([expect.objectContaining({ code: 8055, path: '/profiles/0/identifiers/1/value' })]);
    }
  });

  it('answers 8055 to an email address longer than 255 characters', async () => {
    const value = `${'x'.repeat(62)}@${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(60)}.example.com`;
    expect(value.length).toBeGreaterThan(255);
    const reply = await rejectedWithoutWrites({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: uniqueMobile() },
          { type: 'email', value },
        ]),
      ],
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([expect.objectContaining({ code: 8055, path: '/profiles/0/identifiers/1/value' })]);
  });

  it('answers 8045 to a multi-account source without accountId', async () => {
    for (const source of ['FACEBOOK', 'WECHAT', 'LINE', 'MOBILE_APP', 'WEB_ENGAGE']) {
      const reply = await rejectedWithoutWrites({ profiles: [{ ...valid(), source }] });
      expect({ source, status: reply.status }).toEqual({ source, status: 400 });
      expect(reply.body.errors).toEqual([expect.objectContaining({ code: 8045, path: '/profiles/0/accountId' })]);
    }
  });

  it('answers 8127 to an accountId that is not an account of the org for that source', async () => {
    const unknown = await rejectedWithoutWrites({ profiles: [{ ...valid(), source: 'FACEBOOK', accountId: 'fb-unknown' }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([expect.objectContaining({ code: 8127, path: '/profiles/0/accountId' })]);

    const otherSource = await rejectedWithoutWrites({ profiles: [{ ...valid(), source: 'WECHAT', accountId: 'fb-main' }] });
    expect(otherSource.status).toBe(400);
    expect(codes(otherSource)).toEqual([8127]);
  });

  it('answers 401 to a registration without credentials', async () => {
    const reply = await rejectedWithoutWrites({ profiles: [valid()] }, { till: null });
    expect(reply.status).toBe(401);
    expect(codes(reply)).toEqual([401]);
  });

  it('accepts a body of exactly 64 KiB and answers 413 to one byte more', async () => {
    const sized = (bytes: number) => {
      const body = { profiles: [valid()], padding: '' };
      body.padding = 'x'.repeat(bytes - Buffer.byteLength(JSON.stringify(body)));
      const rawBody = JSON.stringify(body);
      expect(Buffer.byteLength(rawBody)).toBe(bytes);
      return rawBody;
    };
    const tooLarge = await rejectedWithoutWrites(undefined, { rawBody: sized(64 * 1024 + 1) });
    expect(tooLarge.status).toBe(413);
    expect(codes(tooLarge)).toEqual([413]);

    const atLimit = await addCustomer(undefined, { rawBody: sized(64 * 1024) });
    expect(atLimit.status).toBe(200);
    expect(atLimit.body.warnings).toEqual([expect.objectContaining({ code: 8200, path: '/padding' })]);
  });

  it('counts the 64 KiB limit in bytes, not characters', async () => {
    const body = { profiles: [valid()], note: 'é'.repeat(33_000) };
    expect(JSON.stringify(body).length).toBeLessThan(64 * 1024);
    const reply = await rejectedWithoutWrites(body);
    expect(reply.status).toBe(413);
    expect(codes(reply)).toEqual([413]);
  });

  it('answers 415 to a body that is not sent as JSON', async () => {
    const body = { profiles: [valid()] };
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      const reply = await rejectedWithoutWrites(body, { headers: { 'Content-Type': contentType } });
      expect({ contentType, status: reply.status }).toEqual({ contentType, status: 415 });
      expect(codes(reply)).toEqual([415]);
    }
    const withCharset = await addCustomer(body, { headers: { 'Content-Type': 'application/json; charset=utf-8' } });
    expect(withCharset.status).toBe(200);
  });

  it('reports every problem of a request at once, each with its JSON pointer', async () => {
    const { source: _omitted, ...withoutSource } = valid();
    const reply = await rejectedWithoutWrites({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: '12345' },
          { type: 'email', value: 'not-an-email' },
        ]),
        withoutSource,
        { source: 'FACEBOOK', identifiers: [{ type: 'fbId', value: uniqueValue('fb') }] },
        { source: 'WECHAT', accountId: 'wx-unknown', identifiers: [{ type: 'wechat', value: uniqueValue('wx') }] },
        { source: 'WEBSITE', identifiers: [] },
      ],
    });

    expect(reply.status).toBe(400);
    const found = reply.body.errors.map((e: { code: number; path?: string }) => ({ code: e.code, path: e.path }));
    expect(found).toEqual(
      expect.arrayContaining([
        { code: 8014, path: '/profiles/0/identifiers/0/value' },
        { code: 8055, path: '/profiles/0/identifiers/1/value' },
        { code: 8005, path: '/profiles/0/identifiers' },
        { code: 8004, path: '/profiles/1/source' },
        { code: 8045, path: '/profiles/2/accountId' },
        { code: 8127, path: '/profiles/3/accountId' },
        { code: 8005, path: '/profiles/4/identifiers' },
      ]),
    );
    expect(found).toHaveLength(7);
    for (const error of reply.body.errors) expect(error).toMatchObject({ status: false, message: expect.any(String) });
  });

  it('reports schema violations and rule violations of one request together', async () => {
    const reply = await rejectedWithoutWrites({
      profiles: [
        { ...valid(), source: 'MYSPACE' },
        instoreProfile([
          { type: 'mobile', value: '12345' },
          { type: 'email', value: uniqueEmail() },
        ]),
      ],
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 8003, path: '/profiles/0/source' }),
        expect.objectContaining({ code: 8014, path: '/profiles/1/identifiers/0/value' }),
      ]),
    );
  });
});

describe('a source the org has not enabled', () => {
  const till = `narrow.till.${randomUUID().slice(0, 8)}`;
  const asNarrowTill = { till: null, headers: { Authorization: basicAuth(till, 'narrow-password') } };

  beforeAll(async () => {
    await saveOrg({
      orgId: 901,
      name: 'Narrow Shop',
      baseCountry: 'IN',
      earliestRegistrationDate: '2000-01-01',
      sources: { INSTORE: { accounts: [] }, FACEBOOK: { accounts: ['fb-main'] } },
      tills: [{ username: till, password: 'narrow-password' }],
      extendedFields: [],
      cardSeries: [],
      cardStatusLabels: ['ACTIVE'],
      programs: [{ id: 1, name: 'Default', isDefault: true, tiers: [{ number: 1, name: 'Basic' }] }],
    });
  });

  it('answers 8003 to a profile in a source that exists but is not enabled for the org', async () => {
    const mobile = uniqueMobile();
    const reply = await rejectedWithoutWrites(
      { profiles: [{ source: 'WEBSITE', identifiers: [{ type: 'mobile', value: mobile }] }] },
      asNarrowTill,
    );
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([expect.objectContaining({ code: 8003, path: '/profiles/0/source' })]);

    const inQuery = await rejectedWithoutWrites(
      { profiles: [{ identifiers: [{ type: 'mobile', value: mobile }] }] },
      { ...asNarrowTill, query: { source: 'WECHAT', accountId: 'wx-main' } },
    );
    expect(inQuery.status).toBe(400);
    expect(codes(inQuery)).toContain(8003);

    const enabled = await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] }, asNarrowTill);
    expect(enabled.status).toBe(200);
  });
});

describe('unknown keys and ignored parts', () => {
  it('ignores unknown keys with a warning 8200 naming each path, and still registers', async () => {
    const mobile = uniqueMobile();
    const reply = await addCustomer({
      nickname: 'Ash',
      profiles: [
        {
          source: 'INSTORE',
          firstName: 'Asha',
          middleName: 'K',
          identifiers: [{ type: 'mobile', value: mobile, verified: true }],
        },
      ],
      loyaltyInfo: { loyaltyType: 'loyalty', tier: 'gold' },
      'odd/key~name': 1,
    });

    expect(reply.status).toBe(200);
    const paths = reply.body.warnings.map((w: { code: number; path: string }) => `${w.code} ${w.path}`).sort();
    expect(paths).toEqual([
      '8200 /loyaltyInfo/tier',
      '8200 /nickname',
      '8200 /odd~1key~0name',
      '8200 /profiles/0/identifiers/0/verified',
      '8200 /profiles/0/middleName',
    ]);
    for (const warning of reply.body.warnings) expect(warning).toMatchObject({ status: false, message: expect.any(String) });
    const document = await getCustomer(reply.body.createdId);
    expect(document.body.profiles[0].identifiers).toEqual([{ type: 'mobile', value: `91${mobile}` }]);
    expect(document.body.profiles[0]).not.toHaveProperty('middleName');
  });

  it('ignores an activity sent by the client with a warning 8200 and assigns its own', async () => {
    const reply = await addCustomer({ activity: 'INACTIVE', profiles: [valid()] });
    expect(reply.status).toBe(200);
    expect(reply.body.warnings).toEqual([expect.objectContaining({ code: 8200, path: '/activity' })]);
    const document = await getCustomer(reply.body.createdId);
    expect(document.body.activity).not.toBe('INACTIVE');
  });

  it('keeps the warnings for unknown keys in a rejected request', async () => {
    const reply = await rejectedWithoutWrites({ nickname: 'Ash', profiles: [instoreProfile([{ type: 'mobile', value: '12345' }])] });
    expect(reply.status).toBe(400);
    expect(codes(reply)).toContain(8014);
    expect(reply.body.warnings).toEqual([expect.objectContaining({ code: 8200, path: '/nickname' })]);
  });

  function valid() {
    return instoreProfile([{ type: 'mobile', value: uniqueMobile() }]);
  }
});
