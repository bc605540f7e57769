import { Problems } from '../../lib/errors';
import { readExtendedFields } from '../../lib/extendedFields';
import type { ExtendedFieldDefinition } from '../../lib/org';
import { demoRetail } from './demoOrg';

const definitions = demoRetail().extendedFields;

/** Reads values against org 100's definitions; returns what was accepted and what was refused. */
function read(
  values: Record<string, unknown> | undefined,
  defs: readonly ExtendedFieldDefinition[] = definitions,
  basePath = '/extendedFields',
) {
  const problems = new Problems();
  const accepted = readExtendedFields(values, defs, basePath, problems);
  return { accepted, problems: problems.list.map(({ code, path }) => ({ code, path })) };
}

const accepts = (name: string, value: unknown, stored: unknown) => {
  expect(read({ [name]: value })).toEqual({ accepted: { [name]: stored }, problems: [] });
};
const refuses = (name: string, value: unknown) => {
  expect(read({ [name]: value })).toEqual({ accepted: {}, problems: [{ code: 91015, path: `/extendedFields/${name}` }] });
};

describe('readExtendedFields', () => {
  test('accepts nothing and reports nothing when no extended fields are sent', () => {
    expect(read(undefined)).toEqual({ accepted: {}, problems: [] });
    expect(read({})).toEqual({ accepted: {}, problems: [] });
  });

  test('accepts one valid value of every data type of the demo org at once', () => {
    expect(
      read({
        gender: 'Female',
        dob: '1990-04-12',
        city: 'Bengaluru',
        preferred_store: 'Indiranagar',
        nationality: 'IN',
        age_group: '25-34',
        household_size: 4,
        annual_income: 1250000.5,
        marketing_opt_in_at: '2024-01-01T10:00:00+05:30',
      }),
    ).toEqual({
      accepted: {
        gender: 'Female',
        dob: '1990-04-12',
        city: 'Bengaluru',
        preferred_store: 'Indiranagar',
        nationality: 'IN',
        age_group: '25-34',
        household_size: 4,
        annual_income: 1250000.5,
        marketing_opt_in_at: '2024-01-01T10:00:00+05:30',
      },
      problems: [],
    });
  });

  describe('STRING', () => {
    test('accepts a value up to its maximum length, trimmed', () => {
      accepts('city', `  ${'c'.repeat(100)}  `, 'c'.repeat(100));
      accepts('preferred_store', 's'.repeat(50), 's'.repeat(50));
    });

    test('refuses a value longer than its maximum length', () => {
      refuses('city', 'c'.repeat(101));
      refuses('preferred_store', 's'.repeat(51));
    });

    test('limits a STRING without a maximum length to 255 characters', () => {
      const note: ExtendedFieldDefinition[] = [{ name: 'note', label: 'Note', dataType: 'STRING' }];
      expect(read({ note: 'n'.repeat(255) }, note).problems).toEqual([]);
      expect(read({ note: 'n'.repeat(256) }, note).problems).toEqual([{ code: 91015, path: '/extendedFields/note' }]);
    });

    test('refuses a number or a boolean', () => {
      refuses('city', 42);
      refuses('city', true);
    });
  });

  describe('INTEGER', () => {
    test('accepts an integer, given as a number or as a string of digits', () => {
      accepts('household_size', 4, 4);
      accepts('household_size', '4', 4);
      accepts('household_size', ' -3 ', -3);
      accepts('household_size', 0, 0);
    });

    test.each([
      ['a fraction', 4.5],
      ['a fraction in a string', '4.5'],
      ['a word', 'four'],
      ['a boolean', true],
      ['an integer beyond 2^53', 2 ** 53],
      ['a string of more than 15 digits', '1234567890123456'],
    ])('refuses %s', (_label, value) => {
      refuses('household_size', value);
    });
  });

  describe('DOUBLE', () => {
    test('accepts a number, given as a number or as a numeric string', () => {
      accepts('annual_income', 1250000.75, 1250000.75);
      accepts('annual_income', 12, 12);
      accepts('annual_income', '1250000.75', 1250000.75);
      accepts('annual_income', '-0.5', -0.5);
      accepts('annual_income', '1.5e3', 1500);
      accepts('annual_income', 0, 0);
      accepts('annual_income', '0.0', 0);
    });

    test.each([
      ['a word', 'lots'],
      ['a number with a currency sign', '$100'],
      ['a number with a thousands separator', '1,000'],
      ['a boolean', false],
      ['a magnitude too large for DynamoDB', 1e130],
      ['a magnitude too small for DynamoDB', '1e-130'],
    ])('refuses %s', (_label, value) => {
      refuses('annual_income', value);
    });
  });

  describe('DATE', () => {
    test('accepts a calendar day YYYY-MM-DD', () => {
      accepts('dob', '1990-04-12', '1990-04-12');
      accepts('dob', '2000-02-29', '2000-02-29');
    });

    test.each([
      ['a day that does not exist', '1990-02-30'],
      ['a date-time', '1990-04-12T00:00:00Z'],
      ['day-first order', '12-04-1990'],
      ['a number', 19900412],
    ])('refuses %s', (_label, value) => {
      refuses('dob', value);
    });
  });

  describe('DATETIME', () => {
    test('accepts an ISO 8601 date-time with an offset, as sent', () => {
      accepts('marketing_opt_in_at', '2024-01-01T10:00:00+05:30', '2024-01-01T10:00:00+05:30');
      accepts('marketing_opt_in_at', '2024-01-01T04:30:00Z', '2024-01-01T04:30:00Z');
    });

    test.each([
      ['a date-time without offset', '2024-01-01T10:00:00'],
      ['a date only', '2024-01-01'],
      ['an impossible time', '2024-01-01T25:00:00Z'],
      ['a timestamp number', 1704083400000],
    ])('refuses %s', (_label, value) => {
      refuses('marketing_opt_in_at', value);
    });
  });

  describe('STANDARD_ENUM and CUSTOM_ENUM', () => {
    test('accept each value of their enum', () => {
      for (const gender of ['Male', 'Female', 'Other']) accepts('gender', gender, gender);
      for (const group of ['18-24', '25-34', '35-44', '45+']) accepts('age_group', group, group);
    });

    test('accept a value surrounded by spaces, trimmed', () => {
      accepts('gender', ' Male ', 'Male');
    });

    test.each([
      ['gender', 'Unknown'],
      ['gender', 'M'],
      ['gender', 1],
      ['age_group', '55-64'],
      ['age_group', '45'],
    ])('refuse %s %p, which is not in the enum', (name, value) => {
      refuses(name, value);
    });
  });

  describe('COUNTRY', () => {
    test('accepts an ISO 3166-1 alpha-2 code and stores it in upper case', () => {
      accepts('nationality', 'IN', 'IN');
      accepts('nationality', 'sg', 'SG');
      accepts('nationality', ' gb ', 'GB');
    });

    test.each(['AQ', 'BV', 'GS', 'HM', 'PN', 'TF', 'UM'])(
      'accepts %s, an assigned ISO 3166-1 alpha-2 code without a telephone region of its own',
      (code) => {
        accepts('nationality', code, code);
      },
    );

    test.each([
      ['an alpha-3 code', 'IND'],
      ['a country name', 'India'],
      ['an unassigned code', 'ZZ'],
      ['UK, which is not the ISO code of the United Kingdom', 'UK'],
      ['a telephone-only region (Ascension)', 'AC'],
      ['a telephone-only region (Tristan da Cunha)', 'TA'],
      ['a user-assigned code (Kosovo)', 'XK'],
      ['a number', 91],
    ])('refuses %s', (_label, value) => {
      refuses('nationality', value);
    });
  });

  test('drops null and empty values silently, even for fields the org does not have', () => {
    expect(read({ city: null, gender: '', unknown_field: null, other_unknown: '' })).toEqual({ accepted: {}, problems: [] });
  });

  test('refuses a field the org has not enabled with 91015 at its path', () => {
    expect(read({ shoe_size: '42', city: 'Pune' })).toEqual({
      accepted: { city: 'Pune' },
      problems: [{ code: 91015, path: '/extendedFields/shoe_size' }],
    });
  });

  test('refuses every extended field of an org that has none', () => {
    expect(read({ city: 'Pune' }, [])).toEqual({ accepted: {}, problems: [{ code: 91015, path: '/extendedFields/city' }] });
  });

  test('reports every wrong value at once, each at its own path', () => {
    expect(read({ gender: 'x', dob: 'x', household_size: 'x', nationality: 'x', city: 'Pune' })).toEqual({
      accepted: { city: 'Pune' },
      problems: [
        { code: 91015, path: '/extendedFields/gender' },
        { code: 91015, path: '/extendedFields/dob' },
        { code: 91015, path: '/extendedFields/household_size' },
        { code: 91015, path: '/extendedFields/nationality' },
      ],
    });
  });

  test('escapes / and ~ of a field name in its JSON pointer', () => {
    expect(read({ 'a/b': 'x', 'c~d': 'y' }).problems).toEqual([
      { code: 91015, path: '/extendedFields/a~1b' },
      { code: 91015, path: '/extendedFields/c~0d' },
    ]);
  });

  test('reports paths under the base path it is given, e.g. a card identifier', () => {
    const base = '/profiles/0/identifiers/1/extendedFields';
    expect(read({ gender: 'x' }, definitions, base).problems).toEqual([{ code: 91015, path: `${base}/gender` }]);
  });

  test('names the field and the rule in the message', () => {
    const problems = new Problems();
    readExtendedFields({ city: 'c'.repeat(101) }, definitions, '/extendedFields', problems);
    expect(problems.list[0].message).toContain('city');
    expect(problems.list[0].message).toContain('100');
  });
});
