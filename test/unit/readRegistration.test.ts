import { ApiError, type Problem } from '../../lib/errors';
import type { OrgConfig } from '../../lib/org';
import type { Registration } from '../../lib/customer';
import { readRegistration } from '../../lib/registration/read';
import { checkAddCustomerBody } from '../../lib/schemas/validate';
import { MULTI_ACCOUNT_SOURCES } from '../../lib/vocabulary';
import { demoRetail, otherBrand } from './demoOrg';

// Reading a schema-valid `POST /v2/customers` body against org 100 (SPEC sections 3, 4, 7).
// Bodies go through the schema check first, as in the service, so every body here is one a
// client can really send.

const NOW = new Date('2024-06-01T12:00:00.000Z');

interface Options {
  org?: OrgConfig;
  till?: string;
  query?: { source?: string; accountId?: string };
}

function read(body: unknown, options: Options = {}): Registration {
  const checked = checkAddCustomerBody(body);
  return readRegistration(checked.body, checked.warnings, {
    org: options.org ?? demoRetail(),
    till: options.till ?? 'demo.till',
    query: options.query ?? {},
    now: NOW,
  });
}

function refusal(body: unknown, options: Options = {}): ApiError {
  const checked = checkAddCustomerBody(body); // a schema violation here fails the test, as it should
  try {
    readRegistration(checked.body, checked.warnings, {
      org: options.org ?? demoRetail(),
      till: options.till ?? 'demo.till',
      query: options.query ?? {},
      now: NOW,
    });
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected the registration to be refused');
}

/** What the client sees of each problem: its code and, where one applies, its path. */
function problems(body: unknown, options: Options = {}): { code: number; path?: string }[] {
  return refusal(body, options).problems.map(({ code, path }: Problem) => (path === undefined ? { code } : { code, path }));
}

const warningsOf = (items: { code: number; path?: string }[]) => items.map(({ code, path }) => ({ code, path }));

const MOBILE = { type: 'mobile', value: '9876501234' };

function instore(extra: Record<string, unknown> = {}) {
  return { source: 'INSTORE', identifiers: [MOBILE], ...extra };
}

function body(...profiles: Record<string, unknown>[]): Record<string, unknown> {
  return { profiles: profiles.length ? profiles : [instore()] };
}

describe('readRegistration', () => {
  test('reads a minimal in-store registration with the service defaults', () => {
    const registration = read(body(instore({ firstName: '  Asha ', lastName: ' Rao  ' })));
    expect(registration).toEqual({
      orgId: 100,
      loyaltyType: 'loyalty',
      profiles: [
        {
          source: 'INSTORE',
          accountId: '',
          firstName: 'Asha',
          lastName: 'Rao',
          identifiers: [{ type: 'mobile', value: '919876501234' }],
          fields: {},
          commChannels: [],
          createDate: '2024-06-01T12:00:00.000Z',
          createdBy: 'demo.till',
        },
      ],
      extendedFields: {},
      enrollments: [{ programId: 1, tierNumber: 1, loyaltyPoints: 0 }],
      createDate: '2024-06-01T12:00:00.000Z',
      associatedWith: 'demo.till',
      endPointsEnabled: [],
      customerLevelParts: [],
      warnings: [],
    });
  });

  test('leaves out names that are blank after trimming and keeps custom fields', () => {
    const [profile] = read(body(instore({ firstName: '   ', lastName: '', fields: { shoe: '42', colour: 'blue' } }))).profiles;
    expect(profile).not.toHaveProperty('firstName');
    expect(profile).not.toHaveProperty('lastName');
    expect(profile.fields).toEqual({ shoe: '42', colour: 'blue' });
  });

  test('records the authenticated till as the creator of every profile', () => {
    const registration = read(body(instore(), { source: 'WEBSITE', identifiers: [{ type: 'email', value: 'a@b.co' }] }), {
      till: 'store2.till',
    });
    expect(registration.profiles.map((p) => p.createdBy)).toEqual(['store2.till', 'store2.till']);
  });

  describe('source and accountId', () => {
    test('refuses a profile without source with 8004 at its source', () => {
      expect(problems(body({ identifiers: [MOBILE] }))).toEqual([{ code: 8004, path: '/profiles/0/source' }]);
    });

    test('fills in a missing source from the source query parameter', () => {
      const registration = read(body({ identifiers: [MOBILE] }), { query: { source: 'WEBSITE' } });
      expect(registration.profiles[0].source).toBe('WEBSITE');
    });

    test('keeps the source a profile names over the query parameter', () => {
      const registration = read(body(instore(), { identifiers: [{ type: 'email', value: 'a@b.co' }] }), { query: { source: 'WEBSITE' } });
      expect(registration.profiles.map((p) => p.source)).toEqual(['INSTORE', 'WEBSITE']);
    });

    test('refuses an invalid source query parameter with 8003', () => {
      expect(problems(body({ identifiers: [MOBILE] }), { query: { source: 'MYSPACE' } }).map((p) => p.code)).toEqual([8003]);
    });

    test('refuses a source the org has not enabled with 8003 at its source', () => {
      const org = demoRetail();
      delete org.sources.TMALL;
      expect(problems(body({ source: 'TMALL', identifiers: [MOBILE] }), { org })).toEqual([{ code: 8003, path: '/profiles/0/source' }]);
    });

    test('refuses a disabled source given by the query parameter with 8003', () => {
      const org = demoRetail();
      delete org.sources.WEBSITE;
      expect(problems(body({ identifiers: [MOBILE] }), { org, query: { source: 'WEBSITE' } }).map((p) => p.code)).toEqual([8003]);
    });

    test.each([...MULTI_ACCOUNT_SOURCES])('refuses a %s profile without accountId with 8045 at its accountId', (source) => {
      expect(problems(body({ source, identifiers: [MOBILE] }))).toEqual([{ code: 8045, path: '/profiles/0/accountId' }]);
    });

    test('refuses a blank accountId of a multi-account source with 8045', () => {
      expect(problems(body({ source: 'LINE', accountId: '  ', identifiers: [MOBILE] }))).toEqual([
        { code: 8045, path: '/profiles/0/accountId' },
      ]);
    });

    test.each([
      ['WECHAT', 'wx-third'],
      ['FACEBOOK', 'wx-main'],
      ['MOBILE_APP', 'APP-IOS'],
    ])('refuses %s account %s, which the org does not have for that source, with 8127', (source, accountId) => {
      expect(problems(body({ source, accountId, identifiers: [MOBILE] }))).toEqual([{ code: 8127, path: '/profiles/0/accountId' }]);
    });

    test.each([
      ['FACEBOOK', 'fb-main'],
      ['WECHAT', 'wx-main'],
      ['WECHAT', 'wx-second'],
      ['LINE', 'line-main'],
      ['MOBILE_APP', 'app-ios'],
      ['MOBILE_APP', 'app-android'],
      ['WEB_ENGAGE', 'we-main'],
    ])('accepts %s account %s of the org', (source, accountId) => {
      const [profile] = read(body({ source, accountId, identifiers: [MOBILE] })).profiles;
      expect(profile).toMatchObject({ source, accountId });
    });

    test('trims the accountId', () => {
      expect(read(body({ source: 'WECHAT', accountId: ' wx-main ', identifiers: [MOBILE] })).profiles[0].accountId).toBe('wx-main');
    });

    test('fills in a missing accountId from the accountId query parameter', () => {
      const registration = read(body({ source: 'WECHAT', identifiers: [MOBILE] }), { query: { accountId: 'wx-second' } });
      expect(registration.profiles[0]).toMatchObject({ source: 'WECHAT', accountId: 'wx-second' });
    });

    test('fills in both source and accountId from the query parameters', () => {
      const registration = read(body({ identifiers: [MOBILE] }), { query: { source: 'MOBILE_APP', accountId: 'app-ios' } });
      expect(registration.profiles[0]).toMatchObject({ source: 'MOBILE_APP', accountId: 'app-ios' });
    });

    test('refuses an accountId query parameter that is not an account of the source with 8127', () => {
      expect(problems(body({ source: 'WECHAT', identifiers: [MOBILE] }), { query: { accountId: 'fb-main' } }).map((p) => p.code)).toEqual([
        8127,
      ]);
    });

    test('ignores an accountId sent for a single-account source, with warning 8200 at its path', () => {
      const registration = read(body(instore({ accountId: 'store-7' })));
      expect(registration.profiles[0].accountId).toBe('');
      expect(warningsOf(registration.warnings)).toEqual([{ code: 8200, path: '/profiles/0/accountId' }]);
    });

    test('refuses two profiles in the same source with 400 at the second one', () => {
      const second = { source: 'INSTORE', identifiers: [{ type: 'email', value: 'a@b.co' }] };
      expect(problems(body(instore(), second))).toEqual([{ code: 400, path: '/profiles/1' }]);
    });

    test('refuses two profiles in the same account of a multi-account source', () => {
      const first = { source: 'WECHAT', accountId: 'wx-main', identifiers: [MOBILE] };
      const second = { source: 'WECHAT', accountId: 'wx-main', identifiers: [{ type: 'wechat', value: 'wx-asha' }] };
      expect(problems(body(first, second))).toEqual([{ code: 400, path: '/profiles/1' }]);
    });

    test('refuses a profile whose source comes from the query when another profile names the same source', () => {
      const second = { identifiers: [{ type: 'email', value: 'a@b.co' }] };
      expect(problems(body(instore(), second), { query: { source: 'INSTORE' } })).toEqual([{ code: 400, path: '/profiles/1' }]);
    });

    test('accepts profiles in two accounts of one source', () => {
      const first = { source: 'WECHAT', accountId: 'wx-main', identifiers: [MOBILE] };
      const second = { source: 'WECHAT', accountId: 'wx-second', identifiers: [{ type: 'wechat', value: 'wx-asha' }] };
      expect(read(body(first, second)).profiles.map((p) => p.accountId)).toEqual(['wx-main', 'wx-second']);
    });
  });

  describe('identifiers', () => {
    test('normalises every identifier of a profile', () => {
      const [profile] = read(
        body({
          source: 'INSTORE',
          identifiers: [
            { type: 'mobile', value: '+91 (98765) 01234' },
            { type: 'email', value: ' Asha.Rao@Example.COM ' },
            { type: 'externalId', value: '  EXT-42 ' },
          ],
        }),
      ).profiles;
      expect(profile.identifiers).toEqual([
        { type: 'mobile', value: '919876501234' },
        { type: 'email', value: 'asha.rao@example.com' },
        { type: 'externalId', value: 'EXT-42' },
      ]);
    });

    test('reads a national mobile number in the org’s base country', () => {
      const [profile] = read(body(instore({ identifiers: [{ type: 'mobile', value: '09876501234' }] }))).profiles;
      expect(profile.identifiers).toEqual([{ type: 'mobile', value: '919876501234' }]);
    });

    test('refuses an invalid mobile with 8014 at its value, and the profile with 8005 when nothing valid is left', () => {
      expect(problems(body(instore({ identifiers: [{ type: 'mobile', value: '12345' }] })))).toEqual([
        { code: 8014, path: '/profiles/0/identifiers/0/value' },
        { code: 8005, path: '/profiles/0/identifiers' },
      ]);
    });

    test('refuses an invalid mobile with 8014 even when the profile has another valid identifier', () => {
      const identifiers = [
        { type: 'email', value: 'a@b.co' },
        { type: 'mobile', value: '+91 80 2345 6789' },
      ];
      expect(problems(body(instore({ identifiers })))).toEqual([{ code: 8014, path: '/profiles/0/identifiers/1/value' }]);
    });

    test('refuses an invalid email with 8055 at its value', () => {
      const identifiers = [MOBILE, { type: 'email', value: 'asha@' }];
      expect(problems(body(instore({ identifiers })))).toEqual([{ code: 8055, path: '/profiles/0/identifiers/1/value' }]);
    });

    test('refuses a profile without identifiers with 8005', () => {
      expect(problems(body({ source: 'INSTORE' }))).toEqual([{ code: 8005, path: '/profiles/0/identifiers' }]);
      expect(problems(body({ source: 'INSTORE', identifiers: [] }))).toEqual([{ code: 8005, path: '/profiles/0/identifiers' }]);
    });

    test('refuses an identifier that is blank after trimming, and the profile with 8005', () => {
      expect(problems(body(instore({ identifiers: [{ type: 'externalId', value: '   ' }] })))).toEqual([
        { code: 400, path: '/profiles/0/identifiers/0/value' },
        { code: 8005, path: '/profiles/0/identifiers' },
      ]);
    });

    test('refuses an identifier without value', () => {
      const identifiers = [MOBILE, { type: 'externalId' }];
      expect(problems(body(instore({ identifiers })))).toEqual([{ code: 400, path: '/profiles/0/identifiers/1/value' }]);
    });

    test('refuses a second identifier of one type in a profile with 400 at the second', () => {
      const identifiers = [MOBILE, { type: 'email', value: 'a@b.co' }, { type: 'mobile', value: '9876543211' }];
      expect(problems(body(instore({ identifiers })))).toEqual([{ code: 400, path: '/profiles/0/identifiers/2' }]);
    });

    test('refuses an identifier of an unknown type at its type, and the profile left without any with 8005', () => {
      const identifiers = [{ type: 'phone', value: '9876543210' }];
      expect(problems(body(instore({ identifiers })))).toEqual([
        { code: 400, path: '/profiles/0/identifiers/0/type' },
        { code: 8005, path: '/profiles/0/identifiers' },
      ]);
    });

    test('refuses an email longer than 255 characters with 8055', () => {
      const identifiers = [{ type: 'email', value: `${'a'.repeat(250)}@example.com` }];
      expect(problems(body(instore({ identifiers })))).toEqual([
        { code: 8055, path: '/profiles/0/identifiers/0/value' },
        { code: 8005, path: '/profiles/0/identifiers' },
      ]);
    });

    test('counts a card and a cardnumber in one profile as two cards (3035)', () => {
      const identifiers = [
        { type: 'card', value: '1234567890', seriesId: 502, statusLabel: 'ACTIVE' },
        { type: 'cardnumber', value: '1234567891', seriesId: 502, statusLabel: 'ACTIVE' },
        MOBILE,
      ];
      expect(problems(body(instore({ identifiers })))).toEqual([{ code: 3035, path: '/profiles/0/identifiers/1' }]);
    });

    test('accepts one identifier of a type in each of several profiles', () => {
      const registration = read(body(instore(), { source: 'WEBSITE', identifiers: [MOBILE] }));
      expect(registration.profiles.map((p) => p.identifiers)).toEqual([
        [{ type: 'mobile', value: '919876501234' }],
        [{ type: 'mobile', value: '919876501234' }],
      ]);
    });

    test('reads the cardnumber alias as a card', () => {
      const identifiers = [MOBILE, { type: 'cardnumber', value: '1234567890', seriesId: 502, statusLabel: 'ACTIVE' }];
      const [profile] = read(body(instore({ identifiers }))).profiles;
      expect(profile.card).toMatchObject({ cardNumber: '1234567890', seriesId: 502, seriesCode: 'PARTNER-EXT' });
      expect(profile.identifiers).toEqual([{ type: 'mobile', value: '919876501234' }]);
    });
  });

  describe('comm channels', () => {
    const channels = (commChannels: Record<string, unknown>[]) => read(body(instore({ commChannels }))).profiles[0].commChannels;
    const channelProblems = (commChannels: Record<string, unknown>[]) => problems(body(instore({ commChannels })));

    test('normalises mobile and email channels like identifiers', () => {
      expect(
        channels([
          { type: 'mobile', value: '+91 98765-43210' },
          { type: 'email', value: ' Asha@Example.com ' },
        ]).map(({ type, value }) => ({ type, value })),
      ).toEqual([
        { type: 'mobile', value: '919876543210' },
        { type: 'email', value: 'asha@example.com' },
      ]);
    });

    test('reads "true" and "false" flags as booleans, and missing flags as false', () => {
      expect(
        channels([
          { type: 'email', value: 'a@b.co', primary: 'true', verified: 'false', subscribed: true },
          { type: 'wechat', value: 'wx-asha' },
        ]),
      ).toEqual([
        { type: 'email', value: 'a@b.co', primary: true, verified: false, subscribed: true },
        { type: 'wechat', value: 'wx-asha', primary: false, verified: false, subscribed: false },
      ]);
    });

    test('keeps meta.lastViewedDate of a mobilePush channel and reads meta.residence as a boolean', () => {
      const [channel] = channels([
        {
          type: 'mobilePush',
          value: 'push-token',
          meta: { lastViewedDate: '2024-05-01T10:00:00Z', residence: 'true' },
          attributes: { os: 'ios', badge: 3 },
        },
      ]);
      expect(channel).toEqual({
        type: 'mobilePush',
        value: 'push-token',
        primary: false,
        verified: false,
        subscribed: false,
        meta: { lastViewedDate: '2024-05-01T10:00:00Z', residence: true },
        attributes: { os: 'ios', badge: 3 },
      });
    });

    test('refuses meta.lastViewedDate on a channel that is not mobilePush with 8010 at its path', () => {
      expect(channelProblems([{ type: 'android', value: 'token', meta: { lastViewedDate: '2024-05-01T10:00:00Z' } }])).toEqual([
        { code: 8010, path: '/profiles/0/commChannels/0/meta/lastViewedDate' },
      ]);
    });

    test('refuses an invalid email channel with 8057 at its value', () => {
      expect(channelProblems([{ type: 'email', value: 'not-an-email' }])).toEqual([
        { code: 8057, path: '/profiles/0/commChannels/0/value' },
      ]);
    });

    test('refuses an invalid mobile channel with 8058 at its value', () => {
      expect(
        channelProblems([
          { type: 'email', value: 'a@b.co' },
          { type: 'mobile', value: '12345' },
        ]),
      ).toEqual([{ code: 8058, path: '/profiles/0/commChannels/1/value' }]);
    });

    test.each(['wechat', 'ios', 'android', 'line', 'mobilePush'])('refuses a blank %s channel with 8010 at its value', (type) => {
      expect(channelProblems([{ type, value: '  ' }])).toEqual([{ code: 8010, path: '/profiles/0/commChannels/0/value' }]);
    });

    test('a comm channel is not an identifier: a profile with only channels has no valid identifier', () => {
      expect(problems(body({ source: 'INSTORE', commChannels: [{ type: 'mobile', value: '9876543210' }] }))).toEqual([
        { code: 8005, path: '/profiles/0/identifiers' },
      ]);
    });
  });

  describe('cards', () => {
    const withCard = (cardIdentifier: Record<string, unknown>) =>
      body(instore({ identifiers: [MOBILE, { type: 'card', ...cardIdentifier }] }));
    const cardOf = (cardIdentifier: Record<string, unknown>) => read(withCard(cardIdentifier)).profiles[0].card;

    test('leaves the number of a generating series empty and marks it to be generated', () => {
      expect(cardOf({ seriesId: 501, statusLabel: 'ACTIVE' })).toEqual({
        cardNumber: '',
        seriesId: 501,
        seriesCode: 'DEMO-GEN',
        statusLabel: 'ACTIVE',
        issuedDate: '2024-06-01T12:00:00.000Z',
        generated: true,
      });
    });

    test('accepts a number that fits a generating series, as not generated', () => {
      expect(cardOf({ seriesCode: 'DEMO-GEN', value: ' DEMO012345678903 ', statusLabel: 'NOT_ISSUED' })).toMatchObject({
        cardNumber: 'DEMO012345678903',
        seriesId: 501,
        statusLabel: 'NOT_ISSUED',
        generated: false,
      });
    });

    test('finds a series by its code as well as by its id', () => {
      expect(cardOf({ seriesCode: 'PARTNER-EXT', value: '12345678901234', statusLabel: 'ACTIVE' })).toMatchObject({
        seriesId: 502,
        seriesCode: 'PARTNER-EXT',
      });
      expect(cardOf({ seriesId: 502, seriesCode: 'PARTNER-EXT', value: '12345678901234', statusLabel: 'ACTIVE' })).toMatchObject({
        seriesId: 502,
      });
    });

    test('issues the card on the registration’s createDate', () => {
      const request = { ...withCard({ seriesId: 501, statusLabel: 'ACTIVE' }), createDate: '2024-05-01T10:00:00+05:30' };
      expect(read(request).profiles[0].card?.issuedDate).toBe('2024-05-01T04:30:00.000Z');
    });

    test('keeps the card’s custom fields and checked extended fields', () => {
      expect(
        cardOf({ seriesId: 501, statusLabel: 'ACTIVE', fields: { tag: 'vip' }, extendedFields: { gender: 'Female', city: null } }),
      ).toMatchObject({
        fields: { tag: 'vip' },
        extendedFields: { gender: 'Female' },
      });
    });

    test('counts a card as a valid identifier of its profile', () => {
      const [profile] = read(body({ source: 'INSTORE', identifiers: [{ type: 'card', seriesId: 501, statusLabel: 'ACTIVE' }] })).profiles;
      expect(profile.identifiers).toEqual([]);
      expect(profile.card?.seriesId).toBe(501);
    });

    test('refuses an unknown series id with 3004 at the seriesId', () => {
      expect(problems(withCard({ seriesId: 999, statusLabel: 'ACTIVE' }))).toEqual([
        { code: 3004, path: '/profiles/0/identifiers/1/seriesId' },
      ]);
    });

    test('refuses an unknown series code with 3004 at the seriesCode', () => {
      expect(problems(withCard({ seriesCode: 'NOPE', statusLabel: 'ACTIVE' }))).toEqual([
        { code: 3004, path: '/profiles/0/identifiers/1/seriesCode' },
      ]);
    });

    test('refuses a card without any series with 3004', () => {
      expect(problems(withCard({ value: '1234567890', statusLabel: 'ACTIVE' })).map((p) => p.code)).toEqual([3004]);
    });

    test('refuses a series id and code that name different series with 3004 at the seriesCode', () => {
      expect(problems(withCard({ seriesId: 501, seriesCode: 'PARTNER-EXT', statusLabel: 'ACTIVE' }))).toEqual([
        { code: 3004, path: '/profiles/0/identifiers/1/seriesCode' },
      ]);
    });

    test('refuses a card without status label with 3017 at the statusLabel', () => {
      expect(problems(withCard({ seriesId: 501 }))).toEqual([{ code: 3017, path: '/profiles/0/identifiers/1/statusLabel' }]);
    });

    test.each(['LOST', 'active', ''])('refuses the status label %p, which is not one of the org’s, with 3017', (statusLabel) => {
      expect(problems(withCard({ seriesId: 501, statusLabel }))).toEqual([{ code: 3017, path: '/profiles/0/identifiers/1/statusLabel' }]);
    });

    test.each([
      ['a wrong check digit', 501, 'DEMO012345678904'],
      ['no prefix', 501, '012345678903'],
      ['too few digits', 501, 'DEMO12345'],
      ['too few digits for PARTNER-EXT', 502, '123456789'],
      ['too many digits for PARTNER-EXT', 502, '123456789012345678901'],
      ['letters in a PARTNER-EXT number', 502, 'ABC4567890'],
    ])('refuses a card number with %s with 3000 at its value', (_label, seriesId, value) => {
      expect(problems(withCard({ seriesId, value, statusLabel: 'ACTIVE' }))).toEqual([
        { code: 3000, path: '/profiles/0/identifiers/1/value' },
      ]);
    });

    test('refuses a card of a series that does not generate numbers when no number is sent, with 3000', () => {
      expect(problems(withCard({ seriesId: 502, statusLabel: 'ACTIVE' }))).toEqual([
        { code: 3000, path: '/profiles/0/identifiers/1/value' },
      ]);
    });

    test('refuses a second card in the request with 3035 at the second card', () => {
      const second = {
        source: 'WEBSITE',
        identifiers: [{ type: 'cardnumber', value: '1234567890', seriesId: 502, statusLabel: 'ACTIVE' }, MOBILE],
      };
      expect(
        problems({ profiles: [instore({ identifiers: [MOBILE, { type: 'card', seriesId: 501, statusLabel: 'ACTIVE' }] }), second] }),
      ).toEqual([{ code: 3035, path: '/profiles/1/identifiers/0' }]);
    });

    test('reports every problem of one card together', () => {
      expect(problems(withCard({ seriesId: 502, value: '12', statusLabel: 'LOST', extendedFields: { gender: 'x' } }))).toEqual([
        { code: 3017, path: '/profiles/0/identifiers/1/statusLabel' },
        { code: 3000, path: '/profiles/0/identifiers/1/value' },
        { code: 91015, path: '/profiles/0/identifiers/1/extendedFields/gender' },
      ]);
    });

    test('refuses a profile whose only identifier is an invalid card with 8005 as well', () => {
      expect(problems(body({ source: 'INSTORE', identifiers: [{ type: 'card', seriesId: 999, statusLabel: 'ACTIVE' }] }))).toEqual([
        { code: 3004, path: '/profiles/0/identifiers/0/seriesId' },
        { code: 8005, path: '/profiles/0/identifiers' },
      ]);
    });
  });

  describe('loyalty type and enrollments', () => {
    test('enrolls a loyalty customer sent without enrollments in the default program at tier 1', () => {
      expect(read(body()).enrollments).toEqual([{ programId: 1, tierNumber: 1, loyaltyPoints: 0 }]);
      expect(read({ ...body(), loyaltyType: 'loyalty', loyaltyProgramEnrollments: [] }).enrollments).toEqual([
        { programId: 1, tierNumber: 1, loyaltyPoints: 0 },
      ]);
    });

    test('enrolls in the default program of the caller’s org', () => {
      const org = otherBrand();
      org.programs = [
        { id: 7, name: 'Club', isDefault: false, tiers: [{ number: 1, name: 'A' }] },
        { id: 9, name: 'Main', isDefault: true, tiers: [{ number: 1, name: 'B' }] },
      ];
      expect(read(body(), { org, till: 'other.till' }).enrollments).toEqual([{ programId: 9, tierNumber: 1, loyaltyPoints: 0 }]);
    });

    test('enrolls a non_loyalty customer in nothing', () => {
      const registration = read({ ...body(), loyaltyType: 'non_loyalty' });
      expect(registration.loyaltyType).toBe('non_loyalty');
      expect(registration.enrollments).toEqual([]);
    });

    test('reads the loyalty type from loyaltyInfo as well', () => {
      expect(read({ ...body(), loyaltyInfo: { loyaltyType: 'non_loyalty' } }).loyaltyType).toBe('non_loyalty');
    });

    test('refuses a loyaltyType and a loyaltyInfo.loyaltyType that disagree', () => {
      expect(problems({ ...body(), loyaltyType: 'loyalty', loyaltyInfo: { loyaltyType: 'non_loyalty' } })).toEqual([
        { code: 400, path: '/loyaltyInfo/loyaltyType' },
      ]);
    });

    test('refuses to enroll a non_loyalty customer with 8121', () => {
      const enrollment = [{ programId: 1, tierNumber: 1 }];
      expect(problems({ ...body(), loyaltyType: 'non_loyalty', loyaltyProgramEnrollments: enrollment })).toEqual([
        { code: 8121, path: '/loyaltyProgramEnrollments' },
      ]);
      expect(
        problems({ ...body(), loyaltyInfo: { loyaltyType: 'non_loyalty' }, loyaltyProgramEnrollments: enrollment }).map((p) => p.code),
      ).toEqual([8121]);
    });

    test('reads the requested enrollments with their points and expiry dates in UTC', () => {
      const registration = read({
        ...body(),
        loyaltyProgramEnrollments: [
          {
            programId: 2,
            tierNumber: 2,
            loyaltyPoints: 150,
            tierExpiryDate: '2025-06-01T00:00:00+05:30',
            pointsExpiryDate: '2025-12-31T23:59:59Z',
          },
          { programId: 1 },
        ],
      });
      expect(registration.enrollments).toEqual([
        {
          programId: 2,
          tierNumber: 2,
          loyaltyPoints: 150,
          tierExpiryDate: '2025-05-31T18:30:00.000Z',
          pointsExpiryDate: '2025-12-31T23:59:59.000Z',
        },
        { programId: 1, tierNumber: 1, loyaltyPoints: 0 },
      ]);
    });

    test('refuses a program that does not exist with 1213 at its programId', () => {
      expect(problems({ ...body(), loyaltyProgramEnrollments: [{ programId: 1 }, { programId: 3 }] })).toEqual([
        { code: 1213, path: '/loyaltyProgramEnrollments/1/programId' },
      ]);
    });

    test('refuses program 2 for org 200, which has program 1 only', () => {
      expect(problems({ ...body(), loyaltyProgramEnrollments: [{ programId: 2 }] }, { org: otherBrand(), till: 'other.till' })).toEqual([
        { code: 1213, path: '/loyaltyProgramEnrollments/0/programId' },
      ]);
    });

    test.each([
      [1, 4],
      [2, 3],
      [1, 0],
    ])('refuses program %d tier %d, which does not exist in it, with 8201', (programId, tierNumber) => {
      expect(problems({ ...body(), loyaltyProgramEnrollments: [{ programId, tierNumber }] })).toEqual([
        { code: 8201, path: '/loyaltyProgramEnrollments/0/tierNumber' },
      ]);
    });

    test('refuses one program listed twice', () => {
      expect(problems({ ...body(), loyaltyProgramEnrollments: [{ programId: 1 }, { programId: 1, tierNumber: 2 }] })).toEqual([
        { code: 400, path: '/loyaltyProgramEnrollments/1/programId' },
      ]);
    });

    test('refuses expiry dates that do not lie after createDate with 8203', () => {
      const request = {
        ...body(),
        createDate: '2024-05-01T10:00:00Z',
        loyaltyProgramEnrollments: [{ programId: 1, tierExpiryDate: '2024-05-01T10:00:00Z', pointsExpiryDate: '2024-04-30T10:00:00Z' }],
      };
      expect(problems(request)).toEqual([
        { code: 8203, path: '/loyaltyProgramEnrollments/0/tierExpiryDate' },
        { code: 8203, path: '/loyaltyProgramEnrollments/0/pointsExpiryDate' },
      ]);
    });

    test('compares expiry dates with the default createDate, now', () => {
      expect(problems({ ...body(), loyaltyProgramEnrollments: [{ programId: 1, tierExpiryDate: '2024-06-01T11:00:00Z' }] })).toEqual([
        { code: 8203, path: '/loyaltyProgramEnrollments/0/tierExpiryDate' },
      ]);
    });

    test('compares expiry dates with createDate as instants, whatever their offsets', () => {
      const request = {
        ...body(),
        createDate: '2024-05-01T10:00:00Z',
        loyaltyProgramEnrollments: [{ programId: 1, tierExpiryDate: '2024-05-01T15:31:00+05:30' }],
      };
      expect(read(request).enrollments[0].tierExpiryDate).toBe('2024-05-01T10:01:00.000Z');
    });

    test('refuses an expiry date without offset with 400', () => {
      expect(problems({ ...body(), loyaltyProgramEnrollments: [{ programId: 1, pointsExpiryDate: '2030-01-01' }] })).toEqual([
        { code: 400, path: '/loyaltyProgramEnrollments/0/pointsExpiryDate' },
      ]);
    });
  });

  describe('createDate', () => {
    test('defaults to now', () => {
      expect(read(body()).createDate).toBe(NOW.toISOString());
    });

    test('reads a createDate with offset as the same instant in UTC, for the customer and its profiles', () => {
      const registration = read({ ...body(), createDate: '2024-05-01T10:00:00+05:30' });
      expect(registration.createDate).toBe('2024-05-01T04:30:00.000Z');
      expect(registration.profiles[0].createDate).toBe('2024-05-01T04:30:00.000Z');
    });

    test('refuses a createDate in the future with 8017', () => {
      expect(problems({ ...body(), createDate: '2024-06-02T12:00:00Z' })).toEqual([{ code: 8017, path: '/createDate' }]);
    });

    test('tolerates a till clock a minute ahead', () => {
      expect(read({ ...body(), createDate: '2024-06-01T12:01:00Z' }).createDate).toBe('2024-06-01T12:01:00.000Z');
    });

    test('refuses a createDate before the org’s earliest date with 8017', () => {
      expect(problems({ ...body(), createDate: '1999-12-31T23:59:59Z' })).toEqual([{ code: 8017, path: '/createDate' }]);
    });

    test('accepts a createDate at the start of the org’s earliest date', () => {
      expect(read({ ...body(), createDate: '2000-01-01T00:00:00Z' }).createDate).toBe('2000-01-01T00:00:00.000Z');
    });

    test.each(['2024-05-01', '2024-05-01T10:00:00', 'yesterday'])(
      'refuses the createDate %p, which has no offset, with 400',
      (createDate) => {
        expect(problems({ ...body(), createDate })).toEqual([{ code: 400, path: '/createDate' }]);
      },
    );
  });

  describe('associatedWith, activity and other customer-level parts', () => {
    test('associates the customer with the authenticated till by default', () => {
      expect(read(body(), { till: 'store2.till' }).associatedWith).toBe('store2.till');
    });

    test('associates the customer with another till of the org when asked', () => {
      const registration = read({ ...body(), associatedWith: ' store2.till ' });
      expect(registration.associatedWith).toBe('store2.till');
      expect(registration.warnings).toEqual([]);
    });

    test.each(['no.such.till', 'other.till'])(
      'warns with 8077 about the unknown till %s and uses the authenticated till',
      (associatedWith) => {
        const registration = read({ ...body(), associatedWith }, { till: 'store2.till' });
        expect(registration.associatedWith).toBe('store2.till');
        expect(warningsOf(registration.warnings)).toEqual([{ code: 8077, path: '/associatedWith' }]);
      },
    );

    test.each([
      ['a string', 'ACTIVE'],
      ['an object', { status: 'ACTIVE' }],
      ['null', null],
    ])('ignores %s sent as activity, with warning 8200', (_label, activity) => {
      const registration = read({ ...body(), activity });
      expect(registration).not.toHaveProperty('activity');
      expect(warningsOf(registration.warnings)).toEqual([{ code: 8200, path: '/activity' }]);
    });

    test('keeps the warnings of the schema check about unknown keys', () => {
      const registration = read({ profiles: [instore({ nickname: 'A' })], colour: 'red' });
      expect(warningsOf(registration.warnings)).toEqual(
        expect.arrayContaining([
          { code: 8200, path: '/profiles/0/nickname' },
          { code: 8200, path: '/colour' },
        ]),
      );
      expect(registration.warnings).toHaveLength(2);
    });

    test('reads customer-level extended fields against the org’s definitions', () => {
      const registration = read({
        ...body(),
        extendedFields: { gender: 'Male', household_size: '3', nationality: 'in', city: null, dob: '' },
      });
      expect(registration.extendedFields).toEqual({ gender: 'Male', household_size: 3, nationality: 'IN' });
    });

    test('refuses an extended field the org has not enabled with 91015 at its path', () => {
      expect(problems({ ...body(), extendedFields: { city: 'Pune', shoe_size: 42 } })).toEqual([
        { code: 91015, path: '/extendedFields/shoe_size' },
      ]);
    });

    test('refuses every extended field for an org that has none', () => {
      expect(problems({ ...body(), extendedFields: { gender: 'Male' } }, { org: otherBrand(), till: 'other.till' })).toEqual([
        { code: 91015, path: '/extendedFields/gender' },
      ]);
    });

    test('keeps the test endpoints that mark a test customer', () => {
      expect(read({ ...body(), endPointsEnabled: ['REFERRAL_ENDPOINT', 'DVS_ENDPOINT'] }).endPointsEnabled).toEqual([
        'REFERRAL_ENDPOINT',
        'DVS_ENDPOINT',
      ]);
    });

    test('names every customer-level part the request set, for the warnings of a merge', () => {
      const registration = read({
        ...body(),
        loyaltyType: 'loyalty',
        loyaltyInfo: { loyaltyType: 'loyalty' },
        extendedFields: { city: 'Pune' },
        loyaltyProgramEnrollments: [{ programId: 2 }],
        createDate: '2024-05-01T10:00:00Z',
        associatedWith: 'store2.till',
        endPointsEnabled: ['TIMELINE_ENDPOINT'],
      });
      expect([...registration.customerLevelParts].sort()).toEqual(
        [
          'associatedWith',
          'createDate',
          'endPointsEnabled',
          'extendedFields',
          'loyaltyInfo',
          'loyaltyProgramEnrollments',
          'loyaltyType',
        ].sort(),
      );
    });

    test('does not name extended fields that were all dropped, nor empty lists', () => {
      const registration = read({
        ...body(),
        extendedFields: { city: null, dob: '' },
        loyaltyProgramEnrollments: [],
        endPointsEnabled: [],
      });
      expect(registration.customerLevelParts).toEqual([]);
    });
  });

  test('refuses more distinct identifiers than one transaction can hold with 400 at the profiles', () => {
    const types = ['externalId', 'wechat', 'martjackId', 'fbId', 'tmall_uname', 'cuid', 'ali_uname', 'jd_uname', 'vip_uname', 'mobilePush'];
    const sources = ['INSTORE', 'MARTJACK', 'TMALL', 'TAOBAO', 'JD', 'ECOMMERCE', 'WEBSITE'];
    // 7 profiles x 10 identifiers = 70 distinct values: accepted.
    const many = (count: number) =>
      sources.slice(0, count).map((source, p) => ({ source, identifiers: types.map((type, i) => ({ type, value: `v-${p}-${i}` })) }));
    expect(read({ profiles: many(7) }).profiles).toHaveLength(7);
    // 10 profiles x 10 identifiers = 100 distinct values: refused.
    const ten = [
      ...many(7),
      ...['FACEBOOK', 'LINE', 'WEB_ENGAGE'].map((source, p) => ({
        source,
        accountId: { FACEBOOK: 'fb-main', LINE: 'line-main', WEB_ENGAGE: 'we-main' }[source],
        identifiers: types.map((type, i) => ({ type, value: `w-${p}-${i}` })),
      })),
    ];
    expect(problems({ profiles: ten })).toEqual([{ code: 400, path: '/profiles' }]);
  });

  test('counts a card whose number is still to be drawn against what one transaction can hold', () => {
    const types = ['externalId', 'wechat', 'martjackId', 'fbId', 'tmall_uname', 'cuid', 'ali_uname', 'jd_uname', 'vip_uname'];
    const accounts: [string, string?][] = [
      ['INSTORE'],
      ['FACEBOOK', 'fb-main'],
      ['WECHAT', 'wx-main'],
      ['WECHAT', 'wx-second'],
      ['WEB_ENGAGE', 'we-main'],
      ['MARTJACK'],
      ['TMALL'],
      ['TAOBAO'],
      ['JD'],
      ['ECOMMERCE'],
    ];
    // 88 values (9 profiles of 9, one of 7); with 10 profile items, the customer item a merge raises and the idempotency record, 100 items: the limit.
    const profiles = accounts.map(([source, accountId], p) => ({
      source,
      ...(accountId ? { accountId } : {}),
      identifiers: types.slice(0, p === 9 ? 7 : 9).map((type, i) => ({ type, value: `v-${p}-${i}` })),
    }));
    expect(read({ profiles }).profiles).toHaveLength(10);
    // A generated card makes it 101.
    const withCard = profiles.map((p, i) =>
      i === 0 ? { ...p, identifiers: [...p.identifiers, { type: 'card', seriesId: 501, statusLabel: 'ACTIVE' }] } : p,
    );
    expect(problems({ profiles: withCard })).toEqual([{ code: 400, path: '/profiles' }]);
  });

  describe('several problems', () => {
    test('are reported together, each with its own code and path, with the warnings gathered so far', () => {
      const error = refusal(
        {
          profiles: [
            {
              identifiers: [
                { type: 'mobile', value: '12' },
                { type: 'email', value: 'x@' },
              ],
            },
            {
              source: 'WECHAT',
              identifiers: [
                { type: 'card', seriesId: 501, statusLabel: 'LOST' },
                { type: 'externalId', value: 'E1' },
              ],
            },
            {
              source: 'FACEBOOK',
              accountId: 'fb-other',
              identifiers: [{ type: 'externalId', value: 'E2' }],
              commChannels: [{ type: 'email', value: 'bad' }],
            },
          ],
          createDate: '2030-01-01T00:00:00Z',
          extendedFields: { gender: 'x' },
          loyaltyProgramEnrollments: [{ programId: 9 }],
          associatedWith: 'nobody',
          activity: 'x',
          typo: true,
        },
        {},
      );
      expect(error.status).toBe(400);
      expect(error.problems.map(({ code, path }) => ({ code, path }))).toEqual(
        expect.arrayContaining([
          { code: 8017, path: '/createDate' },
          { code: 8004, path: '/profiles/0/source' },
          { code: 8014, path: '/profiles/0/identifiers/0/value' },
          { code: 8055, path: '/profiles/0/identifiers/1/value' },
          { code: 8005, path: '/profiles/0/identifiers' },
          { code: 8045, path: '/profiles/1/accountId' },
          { code: 3017, path: '/profiles/1/identifiers/0/statusLabel' },
          { code: 8127, path: '/profiles/2/accountId' },
          { code: 8057, path: '/profiles/2/commChannels/0/value' },
          { code: 91015, path: '/extendedFields/gender' },
          { code: 1213, path: '/loyaltyProgramEnrollments/0/programId' },
        ]),
      );
      expect(error.problems).toHaveLength(11);
      expect(warningsOf(error.warnings)).toEqual(
        expect.arrayContaining([
          { code: 8200, path: '/typo' },
          { code: 8077, path: '/associatedWith' },
          { code: 8200, path: '/activity' },
        ]),
      );
    });

    test('in several profiles are each reported at their profile', () => {
      const bad = { type: 'mobile', value: '1' };
      expect(
        problems(
          body(
            { source: 'INSTORE', identifiers: [bad, { type: 'email', value: 'a@b.co' }] },
            { source: 'WEBSITE', identifiers: [bad, { type: 'email', value: 'a@b.co' }] },
          ),
        ),
      ).toEqual([
        { code: 8014, path: '/profiles/0/identifiers/0/value' },
        { code: 8014, path: '/profiles/1/identifiers/0/value' },
      ]);
    });
  });
});
