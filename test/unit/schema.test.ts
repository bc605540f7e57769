import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../../lib/errors';
import { generateValidatorSource } from '../../lib/schemas/generate';
import { escapePointer } from '../../lib/pointer';
import { checkAddCustomerBody } from '../../lib/schemas/validate';

// The schema check of `POST /v2/customers` bodies (SPEC sections 3 and 4).

const MOBILE = { type: 'mobile', value: '9876543210' };
const PROFILE = { source: 'INSTORE', identifiers: [MOBILE] };

function refusal(body: unknown): ApiError {
  try {
    checkAddCustomerBody(body);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected the body to be refused');
}

/** Codes and paths of the errors a client sees. */
const errors = (body: unknown) => refusal(body).problems.map(({ code, path }) => ({ code, path }));
const warnings = (body: unknown) => checkAddCustomerBody(body).warnings.map(({ code, path }) => ({ code, path }));

const withProfile = (extra: Record<string, unknown>) => ({ profiles: [{ ...PROFILE, ...extra }] });
const withChannel = (channel: Record<string, unknown>) => withProfile({ commChannels: [channel] });

describe('checkAddCustomerBody', () => {
  test('accepts a full valid body without warnings, returning it unchanged', () => {
    const body = {
      loyaltyType: 'loyalty',
      loyaltyInfo: { loyaltyType: 'loyalty' },
      profiles: [
        {
          firstName: 'Asha',
          lastName: 'Rao',
          source: 'WECHAT',
          accountId: 'wx-main',
          identifiers: [
            MOBILE,
            {
              type: 'cardnumber',
              seriesId: 501,
              seriesCode: 'DEMO-GEN',
              statusLabel: 'ACTIVE',
              fields: { a: 'b' },
              extendedFields: { gender: 'Male' },
            },
          ],
          fields: { shoe: '42' },
          commChannels: [
            {
              type: 'mobilePush',
              value: 'token',
              primary: 'true',
              verified: false,
              subscribed: true,
              meta: { lastViewedDate: '2024-01-01T00:00:00Z', residence: 'false' },
              attributes: { os: 'ios', n: 1, b: true, x: null },
            },
          ],
        },
      ],
      extendedFields: { city: 'Pune', household_size: 3, opted: true, none: null },
      loyaltyProgramEnrollments: [
        { programId: 1, tierNumber: 2, loyaltyPoints: 0, tierExpiryDate: '2030-01-01T00:00:00Z', pointsExpiryDate: '2030-01-01T00:00:00Z' },
      ],
      createDate: '2024-01-01T00:00:00+05:30',
      associatedWith: 'store2.till',
      endPointsEnabled: ['REFERRAL_ENDPOINT', 'DVS_ENDPOINT', 'TIMELINE_ENDPOINT', 'POINTENGINE_ENDPOINT'],
      activity: { anything: ['goes'] },
    };
    const checked = checkAddCustomerBody(body);
    expect(checked.warnings).toEqual([]);
    expect(checked.body).toEqual(body);
  });

  describe('unknown keys', () => {
    test('are ignored with a warning 8200 naming their path, at every level', () => {
      const body = {
        nickname: 'A',
        loyaltyInfo: { tier: 'gold' },
        profiles: [
          {
            ...PROFILE,
            middleName: 'K',
            identifiers: [{ ...MOBILE, verified: true }],
            commChannels: [{ type: 'email', value: 'a@b.co', label: 'home', meta: { opened: 1 } }],
          },
        ],
        loyaltyProgramEnrollments: [{ programId: 1, bonus: 5 }],
      };
      expect(warnings(body)).toEqual(
        expect.arrayContaining([
          { code: 8200, path: '/nickname' },
          { code: 8200, path: '/loyaltyInfo/tier' },
          { code: 8200, path: '/profiles/0/middleName' },
          { code: 8200, path: '/profiles/0/identifiers/0/verified' },
          { code: 8200, path: '/profiles/0/commChannels/0/label' },
          { code: 8200, path: '/profiles/0/commChannels/0/meta/opened' },
          { code: 8200, path: '/loyaltyProgramEnrollments/0/bonus' },
        ]),
      );
      expect(warnings(body)).toHaveLength(7);
    });

    test('are named in the warning message', () => {
      expect(checkAddCustomerBody({ ...withProfile({}), nickname: 'A' }).warnings[0].message).toContain('/nickname');
    });

    test('escape / and ~ in the path they name', () => {
      expect(warnings({ ...withProfile({}), 'a/b': 1, 'c~d': 2 })).toEqual([
        { code: 8200, path: '/a~1b' },
        { code: 8200, path: '/c~0d' },
      ]);
    });

    test('travel with the errors when the body is refused for something else', () => {
      const error = refusal({ profiles: [], nickname: 'A' });
      expect(error.problems.map(({ code, path }) => ({ code, path }))).toEqual([{ code: 400, path: '/profiles' }]);
      expect(error.warnings.map(({ code, path }) => ({ code, path }))).toEqual([{ code: 8200, path: '/nickname' }]);
    });
  });

  describe('source', () => {
    test.each(['MYSPACE', 'instore', ''])('leaves the source %p to the org rules, which report it with the other rules', (source) => {
      expect(warnings(withProfile({ source }))).toEqual([]);
    });

    test('refuses a source that is not a string with 8003 only', () => {
      expect(new Set(errors(withProfile({ source: 7 })).map((e) => `${e.code} ${e.path}`))).toEqual(new Set(['8003 /profiles/0/source']));
    });

    test('refuses a source longer than any source name with 8003 at its path', () => {
      expect(errors({ profiles: [PROFILE, { ...PROFILE, source: 'W'.repeat(51) }] })).toEqual([{ code: 8003, path: '/profiles/1/source' }]);
    });

    test('accepts a profile without source, for the query parameter to fill in', () => {
      expect(warnings({ profiles: [{ identifiers: [MOBILE] }] })).toEqual([]);
    });
  });

  describe('comm channels', () => {
    test.each([
      ['an unknown type', { type: 'fax', value: '1' }, 'type'],
      ['a type that is not a string', { type: 1, value: '1' }, 'type'],
      ['a missing type', { value: '1' }, 'type'],
      ['a missing value', { type: 'email' }, 'value'],
      ['a value that is not a string', { type: 'email', value: 5 }, 'value'],
      ['a value longer than 255 characters', { type: 'wechat', value: 'w'.repeat(256) }, 'value'],
      ['a primary flag that is not a boolean', { type: 'email', value: 'a@b.co', primary: 'yes' }, 'primary'],
      ['a verified flag that is a number', { type: 'email', value: 'a@b.co', verified: 1 }, 'verified'],
      ['a subscribed flag that is null', { type: 'email', value: 'a@b.co', subscribed: null }, 'subscribed'],
      ['meta that is not an object', { type: 'mobilePush', value: 't', meta: 'x' }, 'meta'],
      ['a meta.residence that is not a boolean', { type: 'mobilePush', value: 't', meta: { residence: 'maybe' } }, 'meta/residence'],
      [
        'a meta.lastViewedDate that is too long',
        { type: 'mobilePush', value: 't', meta: { lastViewedDate: 'x'.repeat(41) } },
        'meta/lastViewedDate',
      ],
      ['attributes that are not an object', { type: 'email', value: 'a@b.co', attributes: [] }, 'attributes'],
      ['an attribute that is an object', { type: 'email', value: 'a@b.co', attributes: { a: { b: 1 } } }, 'attributes/a'],
      ['an attribute longer than 255 characters', { type: 'email', value: 'a@b.co', attributes: { a: 'x'.repeat(256) } }, 'attributes/a'],
      ['an attribute number too large to store', { type: 'email', value: 'a@b.co', attributes: { n: 1e130 } }, 'attributes/n'],
      ['an attribute with an empty name', { type: 'email', value: 'a@b.co', attributes: { '': 'x' } }, 'attributes'],
      [
        'more than 50 attributes',
        { type: 'email', value: 'a@b.co', attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`a${i}`, i])) },
        'attributes',
      ],
    ])('refuses a comm channel with %s with 8010 at its path', (_label, channel, at) => {
      // A value may break two rules (type and enum); each is reported, all with the same code and path.
      const found = errors(withChannel(channel));
      expect(found.length).toBeGreaterThan(0);
      expect(new Set(found.map((e) => `${e.code} ${e.path}`))).toEqual(new Set([`8010 /profiles/0/commChannels/0/${at}`]));
    });

    test('accepts "true" and "false" as flags', () => {
      expect(warnings(withChannel({ type: 'email', value: 'a@b.co', primary: 'true', verified: 'false', subscribed: false }))).toEqual([]);
    });
  });

  describe('other violations', () => {
    test.each([
      ['a body that is not an object', [], ''],
      ['a body that is null', null, ''],
      ['a body without profiles', {}, '/profiles'],
      ['no profiles', { profiles: [] }, '/profiles'],
      ['more than 10 profiles', { profiles: Array(11).fill(PROFILE) }, '/profiles'],
      ['a profile that is not an object', { profiles: ['INSTORE'] }, '/profiles/0'],
      ['a first name over 100 characters', withProfile({ firstName: 'a'.repeat(101) }), '/profiles/0/firstName'],
      ['a last name that is not a string (nor a number read as one)', withProfile({ lastName: true }), '/profiles/0/lastName'],
      [
        'an identifier type that is not a string',
        withProfile({ identifiers: [{ type: 7, value: '1' }] }),
        '/profiles/0/identifiers/0/type',
      ],
      ['an identifier without type', withProfile({ identifiers: [{ value: '1' }] }), '/profiles/0/identifiers/0/type'],
      [
        'an identifier value that is a negative number',
        withProfile({ identifiers: [{ type: 'mobile', value: -9876501234 }] }),
        '/profiles/0/identifiers/0/value',
      ],
      [
        'a card seriesId that is not an integer (nor digits read as one)',
        withProfile({ identifiers: [{ type: 'card', seriesId: '501a', statusLabel: 'ACTIVE' }] }),
        '/profiles/0/identifiers/0/seriesId',
      ],
      ['a custom field value that is a fraction', withProfile({ fields: { shoe: 42.5 } }), '/profiles/0/fields/shoe'],
      ['a custom field value over 255 characters', withProfile({ fields: { note: 'n'.repeat(256) } }), '/profiles/0/fields/note'],
      ['a custom field with an empty name', withProfile({ fields: { '': 'x' } }), '/profiles/0/fields'],
      ['a custom field name over 64 characters', withProfile({ fields: { ['k'.repeat(65)]: 'x' } }), '/profiles/0/fields'],
      [
        'more than 50 custom fields',
        withProfile({ fields: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }),
        '/profiles/0/fields',
      ],
      ['an unknown loyaltyType', { ...withProfile({}), loyaltyType: 'gold' }, '/loyaltyType'],
      ['an unknown loyaltyInfo.loyaltyType', { ...withProfile({}), loyaltyInfo: { loyaltyType: 'LOYALTY' } }, '/loyaltyInfo/loyaltyType'],
      ['an extended field that is an object', { ...withProfile({}), extendedFields: { city: { name: 'Pune' } } }, '/extendedFields/city'],
      [
        'an enrollment without programId',
        { ...withProfile({}), loyaltyProgramEnrollments: [{ tierNumber: 1 }] },
        '/loyaltyProgramEnrollments/0/programId',
      ],
      [
        'negative points',
        { ...withProfile({}), loyaltyProgramEnrollments: [{ programId: 1, loyaltyPoints: -1 }] },
        '/loyaltyProgramEnrollments/0/loyaltyPoints',
      ],
      [
        'points beyond 2^53',
        { ...withProfile({}), loyaltyProgramEnrollments: [{ programId: 1, loyaltyPoints: 2 ** 53 }] },
        '/loyaltyProgramEnrollments/0/loyaltyPoints',
      ],
      [
        'more than 100 extended fields',
        { ...withProfile({}), extendedFields: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, 'v'])) },
        '/extendedFields',
      ],
      [
        'fractional points',
        { ...withProfile({}), loyaltyProgramEnrollments: [{ programId: 1, loyaltyPoints: 1.5 }] },
        '/loyaltyProgramEnrollments/0/loyaltyPoints',
      ],
      ['a createDate that is a number', { ...withProfile({}), createDate: 1717243200000 }, '/createDate'],
      ['an unknown endpoint', { ...withProfile({}), endPointsEnabled: ['PUSH_ENDPOINT'] }, '/endPointsEnabled/0'],
      ['an endpoint listed twice', { ...withProfile({}), endPointsEnabled: ['DVS_ENDPOINT', 'DVS_ENDPOINT'] }, '/endPointsEnabled'],
    ])('refuses %s with 400 at its path', (_label, body, path) => {
      expect(errors(body)).toEqual([{ code: 400, path }]);
    });

    test.each([
      [
        'a mobile sent as a number',
        withProfile({ identifiers: [{ type: 'mobile', value: 919876501234 }] }),
        (b: any) => b.profiles[0].identifiers[0].value,
        '919876501234',
      ],
      ['a last name sent as a number', withProfile({ lastName: 5 }), (b: any) => b.profiles[0].lastName, '5'],
      ['a custom field value sent as a number', withProfile({ fields: { shoe: 42 } }), (b: any) => b.profiles[0].fields.shoe, '42'],
      [
        'a seriesId sent as digits',
        withProfile({ identifiers: [{ type: 'card', seriesId: ' 501 ', statusLabel: 'ACTIVE' }] }),
        (b: any) => b.profiles[0].identifiers[0].seriesId,
        501,
      ],
      [
        'loyalty points sent as digits',
        { ...withProfile({}), loyaltyProgramEnrollments: [{ programId: '1', loyaltyPoints: '20' }] },
        (b: any) => b.loyaltyProgramEnrollments[0].loyaltyPoints,
        20,
      ],
    ])('reads %s as its canonical type', (_label, body, read, expected) => {
      expect(read(checkAddCustomerBody(body).body)).toBe(expected);
    });

    test.each([
      ['a source', withProfile({ source: 7 }), '/profiles/0/source', 8003],
      ['a createDate', { ...withProfile({}), createDate: 20240601 }, '/createDate', 400],
      [
        'a comm channel value',
        withProfile({ commChannels: [{ type: 'mobile', value: 9876501234 }] }),
        '/profiles/0/commChannels/0/value',
        8010,
      ],
    ])('does not read a number as %s, which is no place of tolerant input', (_label, body, path, code) => {
      expect(errors(body)).toContainEqual({ code, path });
    });

    test('refuses an integer beyond 2^53 − 1 where a string is expected, asking for a string', () => {
      expect(errors(withProfile({ identifiers: [{ type: 'externalId', value: 2 ** 60 }] }))).toEqual([
        { code: 400, path: '/profiles/0/identifiers/0/value' },
      ]);
    });

    test('a missing required key is reported at the path where it belongs', () => {
      expect(errors({ ...withProfile({}), loyaltyProgramEnrollments: [{ programId: 1 }, {}] })).toEqual([
        { code: 400, path: '/loyaltyProgramEnrollments/1/programId' },
      ]);
    });

    test('every violation is reported, not only the first', () => {
      const body = {
        profiles: [{ source: 7, identifiers: [{ type: 'mobile', value: false }], commChannels: [{ type: 'fax', value: '1' }] }],
        loyaltyType: 'gold',
        extendedFields: { city: [] },
      };
      expect(errors(body)).toEqual(
        expect.arrayContaining([
          { code: 8003, path: '/profiles/0/source' },
          { code: 400, path: '/profiles/0/identifiers/0/value' },
          { code: 8010, path: '/profiles/0/commChannels/0/type' },
          { code: 400, path: '/loyaltyType' },
          { code: 400, path: '/extendedFields/city' },
        ]),
      );
      expect(errors(body)).toHaveLength(5);
    });

    test('a refusal has HTTP status 400 and a message naming the path', () => {
      const error = refusal(withProfile({ firstName: 'a'.repeat(101) }));
      expect(error.status).toBe(400);
      expect(error.problems[0].message).toContain('/profiles/0/firstName');
    });
  });
});

