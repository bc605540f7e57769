import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { handler as addHandler } from '../../handlers/addCustomer';
import { addCustomer, expectRefused, getCustomer, instoreProfile, lookup, registerAndGet, uniqueMobile } from '../support/customers';
import { call, codes, warningCodes } from '../support/http';
import { useDemoTable } from '../support/table';

// Every part of a `POST /v2/customers` body beyond identity (SPEC sections 3, 4, 5 and 7):
// extended fields, custom fields, comm channels, createDate, associatedWith,
// endPointsEnabled, activity, what a merge takes and leaves, and the example events.

useDemoTable();
jest.setTimeout(120_000);

const uniqueEmail = (name = 'person') => `${name}.${randomUUID().slice(0, 8)}@example.com`;
const mobile = () => ({ type: 'mobile', value: uniqueMobile() });
/** An INSTORE profile with a fresh mobile and any other profile keys. */
const freshProfile = (extra: Record<string, unknown> = {}) => instoreProfile([mobile()], extra);

const instant = (value: unknown) => (typeof value === 'string' ? Date.parse(value) : value);

/** Org 100's extended fields, each with a value of its type. */
const VALID_EXTENDED_FIELDS = {
  gender: 'Female',
  dob: '1990-04-12',
  city: 'Pune',
  preferred_store: 'Koregaon Park',
  nationality: 'IN',
  age_group: '25-34',
  household_size: 4,
  annual_income: 1250000.75,
  marketing_opt_in_at: '2024-05-01T09:30:00+05:30',
};

