import { cardNumberMisfit, generateCardNumber, luhnCheckDigit, passesLuhn } from '../../lib/cards';
import type { CardSeries } from '../../lib/org';
import { demoRetail, series } from './demoOrg';

const org = demoRetail();
const DEMO_GEN = series(org, 'DEMO-GEN');
const PARTNER_EXT = series(org, 'PARTNER-EXT');

describe('luhnCheckDigit', () => {
  test.each([
    ['7992739871', 3],
    ['411111111111111', 1],
    ['37828224631000', 5],
    ['01234567890', 3],
    ['77777777777', 5],
    ['0', 0],
  ])('computes the check digit of %s as %d', (payload, digit) => {
    expect(luhnCheckDigit(payload)).toBe(digit);
  });
});

describe('passesLuhn', () => {
  test.each(['79927398713', '4111111111111111', '378282246310005', '5555555555554444', '00'])(
    'accepts the Luhn-valid number %s',
    (digits) => {
      expect(passesLuhn(digits)).toBe(true);
    },
  );

  test.each(['79927398710', '79927398714', '4111111111111112', '378282246310006'])('refuses %s, whose check digit is wrong', (digits) => {
    expect(passesLuhn(digits)).toBe(false);
  });

  test('detects a swap of two neighbouring digits', () => {
    expect(passesLuhn('79927398713')).toBe(true);
    expect(passesLuhn('97927398713')).toBe(false);
  });

  test.each([
    ['an empty string', ''],
    ['a single digit', '0'],
    ['letters', 'ABCDEFGH'],
    ['digits with a letter', '7992739871X'],
    ['digits with spaces', '7992 7398 713'],
  ])('refuses %s', (_label, text) => {
    expect(passesLuhn(text)).toBe(false);
  });
});

describe('cardNumberMisfit', () => {
  test('accepts a number of DEMO-GEN: DEMO, eleven digits and their Luhn check digit', () => {
    expect(cardNumberMisfit(DEMO_GEN, 'DEMO012345678903')).toBeUndefined();
    expect(cardNumberMisfit(DEMO_GEN, 'DEMO777777777775')).toBeUndefined();
  });

  test('refuses a DEMO-GEN number without its prefix', () => {
    expect(cardNumberMisfit(DEMO_GEN, '012345678903')).toBe('must start with DEMO');
    expect(cardNumberMisfit(DEMO_GEN, 'demo012345678903')).toBe('must start with DEMO');
  });

  test('refuses a DEMO-GEN number with anything but digits after the prefix', () => {
    expect(cardNumberMisfit(DEMO_GEN, 'DEMO01234567890A')).toBe('must be digits after the prefix');
    expect(cardNumberMisfit(DEMO_GEN, 'DEMO')).toBe('must be digits after the prefix');
  });

  test('refuses a DEMO-GEN number with too few or too many digits', () => {
    expect(cardNumberMisfit(DEMO_GEN, 'DEMO01234567893')).toBe('must have 12 digits after the prefix');
    expect(cardNumberMisfit(DEMO_GEN, 'DEMO0123456789036')).toBe('must have 12 digits after the prefix');
  });

  test('refuses a DEMO-GEN number whose check digit is wrong', () => {
    expect(cardNumberMisfit(DEMO_GEN, 'DEMO012345678904')).toBe('has a wrong check digit');
  });

  test('accepts PARTNER-EXT numbers of 10 to 20 digits without a check digit', () => {
    expect(cardNumberMisfit(PARTNER_EXT, '1234567890')).toBeUndefined();
    expect(cardNumberMisfit(PARTNER_EXT, '12345678901234567890')).toBeUndefined();
    expect(cardNumberMisfit(PARTNER_EXT, '1234567891')).toBeUndefined();
  });

  test('refuses PARTNER-EXT numbers of 9 or 21 digits', () => {
    expect(cardNumberMisfit(PARTNER_EXT, '123456789')).toBe('must have 10 to 20 digits after the prefix');
    expect(cardNumberMisfit(PARTNER_EXT, '123456789012345678901')).toBe('must have 10 to 20 digits after the prefix');
  });

  test('refuses a PARTNER-EXT number with letters', () => {
    expect(cardNumberMisfit(PARTNER_EXT, 'P123456789012')).toBe('must be digits after the prefix');
  });
});

describe('generateCardNumber', () => {
  test('draws DEMO-GEN numbers that fit their series and pass the Luhn check', () => {
    for (let i = 0; i < 200; i++) {
      const number = generateCardNumber(DEMO_GEN);
      expect(number).toMatch(/^DEMO\d{12}$/);
      expect(cardNumberMisfit(DEMO_GEN, number)).toBeUndefined();
      expect(passesLuhn(number.slice(4))).toBe(true);
    }
  });

  test('draws different numbers on different calls', () => {
    const drawn = new Set(Array.from({ length: 50 }, () => generateCardNumber(DEMO_GEN)));
    expect(drawn.size).toBeGreaterThan(45);
  });

  test('is deterministic with an injected random source: eleven drawn digits, then the check digit', () => {
    let next = 0;
    const calls: number[] = [];
    const counter = (max: number) => {
      calls.push(max);
      return next++ % 10;
    };
    expect(generateCardNumber(DEMO_GEN, counter)).toBe('DEMO012345678903');
    expect(calls).toEqual(Array(11).fill(10));
    expect(generateCardNumber(DEMO_GEN, () => 7)).toBe('DEMO777777777775');
  });

  test('draws the longest allowed number of a series without a check digit', () => {
    expect(generateCardNumber(PARTNER_EXT, () => 4)).toBe('4'.repeat(20));
    expect(cardNumberMisfit(PARTNER_EXT, generateCardNumber(PARTNER_EXT))).toBeUndefined();
  });

  test('fits any series shape: prefix, digit count and check digit', () => {
    const shapes: CardSeries[] = [
      { id: 1, code: 'SHORT', generates: true, prefix: '', minDigits: 2, maxDigits: 2, checkDigit: 'luhn' },
      { id: 2, code: 'LONG', generates: true, prefix: 'X-', minDigits: 16, maxDigits: 19, checkDigit: 'luhn' },
      { id: 3, code: 'PLAIN', generates: true, prefix: '99', minDigits: 8, maxDigits: 8, checkDigit: 'none' },
    ];
    for (const shape of shapes) {
      for (let i = 0; i < 50; i++) expect(cardNumberMisfit(shape, generateCardNumber(shape))).toBeUndefined();
    }
  });
});