describe('escapePointer', () => {
  test('escapes ~ before / as RFC 6901 requires', () => {
    expect(escapePointer('a~/b')).toBe('a~0~1b');
    expect(escapePointer('~1')).toBe('~01');
    expect(escapePointer('plain')).toBe('plain');
  });
});

describe('the compiled validator', () => {
  test('lib/schemas/validators.generated.js is what the schema compiles to (run `npm run build:schemas` after changing a schema)', () => {
    const committed = readFileSync(join(__dirname, '..', '..', 'lib', 'schemas', 'validators.generated.js'), 'utf8');
    expect(committed).toBe(generateValidatorSource());
  });
});

describe('unknown keys in bulk', () => {
  test('are reported one by one up to 50, then in one warning saying how many more were ignored', () => {
    const extra = Object.fromEntries(Array.from({ length: 2600 }, (_, i) => [`typo${i}`, 'x']));
    const { warnings: found } = checkAddCustomerBody({ profiles: [{ ...PROFILE, identifiers: [{ ...MOBILE, ...extra }] }] });
    expect(found).toHaveLength(51);
    expect(found.slice(0, 50).every((w) => w.code === 8200 && w.path?.startsWith('/profiles/0/identifiers/0/typo'))).toBe(true);
    expect(found[50]).toMatchObject({ code: 8200, message: '2550 more unknown keys ignored' });
  });
});