describe('extended fields (org 100)', () => {
  test('a value of every enabled field and type is stored and returned by GET', async () => {
    const { reply, customer } = await registerAndGet({ profiles: [freshProfile()], extendedFields: VALID_EXTENDED_FIELDS });
    expect(reply.body.warnings).toEqual([]);
    expect(customer.extendedFields).toEqual(VALID_EXTENDED_FIELDS);
  });

  test('values at the length limits are accepted: city of 100 and preferred_store of 50 characters', async () => {
    const extendedFields = { city: 'c'.repeat(100), preferred_store: 's'.repeat(50) };
    const { customer } = await registerAndGet({ profiles: [freshProfile()], extendedFields });
    expect(customer.extendedFields).toEqual(extendedFields);
  });

  test('every enum value of gender and age_group is accepted', async () => {
    for (const [gender, age_group] of [
      ['Male', '18-24'],
      ['Other', '45+'],
      ['Female', '35-44'],
    ]) {
      const { customer } = await registerAndGet({ profiles: [freshProfile()], extendedFields: { gender, age_group } });
      expect(customer.extendedFields).toEqual({ gender, age_group });
    }
  });

  test('null and "" values are dropped silently', async () => {
    const { reply, customer } = await registerAndGet({
      profiles: [freshProfile()],
      extendedFields: { city: 'Nagpur', dob: null, gender: '', household_size: null, annual_income: '' },
    });
    expect(reply.body.warnings).toEqual([]);
    expect(customer.extendedFields).toEqual({ city: 'Nagpur' });
  });

  test('a value of only spaces is dropped like an empty one, not stored as an empty string', async () => {
    const { reply, customer } = await registerAndGet({
      profiles: [freshProfile()],
      extendedFields: { city: '   ', preferred_store: 'Baner' },
    });
    expect(reply.body.warnings).toEqual([]);
    expect(customer.extendedFields).toEqual({ preferred_store: 'Baner' });
  });

  test('string lengths count characters: a preferred_store of 50 characters outside the BMP is accepted', async () => {
    const preferred_store = '\u{1D4E2}'.repeat(50);
    expect([...preferred_store]).toHaveLength(50);
    const { customer } = await registerAndGet({ profiles: [freshProfile()], extendedFields: { preferred_store } });
    expect(customer.extendedFields).toEqual({ preferred_store });
  });

  test.each(['IN', 'US', 'DE', 'AX', 'AQ', 'BV', 'GS', 'HM', 'PN', 'TF', 'UM'])(
    'nationality %s, an ISO 3166-1 alpha-2 code, is accepted',
    async (nationality) => {
      const { customer } = await registerAndGet({ profiles: [freshProfile()], extendedFields: { nationality } });
      expect(customer.extendedFields).toEqual({ nationality });
    },
  );

  test.each([
    ['a name that is not enabled', { shoe_size: '42' }, 'shoe_size'],
    ['a name with a slash, escaped in the path', { 'a/b': 'x' }, 'a~1b'],
    ['gender outside its enum', { gender: 'Unknown' }, 'gender'],
    ['gender in the wrong case', { gender: 'female' }, 'gender'],
    ['age_group outside its enum', { age_group: '50+' }, 'age_group'],
    ['city longer than 100 characters', { city: 'c'.repeat(101) }, 'city'],
    ['preferred_store longer than 50 characters', { preferred_store: 's'.repeat(51) }, 'preferred_store'],
    ['city as a number', { city: 42 }, 'city'],
    ['gender as a boolean', { gender: true }, 'gender'],
    ['dob that is not a day', { dob: '1990-02-30' }, 'dob'],
    ['dob in another format', { dob: '12/04/1990' }, 'dob'],
    ['nationality that is no ISO 3166-1 alpha-2 code', { nationality: 'XX' }, 'nationality'],
    ['nationality as a country name', { nationality: 'India' }, 'nationality'],
    ['household_size with a fraction', { household_size: 2.5 }, 'household_size'],
    ['household_size in words', { household_size: 'four' }, 'household_size'],
    ['annual_income in words', { annual_income: 'lots' }, 'annual_income'],
    ['marketing_opt_in_at without offset', { marketing_opt_in_at: '2024-05-01T09:30:00' }, 'marketing_opt_in_at'],
    ['marketing_opt_in_at as a date only', { marketing_opt_in_at: '2024-05-01' }, 'marketing_opt_in_at'],
  ])('%s is refused with 400/91015 at its path and nothing is written', async (_case, extendedFields, name) => {
    const reply = await expectRefused({ profiles: [freshProfile()], extendedFields }, 400, [91015]);
    expect(reply.body.errors[0].path).toBe(`/extendedFields/${name}`);
  });

  test('every invalid extended field of a request is reported, each at its own path', async () => {
    const reply = await expectRefused(
      {
        profiles: [freshProfile()],
        extendedFields: { ...VALID_EXTENDED_FIELDS, gender: 'male', dob: '1990-13-01', shoe_size: '42', household_size: 'many' },
      },
      400,
      [91015, 91015, 91015, 91015],
    );
    expect(reply.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      '/extendedFields/dob',
      '/extendedFields/gender',
      '/extendedFields/household_size',
      '/extendedFields/shoe_size',
    ]);
  });

  test('an org without extended fields (200) refuses any name with 91015', async () => {
    const reply = await expectRefused(
      { profiles: [freshProfile()], extendedFields: { gender: 'Male', city: 'Pune' } },
      400,
      [91015, 91015],
      { till: 'other' },
    );
    expect(reply.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['/extendedFields/city', '/extendedFields/gender']);
  });
});

describe('custom fields on profiles', () => {
  test('custom fields at every bound (50 keys, key of 64, value of 255 characters) are stored and returned by GET', async () => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < 48; i++) fields[`field_${i}`] = `value ${i}`;
    fields['k'.repeat(64)] = 'long key';
    fields.long_value = 'v'.repeat(255);
    expect(Object.keys(fields)).toHaveLength(50);

    const { customer } = await registerAndGet({ profiles: [freshProfile({ fields })] });
    expect(customer.profiles[0].fields).toEqual(fields);
  });

  test.each([
    ['51 keys', Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`f${i}`, 'x']))],
    ['a key of 65 characters', { ['k'.repeat(65)]: 'x' }],
    ['a value of 256 characters', { note: 'v'.repeat(256) }],
    ['a value that is not a string (nor a number read as its digits)', { visits: true }],
  ])('custom fields with %s are refused with 400 and nothing is written', async (_case, fields) => {
    const reply = await expectRefused({ profiles: [freshProfile({ fields })] }, 400, expect.arrayContaining([400]));
    expect(new Set(codes(reply))).toEqual(new Set([400]));
    for (const error of reply.body.errors) expect(error.path).toMatch(/^\/profiles\/0\/fields/);
  });
});

