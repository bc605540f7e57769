import { fullFormats } from 'ajv-formats/dist/formats';
import { EMAIL_PATTERN, normaliseEmail, normaliseIdentifier, normaliseMobile, normaliseOther } from '../../lib/identifiers';

describe('normaliseMobile', () => {
  test.each([
    ['a national Indian number', '9876543210'],
    ['a number with a leading + and spaces', '+91 98765 43210'],
    ['a number with dashes', '+91-98765-43210'],
    ['a number with dots', '98765.43210'],
    ['a number with brackets', '(98765) 43210'],
    ['a number with square brackets', '[98765] 43210'],
    ['a number with the 00 international prefix', '0091 98765 43210'],
    ['a number with the national trunk prefix 0', '09876543210'],
    ['digits with the country code but no +', '919876543210'],
    ['a number surrounded by whitespace', '  +91 98765 43210  '],
  ])('reads %s as the same digits with country code', (_label, raw) => {
    expect(normaliseMobile(raw, 'IN')).toEqual({ ok: true, value: '919876543210' });
  });

  test('keeps the country code of a number written in international form, whatever the base country', () => {
    expect(normaliseMobile('+1 415 555 2671', 'IN')).toEqual({ ok: true, value: '14155552671' });
    expect(normaliseMobile('+44 7911 123456', 'IN')).toEqual({ ok: true, value: '447911123456' });
  });

  test('reads a national number in the base country it is given', () => {
    expect(normaliseMobile('9123 4567', 'SG')).toEqual({ ok: true, value: '6591234567' });
    expect(normaliseMobile('07911 123456', 'GB')).toEqual({ ok: true, value: '447911123456' });
  });

  test('reads digits that are not a national number of the base country as country code and number', () => {
    expect(normaliseMobile('447911123456', 'IN')).toEqual({ ok: true, value: '447911123456' });
  });

  test('never returns a leading + in the normalised value', () => {
    const result = normaliseMobile('+919876543210', 'IN');
    expect(result.ok && result.value.startsWith('+')).toBe(false);
  });

  test('refuses a landline number, which is not a mobile', () => {
    expect(normaliseMobile('+91 80 2345 6789', 'IN').ok).toBe(false);
    expect(normaliseMobile('080 2345 6789', 'IN').ok).toBe(false);
  });

  test.each([
    ['letters', 'call me'],
    ['too few digits', '1234'],
    ['too many digits', '98765432109876543210123'],
    ['an empty value', ''],
    ['only decoration', ' - ( ) '],
    ['a national number of another country read in India', '4155552671'],
    ['digits mixed with letters', '98765abc10'],
    ['a + in the middle', '91+9876543210'],
  ])('refuses %s with a reason', (_label, raw) => {
    const result = normaliseMobile(raw, 'IN');
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).not.toBe('');
  });
});

describe('normaliseEmail', () => {
  test('trims and lower-cases so that every spelling of one address is matched', () => {
    expect(normaliseEmail('  Asha.Rao@Example.COM ')).toEqual({ ok: true, value: 'asha.rao@example.com' });
    expect(normaliseEmail('asha.rao@example.com')).toEqual(normaliseEmail('ASHA.RAO@EXAMPLE.COM'));
  });

  test('accepts an address of exactly 255 characters', () => {
    const address = `${'a'.repeat(243)}@example.com`;
    expect(address).toHaveLength(255);
    expect(normaliseEmail(address)).toEqual({ ok: true, value: address });
  });

  test('refuses an address longer than 255 characters', () => {
    expect(normaliseEmail(`${'a'.repeat(244)}@example.com`).ok).toBe(false);
  });

  test.each([
    ['no @', 'asha.example.com'],
    ['no domain', 'asha@'],
    ['no local part', '@example.com'],
    ['a space inside', 'asha rao@example.com'],
    ['two @', 'asha@rao@example.com'],
    ['an empty value', ''],
    ['only spaces', '   '],
  ])('refuses an address with %s', (_label, raw) => {
    expect(normaliseEmail(raw).ok).toBe(false);
  });
});

describe('normaliseOther', () => {
  test('trims the value and keeps its case', () => {
    expect(normaliseOther('  EXT-Abc-42 ')).toEqual({ ok: true, value: 'EXT-Abc-42' });
  });

  test('refuses a value that is empty after trimming', () => {
    expect(normaliseOther('').ok).toBe(false);
    expect(normaliseOther(' \t ').ok).toBe(false);
  });
});

describe('normaliseIdentifier', () => {
  test('reads a mobile identifier as a phone number in the base country', () => {
    expect(normaliseIdentifier('mobile', '98765 43210', 'IN')).toEqual({ ok: true, value: '919876543210' });
  });

  test('reads an email identifier case-insensitively', () => {
    expect(normaliseIdentifier('email', ' Asha@Example.com', 'IN')).toEqual({ ok: true, value: 'asha@example.com' });
  });

  test.each([
    'externalId',
    'wechat',
    'martjackId',
    'fbId',
    'tmall_uname',
    'cuid',
    'ali_uname',
    'jd_uname',
    'vip_uname',
    'mobilePush',
    'line',
    'unionId',
    'card',
  ] as const)('only trims a %s identifier, without treating it as a phone number or email', (type) => {
    expect(normaliseIdentifier(type, ' 98765 43210 ', 'IN')).toEqual({ ok: true, value: '98765 43210' });
    expect(normaliseIdentifier(type, ' Asha@Example.com ', 'IN')).toEqual({ ok: true, value: 'Asha@Example.com' });
    expect(normaliseIdentifier(type, '  ', 'IN').ok).toBe(false);
  });

  test('refuses an invalid mobile and an invalid email', () => {
    expect(normaliseIdentifier('mobile', '12', 'IN').ok).toBe(false);
    expect(normaliseIdentifier('email', 'not-an-email', 'IN').ok).toBe(false);
  });
});

test("the email pattern is ajv-formats' own, copied in", () => {
  const theirs = fullFormats.email as RegExp;
  expect({ source: EMAIL_PATTERN.source, flags: EMAIL_PATTERN.flags }).toEqual({ source: theirs.source, flags: theirs.flags });
});