describe('comm channels', () => {
  test('channels are stored with boolean flags (also from "true"/"false"), meta and attributes, and returned by GET', async () => {
    const national = uniqueMobile();
    const email = uniqueEmail('asha');
    const { customer } = await registerAndGet({
      profiles: [
        freshProfile({
          commChannels: [
            {
              type: 'email',
              value: email,
              primary: 'true',
              verified: 'false',
              subscribed: true,
              attributes: { preferredTime: 'evening', optIns: 2, doubleOptIn: true },
            },
            {
              type: 'mobile',
              value: `+91 ${national.slice(0, 5)} ${national.slice(5)}`,
              primary: true,
              verified: 'true',
              subscribed: 'false',
              meta: { residence: 'true' },
            },
            {
              type: 'mobilePush',
              value: 'push-token-2f9c',
              primary: false,
              verified: false,
              subscribed: 'true',
              meta: { lastViewedDate: '2024-05-01T10:00:00+05:30' },
            },
            { type: 'wechat', value: 'wx-asha-1', primary: 'false', verified: 'false', subscribed: 'false' },
          ],
        }),
      ],
    });

    const channels = customer.profiles[0].commChannels;
    expect(channels).toHaveLength(4);
    const [emailChannel, mobileChannel, pushChannel, wechatChannel] = channels;

    expect(emailChannel).toEqual(expect.objectContaining({ type: 'email', primary: true, verified: false, subscribed: true }));
    expect(String(emailChannel.value).toLowerCase()).toBe(email.toLowerCase());
    expect(emailChannel.attributes).toEqual({ preferredTime: 'evening', optIns: 2, doubleOptIn: true });

    expect(mobileChannel).toEqual(expect.objectContaining({ type: 'mobile', primary: true, verified: true, subscribed: false }));
    expect(String(mobileChannel.value).replace(/\D/g, '')).toMatch(new RegExp(`${national}$`));
    expect(mobileChannel.meta).toEqual({ residence: true });

    expect(pushChannel).toEqual(
      expect.objectContaining({ type: 'mobilePush', value: 'push-token-2f9c', primary: false, verified: false, subscribed: true }),
    );
    expect(pushChannel.meta).toEqual({ lastViewedDate: '2024-05-01T10:00:00+05:30' });

    expect(wechatChannel).toEqual(
      expect.objectContaining({ type: 'wechat', value: 'wx-asha-1', primary: false, verified: false, subscribed: false }),
    );
  });

  test.each([
    ['an invalid email', { type: 'email', value: 'not-an-email' }, 8057, '/profiles/0/commChannels/0/value'],
    ['an invalid mobile', { type: 'mobile', value: '12345' }, 8058, '/profiles/0/commChannels/0/value'],
    ['an unknown type', { type: 'fax', value: '0201234567' }, 8010, '/profiles/0/commChannels/0'],
    [
      'meta.lastViewedDate on an email channel',
      { type: 'email', value: 'seen@example.com', meta: { lastViewedDate: '2024-05-01T10:00:00+05:30' } },
      8010,
      '/profiles/0/commChannels/0',
    ],
    [
      'a flag that is neither boolean nor "true"/"false"',
      { type: 'wechat', value: 'wx-flag', primary: 'yes' },
      8010,
      '/profiles/0/commChannels/0',
    ],
    ['no value', { type: 'wechat' }, 8010, '/profiles/0/commChannels/0'],
    ['a value of only spaces', { type: 'wechat', value: '   ' }, 8010, '/profiles/0/commChannels/0'],
    [
      'meta.lastViewedDate on an android channel',
      { type: 'android', value: 'android-token-1', meta: { lastViewedDate: '2024-05-01T10:00:00+05:30' } },
      8010,
      '/profiles/0/commChannels/0',
    ],
  ])('a channel with %s is refused with its code and nothing is written', async (_case, channel, code, path) => {
    const reply = await expectRefused({ profiles: [freshProfile({ commChannels: [channel] })] }, 400, [code]);
    expect(reply.body.errors[0].path.startsWith(path)).toBe(true);
  });
});

describe('createDate, associatedWith, endPointsEnabled and activity', () => {
  test('a createDate in the past is the attribution date of the profile', async () => {
    const { customer } = await registerAndGet({ profiles: [freshProfile()], createDate: '2021-06-15T10:30:00+05:30' });
    expect(instant(customer.profiles[0].attribution.createDate)).toBe(Date.parse('2021-06-15T10:30:00+05:30'));
    expect(customer.profiles[0].attribution.createdBy).toEqual({ code: 'demo.till', type: 'TILL' });
  });

  test('without createDate the registration is dated now', async () => {
    const before = Date.now();
    const { customer } = await registerAndGet({ profiles: [freshProfile()] });
    const created = instant(customer.profiles[0].attribution.createDate) as number;
    expect(created).toBeGreaterThanOrEqual(before - 1000);
    expect(created).toBeLessThanOrEqual(Date.now() + 1000);
  });

  test.each([
    ['a day in the future', () => new Date(Date.now() + 24 * 3600 * 1000).toISOString()],
    ['a year in the future', () => `${new Date().getUTCFullYear() + 1}-01-01T00:00:00+05:30`],
    ['before 2000-01-01', () => '1999-12-31T23:59:59Z'],
    ['long before 2000-01-01', () => '1985-07-01T12:00:00+05:30'],
  ])('a createDate %s is refused with 8017 and nothing is written', async (_case, createDate) => {
    const reply = await expectRefused({ profiles: [freshProfile()], createDate: createDate() }, 400, [8017]);
    expect(reply.body.errors[0].path).toBe('/createDate');
  });

  test('a createDate that is no date-time with offset is refused with 400 and nothing is written', async () => {
    const reply = await expectRefused({ profiles: [freshProfile()], createDate: '15/06/2021' }, 400, [400]);
    expect(reply.body.errors[0].path).toBe('/createDate');
  });

  test('an unknown associatedWith gives warning 8077 and the customer is associated with the authenticated till', async () => {
    const { reply, customer } = await registerAndGet({ profiles: [freshProfile()], associatedWith: 'nobody.till' });
    expect(warningCodes(reply)).toEqual([8077]);
    expect(reply.body.warnings[0]).toEqual(expect.objectContaining({ status: false, code: 8077, path: '/associatedWith' }));
    expect(customer.associatedWith).toBe('demo.till');
  });

  test('a till of another org is unknown to associatedWith (8077)', async () => {
    const { reply, customer } = await registerAndGet({ profiles: [freshProfile()], associatedWith: 'other.till' });
    expect(warningCodes(reply)).toEqual([8077]);
    expect(customer.associatedWith).toBe('demo.till');
  });

  test('another till of the org (store2.till) is accepted as associatedWith without warning', async () => {
    const { reply, customer } = await registerAndGet({ profiles: [freshProfile()], associatedWith: 'store2.till' });
    expect(reply.body.warnings).toEqual([]);
    expect(customer.associatedWith).toBe('store2.till');
    expect(customer.profiles[0].attribution.createdBy).toEqual({ code: 'demo.till', type: 'TILL' });
  });

  test('without associatedWith the customer is associated with the authenticated till', async () => {
    const { customer } = await registerAndGet({ profiles: [freshProfile()] }, { till: 'store2' });
    expect(customer.associatedWith).toBe('store2.till');
  });

  test('endPointsEnabled is stored and returned by GET', async () => {
    const endPointsEnabled = ['REFERRAL_ENDPOINT', 'TIMELINE_ENDPOINT', 'DVS_ENDPOINT', 'POINTENGINE_ENDPOINT'];
    const { customer } = await registerAndGet({ profiles: [freshProfile()], endPointsEnabled });
    expect([...customer.endPointsEnabled].sort()).toEqual([...endPointsEnabled].sort());
  });

  test('a customer registered without endPointsEnabled has none', async () => {
    const { customer } = await registerAndGet({ profiles: [freshProfile()] });
    expect(customer.endPointsEnabled).toEqual([]);
  });

  test('an unknown endpoint is refused with 400 and nothing is written', async () => {
    await expectRefused({ profiles: [freshProfile()], endPointsEnabled: ['REFERRAL_ENDPOINT', 'FAX_ENDPOINT'] }, 400, [400]);
  });

  test('an activity sent is ignored with warning 8200', async () => {
    const { reply, customer } = await registerAndGet({ profiles: [freshProfile()], activity: 'DORMANT' });
    expect(warningCodes(reply)).toEqual([8200]);
    expect(reply.body.warnings[0]).toEqual(expect.objectContaining({ status: false, code: 8200, path: '/activity' }));
    expect(customer.activity).toBe('ACTIVE');
  });

  test('an activity of any shape is ignored with warning 8200', async () => {
    const { reply } = await registerAndGet({ profiles: [freshProfile()], activity: { status: 'DORMANT', since: 2020 } });
    expect(warningCodes(reply)).toEqual([8200]);
  });

  test('unknown keys are ignored with a warning 8200 naming their path', async () => {
    const { reply } = await registerAndGet({ profiles: [freshProfile({ middleName: 'K' })], loyaltyTpye: 'loyalty' });
    expect(reply.body.warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 8200, path: '/loyaltyTpye' }),
        expect.objectContaining({ code: 8200, path: '/profiles/0/middleName' }),
      ]),
    );
  });
});

describe('a full request', () => {
  test('every part of a full request is stored and returned by GET', async () => {
    const national = uniqueMobile();
    const email = uniqueEmail('vikram');
    const externalId = `POS-${randomUUID().slice(0, 8)}`;
    const pushToken = `fcm-${randomUUID()}`;
    const { reply, customer } = await registerAndGet({
      loyaltyType: 'loyalty',
      profiles: [
        {
          source: 'INSTORE',
          firstName: '  Vikram ',
          lastName: ' Nair ',
          identifiers: [
            { type: 'mobile', value: `+91-${national}` },
            { type: 'email', value: email.toUpperCase() },
            { type: 'externalId', value: ` ${externalId} ` },
            {
              type: 'card',
              seriesId: 501,
              statusLabel: 'ACTIVE',
              fields: { issued_by: 'front-desk' },
              extendedFields: { preferred_store: 'Koramangala' },
            },
          ],
          fields: { favourite_category: 'footwear' },
          commChannels: [{ type: 'email', value: email, primary: true, verified: 'true', subscribed: 'true' }],
        },
        {
          source: 'MOBILE_APP',
          accountId: 'app-android',
          firstName: 'Vikram',
          identifiers: [{ type: 'mobilePush', value: pushToken }],
          commChannels: [{ type: 'mobilePush', value: pushToken, primary: true, meta: { lastViewedDate: '2025-01-14T21:05:00+05:30' } }],
        },
      ],
      extendedFields: { gender: 'Male', city: 'Bengaluru', household_size: 4 },
      loyaltyProgramEnrollments: [{ programId: 1, tierNumber: 3, loyaltyPoints: 100, pointsExpiryDate: '2030-12-31T23:59:59+05:30' }],
      createDate: '2025-01-15T10:30:00+05:30',
      associatedWith: 'store2.till',
      endPointsEnabled: ['TIMELINE_ENDPOINT'],
    });

    expect(reply.body.warnings).toEqual([]);
    expect(reply.body.createdId).toBe(customer.id);
    expect(Number.isSafeInteger(reply.body.createdId) && reply.body.createdId > 0).toBe(true);
    const card = reply.body.sideEffects.find((s: { type: string }) => s.type === 'card');
    expect(card).toEqual({
      type: 'card',
      cardNumber: expect.stringMatching(/^DEMO\d{12}$/),
      seriesId: 501,
      seriesCode: 'DEMO-GEN',
      statusLabel: 'ACTIVE',
    });
    expect(reply.body.sideEffects).toEqual(
      expect.arrayContaining([{ type: 'points', entityType: 'USER', programId: 1, awardedPoints: 100 }]),
    );
    expect(reply.body.sideEffects).toHaveLength(2);

    expect(customer.loyaltyInfo).toEqual({ loyaltyType: 'loyalty' });
    expect(customer.profiles).toHaveLength(2);
    const instore = customer.profiles.find((p: { source: string }) => p.source === 'INSTORE');
    const app = customer.profiles.find((p: { source: string }) => p.source === 'MOBILE_APP');
    expect(instore).toEqual(expect.objectContaining({ firstName: 'Vikram', lastName: 'Nair', fields: { favourite_category: 'footwear' } }));
    expect(instore.accountId ?? null).toBeNull();
    expect(instore.identifiers).toEqual(
      expect.arrayContaining([
        { type: 'mobile', value: `91${national}` },
        { type: 'email', value: email.toLowerCase() },
        { type: 'externalId', value: externalId },
        { type: 'card', value: card.cardNumber },
      ]),
    );
    expect(instore.identifiers).toHaveLength(4);
    expect(instant(instore.attribution.createDate)).toBe(Date.parse('2025-01-15T10:30:00+05:30'));
    expect(app).toEqual(
      expect.objectContaining({ source: 'MOBILE_APP', accountId: 'app-android', identifiers: [{ type: 'mobilePush', value: pushToken }] }),
    );
    expect(app.commChannels).toEqual([
      expect.objectContaining({
        type: 'mobilePush',
        value: pushToken,
        primary: true,
        meta: { lastViewedDate: '2025-01-14T21:05:00+05:30' },
      }),
    ]);

    expect(customer.extendedFields).toEqual({ gender: 'Male', city: 'Bengaluru', household_size: 4 });
    expect(customer.cardDetails).toEqual([
      expect.objectContaining({
        cardNumber: card.cardNumber,
        seriesId: 501,
        seriesCode: 'DEMO-GEN',
        statusLabel: 'ACTIVE',
        fields: { issued_by: 'front-desk' },
        extendedFields: { preferred_store: 'Koramangala' },
      }),
    ]);
    expect(customer.loyaltyProgramDetails).toEqual([
      expect.objectContaining({ programId: 1, programName: 'Demo Rewards', tierNumber: 3, tierName: 'Platinum', loyaltyPoints: 100 }),
    ]);
    expect(instant(customer.loyaltyProgramDetails[0].pointsExpiryDate)).toBe(Date.parse('2030-12-31T23:59:59+05:30'));
    expect(customer.associatedWith).toBe('store2.till');
    expect(customer.endPointsEnabled).toEqual(['TIMELINE_ENDPOINT']);

    for (const [identifierName, identifierValue] of [
      ['mobile', national],
      ['email', email],
      ['externalId', externalId],
      ['mobilePush', pushToken],
      ['card', card.cardNumber],
    ]) {
      const found = await lookup({ source: 'ALL', identifierName, identifierValue });
      expect({ identifierName, status: found.status, entity: found.body.entity }).toEqual({
        identifierName,
        status: 200,
        entity: customer.id,
      });
    }
  });
});

describe('merge into an existing customer', () => {
  test('profile-level parts go with the new profile; customer-level parts are not applied, each with warning 8200', async () => {
    const national = uniqueMobile();
    const first = await registerAndGet({
      profiles: [instoreProfile([{ type: 'mobile', value: national }], { fields: { tier_hint: 'none' } })],
      extendedFields: { city: 'Pune', gender: 'Female' },
    });
    const id = first.reply.body.createdId;
    const before = first.customer;

    const email = uniqueEmail('merge');
    const mergeStarted = Date.now();
    const reply = await addCustomer({
      loyaltyType: 'loyalty',
      profiles: [
        {
          source: 'WEBSITE',
          firstName: 'Asha',
          lastName: 'Rao-Kulkarni',
          identifiers: [
            { type: 'mobile', value: national },
            { type: 'email', value: email },
            { type: 'card', seriesId: 501, statusLabel: 'ACTIVE' },
          ],
          fields: { signup_page: '/offers' },
          commChannels: [{ type: 'email', value: email, primary: 'true', verified: false, subscribed: 'true' }],
        },
      ],
      extendedFields: { city: 'Mumbai', household_size: 3 },
      loyaltyProgramEnrollments: [{ programId: 2, tierNumber: 2, loyaltyPoints: 500 }],
      createDate: '2023-01-01T00:00:00+05:30',
      associatedWith: 'store2.till',
      endPointsEnabled: ['REFERRAL_ENDPOINT'],
    });

    expect(reply.status).toBe(200);
    expect(reply.body.createdId).toBe(id);
    expect(warningCodes(reply)).toContain(8050);
    const ignored = reply.body.warnings
      .filter((w: { code: number }) => w.code === 8200)
      .map((w: { path: string }) => w.path)
      .sort();
    expect(ignored).toEqual(
      ['/associatedWith', '/createDate', '/endPointsEnabled', '/extendedFields', '/loyaltyProgramEnrollments', '/loyaltyType'].sort(),
    );
    // The card is issued with the new profile; no points are credited to the existing customer.
    expect(reply.body.sideEffects).toEqual([
      { type: 'card', cardNumber: expect.stringMatching(/^DEMO\d{12}$/), seriesId: 501, seriesCode: 'DEMO-GEN', statusLabel: 'ACTIVE' },
    ]);
    const cardNumber = reply.body.sideEffects[0].cardNumber;

    const after = (await getCustomer(id)).body;
    expect(after.profiles).toHaveLength(2);
    expect(after.profiles[0]).toEqual(before.profiles[0]);
    const website = after.profiles.find((p: { source: string }) => p.source === 'WEBSITE');
    expect(website).toEqual(expect.objectContaining({ firstName: 'Asha', lastName: 'Rao-Kulkarni', fields: { signup_page: '/offers' } }));
    expect(website.identifiers).toEqual(
      expect.arrayContaining([
        { type: 'email', value: email },
        { type: 'card', value: cardNumber },
      ]),
    );
    expect(website.commChannels).toEqual([
      expect.objectContaining({ type: 'email', value: email, primary: true, verified: false, subscribed: true }),
    ]);
    expect(after.cardDetails).toEqual([
      expect.objectContaining({ cardNumber, seriesId: 501, seriesCode: 'DEMO-GEN', statusLabel: 'ACTIVE' }),
    ]);

    // Customer-level details are those of the first registration.
    expect(after.loyaltyInfo).toEqual(before.loyaltyInfo);
    expect(after.extendedFields).toEqual({ city: 'Pune', gender: 'Female' });
    expect(after.loyaltyProgramDetails).toEqual(before.loyaltyProgramDetails);
    expect(after.associatedWith).toBe('demo.till');
    expect(after.endPointsEnabled).toEqual([]);

    for (const [identifierName, identifierValue] of [
      ['email', email],
      ['card', cardNumber],
    ]) {
      const found = await lookup({ source: 'WEBSITE', identifierName, identifierValue });
      expect(found.body.entity).toBe(id);
    }

    // The request's createDate is customer-level: the added profile and its card date from the merge.
    expect(instant(website.attribution.createDate)).toBeGreaterThanOrEqual(mergeStarted - 1000);
    expect(instant(after.cardDetails[0].issuedDate)).toBeGreaterThanOrEqual(mergeStarted - 1000);
  });

  test('a merge that sends no customer-level parts gets only warning 8050', async () => {
    const national = uniqueMobile();
    const id = (await registerAndGet({ profiles: [instoreProfile([{ type: 'mobile', value: national }])] })).reply.body.createdId;
    const reply = await addCustomer({
      profiles: [
        {
          source: 'ECOMMERCE',
          identifiers: [
            { type: 'mobile', value: national },
            { type: 'email', value: uniqueEmail('shop') },
          ],
        },
      ],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.createdId).toBe(id);
    expect(warningCodes(reply)).toEqual([8050]);
  });

  test('a merge whose card number is already issued is refused with 3009 and nothing is written', async () => {
    const holder = await addCustomer({
      profiles: [instoreProfile([mobile(), { type: 'card', seriesId: 501, statusLabel: 'ACTIVE' } as never])],
    });
    expect(holder.status).toBe(200);
    const national = uniqueMobile();
    await registerAndGet({ profiles: [instoreProfile([{ type: 'mobile', value: national }])] });
    await expectRefused(
      {
        profiles: [
          {
            source: 'WEBSITE',
            identifiers: [
              { type: 'mobile', value: national },
              { type: 'card', value: holder.body.sideEffects[0].cardNumber, seriesId: 501, statusLabel: 'ACTIVE' },
            ],
          },
        ],
      },
      409,
      [3009],
    );
  });
});

describe('example events (events/*.json)', () => {
  const EVENTS = ['card-issue', 'card-given-number', 'enrollment', 'extended-fields', 'full-request'];
  const readEvent = (name: string) =>
    JSON.parse(readFileSync(join(__dirname, '..', '..', 'events', `${name}.json`), 'utf8')) as APIGatewayProxyEvent;

  test('every example event is a POST /v2/customers API Gateway event of org 100 with a JSON body', () => {
    for (const name of EVENTS) {
      const event = readEvent(name);
      expect({ name, method: event.httpMethod, path: event.path, base64: event.isBase64Encoded }).toEqual({
        name,
        method: 'POST',
        path: '/v2/customers',
        base64: false,
      });
      expect(event.headers['Content-Type']).toBe('application/json');
      const md5 = createHash('md5').update('demo-password').digest('hex');
      expect(event.headers.Authorization).toBe(`Basic ${Buffer.from(`demo.till:${md5}`).toString('base64')}`);
      expect(event.requestContext.requestId).toEqual(expect.any(String));
      expect(() => JSON.parse(event.body!)).not.toThrow();
    }
  });

  test('every example event registers a new customer without warnings or errors, the full request with all its parts', async () => {
    const ids = new Set<number>();
    for (const name of EVENTS) {
      const reply = await call(addHandler as never, readEvent(name));
      expect({ name, status: reply.status, errors: reply.body.errors, warnings: reply.body.warnings }).toEqual({
        name,
        status: 200,
        errors: undefined,
        warnings: [],
      });
      ids.add(reply.body.createdId);
    }
    expect(ids.size).toBe(EVENTS.length);

    const body = JSON.parse(readEvent('full-request').body!);
    const found = await lookup({ source: 'ALL', identifierName: 'externalId', identifierValue: 'POS-FR-90417' });
    expect(found.status).toBe(200);
    const customer = (await getCustomer(found.body.entity)).body;
    expect(customer.profiles).toHaveLength(2);
    expect(customer.extendedFields).toEqual(body.extendedFields);
    expect(customer.cardDetails).toEqual([
      expect.objectContaining({ seriesId: 501, fields: { issued_by: 'front-desk' }, extendedFields: { preferred_store: 'Koramangala' } }),
    ]);
    expect(customer.loyaltyProgramDetails).toEqual([expect.objectContaining({ programId: 1, tierNumber: 1, loyaltyPoints: 100 })]);
    expect(customer.associatedWith).toBe('store2.till');
    expect(customer.endPointsEnabled).toEqual(['TIMELINE_ENDPOINT']);
  });
});
