import { randomInt } from 'node:crypto';
import { addCustomer, expectRefused, getCustomer, instoreProfile, lookup, uniqueMobile } from '../support/customers';
import { codes } from '../support/http';
import { customerItems, useDemoTable } from '../support/table';
import { Entity, keys } from '../../lib/store/keys';
import { luhnValid } from '../support/luhn';

// Cards issued with a registration (SPEC section 3, Cards; section 7 for org 100's series):
// 501 DEMO-GEN generates `DEMO` + 12 Luhn-valid digits, 502 PARTNER-EXT takes given numbers
// of 10 to 20 digits; a card number belongs to at most one customer of the org.

useDemoTable();
jest.setTimeout(120_000);

/** A DEMO-GEN number with the given 11-digit payload and its Luhn check digit. */
function demoNumber(payload: string): string {
  for (let check = 0; check <= 9; check++) {
    if (luhnValid(`${payload}${check}`)) return `DEMO${payload}${check}`;
  }
  throw new Error('unreachable');
}

/** A DEMO-GEN number with a wrong check digit. */
function badDemoNumber(payload: string): string {
  const good = Number(demoNumber(payload).slice(-1));
  return `DEMO${payload}${(good + 1) % 10}`;
}

let partnerCounter = 0;
/** A PARTNER-EXT number (digits only) not used before in this file. */
function partnerNumber(length = 16): string {
  partnerCounter += 1;
  let number = `7${String(partnerCounter).padStart(3, '0')}`;
  while (number.length < length) number += String(randomInt(10));
  return number;
}

const mobile = () => ({ type: 'mobile', value: uniqueMobile() });
/** An INSTORE profile with any identifiers, cards with their extras included. */
const profile = (...identifiers: object[]) => instoreProfile(identifiers as { type: string; value: string }[]);

describe('cards of series 501 DEMO-GEN (generating)', () => {
  test('a card sent without a value gets a new DEMO number of 12 Luhn-valid digits, returned as a card side effect', async () => {
    const reply = await addCustomer({
      profiles: [profile(mobile(), { type: 'card', seriesId: 501, statusLabel: 'ACTIVE' })],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.sideEffects).toEqual([
      { type: 'card', cardNumber: expect.stringMatching(/^DEMO\d{12}$/), seriesId: 501, seriesCode: 'DEMO-GEN', statusLabel: 'ACTIVE' },
    ]);
    const cardNumber: string = reply.body.sideEffects[0].cardNumber;
    expect(luhnValid(cardNumber.slice(4))).toBe(true);
  });

  test('the generated card appears in GET cardDetails and among the profile identifiers', async () => {
    const reply = await addCustomer({
      profiles: [profile(mobile(), { type: 'card', seriesId: 501, statusLabel: 'NOT_ISSUED' })],
    });
    expect(reply.status).toBe(200);
    const { cardNumber } = reply.body.sideEffects[0];

    const customer = await getCustomer(reply.body.createdId);
    expect(customer.status).toBe(200);
    expect(customer.body.cardDetails).toEqual([
      expect.objectContaining({
        cardNumber,
        seriesId: 501,
        seriesCode: 'DEMO-GEN',
        statusLabel: 'NOT_ISSUED',
        issuedDate: expect.any(String),
      }),
    ]);
    expect(Number.isNaN(Date.parse(customer.body.cardDetails[0].issuedDate))).toBe(false);
    expect(customer.body.profiles[0].identifiers).toEqual(expect.arrayContaining([{ type: 'card', value: cardNumber }]));
  });

  test('a customer is found by the card number under identifierName card and cardnumber', async () => {
    const reply = await addCustomer({
      profiles: [profile(mobile(), { type: 'card', seriesId: 501, statusLabel: 'ACTIVE' })],
    });
    expect(reply.status).toBe(200);
    const { cardNumber } = reply.body.sideEffects[0];
    const id = reply.body.createdId;

    for (const identifierName of ['card', 'cardnumber']) {
      for (const source of ['ALL', 'INSTORE']) {
        const found = await lookup({ source, identifierName, identifierValue: cardNumber });
        expect(found.status).toBe(200);
        expect(found.body.entity).toBe(id);
      }
    }
  });

  test('the series may be named by its code and the identifier by its older name cardnumber', async () => {
    const reply = await addCustomer({
      profiles: [profile(mobile(), { type: 'cardnumber', seriesCode: 'DEMO-GEN', statusLabel: 'SUSPENDED' })],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.sideEffects).toEqual([
      { type: 'card', cardNumber: expect.stringMatching(/^DEMO\d{12}$/), seriesId: 501, seriesCode: 'DEMO-GEN', statusLabel: 'SUSPENDED' },
    ]);
  });

  test('every registration gets a different generated number', async () => {
    const numbers = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const reply = await addCustomer({
        profiles: [profile(mobile(), { type: 'card', seriesId: 501, statusLabel: 'ACTIVE' })],
      });
      expect(reply.status).toBe(200);
      numbers.add(reply.body.sideEffects[0].cardNumber);
    }
    expect(numbers.size).toBe(5);
  });

  test('a given number that fits the series (prefix, 12 digits, Luhn) is issued as sent', async () => {
    const cardNumber = demoNumber('40213370561');
    const reply = await addCustomer({
      profiles: [profile(mobile(), { type: 'card', value: cardNumber, seriesId: 501, statusLabel: 'ACTIVE' })],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.sideEffects).toEqual([{ type: 'card', cardNumber, seriesId: 501, seriesCode: 'DEMO-GEN', statusLabel: 'ACTIVE' }]);
    const customer = await getCustomer(reply.body.createdId);
    expect(customer.body.cardDetails.map((c: { cardNumber: string }) => c.cardNumber)).toEqual([cardNumber]);
  });

  test('a profile whose only identifier is a card is registered', async () => {
    const reply = await addCustomer({
      profiles: [profile({ type: 'card', seriesId: 501, statusLabel: 'ACTIVE' })],
    });
    expect(reply.status).toBe(200);
    const { cardNumber } = reply.body.sideEffects[0];
    const found = await lookup({ source: 'ALL', identifierName: 'card', identifierValue: cardNumber });
    expect(found.body.entity).toBe(reply.body.createdId);
  });

  test.each([
    ['a wrong check digit', () => badDemoNumber('40213370562')],
    ['a wrong prefix', () => `CARD${demoNumber('40213370563').slice(4)}`],
    ['no prefix', () => demoNumber('40213370564').slice(4)],
    ['11 digits', () => demoNumber('40213370565').slice(0, -1)],
    ['13 digits', () => `${demoNumber('40213370566')}0`],
    ['letters among the digits', () => `DEMO4021337056A${demoNumber('40213370567').slice(-1)}`],
  ])('a given DEMO-GEN number with %s is refused with 3000 and nothing is written', async (_case, number) => {
    const reply = await expectRefused(
      { profiles: [profile(mobile(), { type: 'card', value: number(), seriesId: 501, statusLabel: 'ACTIVE' })] },
      400,
      [3000],
    );
    expect(reply.body.errors[0].path).toMatch(/^\/profiles\/0\/identifiers\/1/);
  });
});

describe('cards of series 502 PARTNER-EXT (given numbers)', () => {
  test.each([10, 16, 20])('a given number of %i digits is issued and returned as a side effect', async (length) => {
    const cardNumber = partnerNumber(length);
    const reply = await addCustomer({
      profiles: [profile(mobile(), { type: 'card', value: cardNumber, seriesCode: 'PARTNER-EXT', statusLabel: 'ACTIVE' })],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.sideEffects).toEqual([{ type: 'card', cardNumber, seriesId: 502, seriesCode: 'PARTNER-EXT', statusLabel: 'ACTIVE' }]);
    const customer = await getCustomer(reply.body.createdId);
    expect(customer.body.cardDetails).toEqual([
      expect.objectContaining({ cardNumber, seriesId: 502, seriesCode: 'PARTNER-EXT', statusLabel: 'ACTIVE' }),
    ]);
  });

  test('a card without a value is refused with 3000 because the series does not generate numbers', async () => {
    const reply = await expectRefused(
      { profiles: [profile(mobile(), { type: 'card', seriesId: 502, statusLabel: 'ACTIVE' })] },
      400,
      [3000],
    );
    expect(reply.body.errors[0].path).toMatch(/^\/profiles\/0\/identifiers\/1/);
  });

  test.each([
    ['9 digits', '123456789'],
    ['21 digits', '123456789012345678901'],
    ['letters', '12345ABCDE6789'],
    ['a DEMO prefix', 'DEMO1234567890'],
  ])('a given number with %s does not fit and is refused with 3000', async (_case, value) => {
    const reply = await expectRefused(
      { profiles: [profile(mobile(), { type: 'card', value, seriesId: 502, statusLabel: 'ACTIVE' })] },
      400,
      [3000],
    );
    expect(reply.body.errors[0].path).toMatch(/^\/profiles\/0\/identifiers\/1/);
  });
});

describe('card series and status labels', () => {
  test.each([
    ['an unknown seriesId', { seriesId: 999 }],
    ['an unknown seriesCode', { seriesCode: 'NO-SUCH-SERIES' }],
    ['neither seriesId nor seriesCode', {}],
    ['a seriesCode that does not match the seriesId', { seriesId: 501, seriesCode: 'PARTNER-EXT' }],
  ])('a card with %s is refused with 3004 and nothing is written', async (_case, series) => {
    const reply = await expectRefused({ profiles: [profile(mobile(), { type: 'card', statusLabel: 'ACTIVE', ...series })] }, 400, [3004]);
    expect(reply.body.errors[0].path).toMatch(/^\/profiles\/0\/identifiers\/1/);
  });

  test('an org without card series (200) refuses a card with 3004', async () => {
    await expectRefused(
      { profiles: [profile(mobile(), { type: 'card', value: partnerNumber(), seriesId: 502, statusLabel: 'ACTIVE' })] },
      400,
      [3004],
      { till: 'other' },
    );
  });

  test.each([
    ['an unknown status label', { statusLabel: 'LOST' }],
    ['a status label in the wrong case', { statusLabel: 'active' }],
    ['an empty status label', { statusLabel: '' }],
    ['no status label', {}],
  ])('a card with %s is refused with 3017 and nothing is written', async (_case, label) => {
    const reply = await expectRefused({ profiles: [profile(mobile(), { type: 'card', seriesId: 501, ...label })] }, 400, [3017]);
    expect(reply.body.errors[0].path).toMatch(/^\/profiles\/0\/identifiers\/1/);
  });

  test('every card problem of a request is reported at once', async () => {
    const reply = await expectRefused(
      { profiles: [profile(mobile(), { type: 'card', value: '123', seriesId: 502, statusLabel: 'LOST' })] },
      400,
      expect.arrayContaining([3000, 3017]),
    );
    expect(codes(reply)).toHaveLength(2);
  });

  test('two cards in one request are refused with 3035 and nothing is written', async () => {
    const reply = await expectRefused(
      {
        profiles: [
          profile(mobile(), { type: 'card', seriesId: 501, statusLabel: 'ACTIVE' }),
          {
            source: 'WEBSITE',
            identifiers: [
              { type: 'email', value: `two.cards.${Date.now()}@example.com` },
              { type: 'card', value: partnerNumber(), seriesId: 502, statusLabel: 'ACTIVE' },
            ],
          },
        ],
      },
      400,
      [3035],
    );
    expect(reply.body.errors[0].path).toMatch(/^\/profiles\/1\/identifiers\/1/);
  });

  test('two cards in one profile are several cards in the request (3035) and nothing is written', async () => {
    const before = await customerItems();
    const reply = await addCustomer({
      profiles: [
        profile(
          mobile(),
          { type: 'card', seriesId: 501, statusLabel: 'ACTIVE' },
          { type: 'cardnumber', value: partnerNumber(), seriesId: 502, statusLabel: 'ACTIVE' },
        ),
      ],
    });
    expect(reply.status).toBe(400);
    expect(codes(reply)).toContain(3035);
    expect(await customerItems()).toEqual(before);
  });
});

describe('card extras', () => {
  test('a card may carry custom fields and extended fields, returned in cardDetails', async () => {
    const reply = await addCustomer({
      profiles: [
        profile(mobile(), {
          type: 'card',
          seriesId: 501,
          statusLabel: 'ACTIVE',
          fields: { issued_at_kiosk: 'K-12', batch: '2024-Q2' },
          extendedFields: { city: 'Pune', gender: 'Female' },
        }),
      ],
    });
    expect(reply.status).toBe(200);
    const customer = await getCustomer(reply.body.createdId);
    expect(customer.body.cardDetails).toEqual([
      expect.objectContaining({
        fields: { issued_at_kiosk: 'K-12', batch: '2024-Q2' },
        extendedFields: { city: 'Pune', gender: 'Female' },
      }),
    ]);
  });

  test('an invalid extended field on a card is refused with 91015 at its path', async () => {
    const reply = await expectRefused(
      {
        profiles: [
          profile(mobile(), { type: 'card', seriesId: 501, statusLabel: 'ACTIVE', extendedFields: { gender: 'Unknown', shoe_size: '42' } }),
        ],
      },
      400,
      [91015, 91015],
    );
    expect(reply.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      '/profiles/0/identifiers/1/extendedFields/gender',
      '/profiles/0/identifiers/1/extendedFields/shoe_size',
    ]);
  });

  test('custom fields on a card beyond the bounds are refused with 400', async () => {
    await expectRefused(
      {
        profiles: [profile(mobile(), { type: 'card', seriesId: 501, statusLabel: 'ACTIVE', fields: { note: 'x'.repeat(256) } })],
      },
      400,
      [400],
    );
  });
});

describe('a card number belongs to one customer', () => {
  test('a card number already issued is refused with 409/3009 and nothing is written', async () => {
    const cardNumber = partnerNumber();
    const first = await addCustomer({
      profiles: [profile(mobile(), { type: 'card', value: cardNumber, seriesId: 502, statusLabel: 'ACTIVE' })],
    });
    expect(first.status).toBe(200);

    const reply = await expectRefused(
      { profiles: [profile(mobile(), { type: 'card', value: cardNumber, seriesId: 502, statusLabel: 'ACTIVE' })] },
      409,
      [3009],
    );
    expect(reply.body.errors[0].path).toMatch(/^\/profiles\/0/);

    const holder = await lookup({ source: 'ALL', identifierName: 'card', identifierValue: cardNumber });
    expect(holder.body.entity).toBe(first.body.createdId);
  });

  test('the same number sent with spaces around it and under the name cardnumber is still the issued card (3009)', async () => {
    const cardNumber = partnerNumber();
    const first = await addCustomer({
      profiles: [profile(mobile(), { type: 'card', value: cardNumber, seriesId: 502, statusLabel: 'ACTIVE' })],
    });
    expect(first.status).toBe(200);
    await expectRefused(
      {
        profiles: [profile(mobile(), { type: 'cardnumber', value: `  ${cardNumber} `, seriesCode: 'PARTNER-EXT', statusLabel: 'ACTIVE' })],
      },
      409,
      [3009],
    );
  });

  test('a generated number given back by another registration is refused with 3009', async () => {
    const first = await addCustomer({
      profiles: [profile(mobile(), { type: 'card', seriesId: 501, statusLabel: 'ACTIVE' })],
    });
    expect(first.status).toBe(200);
    await expectRefused(
      {
        profiles: [profile(mobile(), { type: 'card', value: first.body.sideEffects[0].cardNumber, seriesId: 501, statusLabel: 'ACTIVE' })],
      },
      409,
      [3009],
    );
  });

  test('20 concurrent registrations with one given card number leave exactly one holder and nothing of the others', async () => {
    const cardNumber = partnerNumber(18);
    const mobiles = Array.from({ length: 20 }, () => uniqueMobile());
    const replies = await Promise.all(
      mobiles.map((m) =>
        addCustomer({
          profiles: [profile({ type: 'mobile', value: m }, { type: 'card', value: cardNumber, seriesId: 502, statusLabel: 'ACTIVE' })],
        }),
      ),
    );

    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array(19).fill(409)]);
    for (const reply of replies.filter((r) => r.status === 409)) expect(codes(reply)).toEqual([3009]);

    const winnerIndex = replies.findIndex((r) => r.status === 200);
    const winner = replies[winnerIndex].body.createdId;
    const holder = await lookup({ source: 'ALL', identifierName: 'card', identifierValue: cardNumber });
    expect(holder.body.entity).toBe(winner);

    const items = await customerItems();
    const cardItems = items.filter((i) => i.pk === keys.identifier(100, 'card', cardNumber).pk);
    expect(cardItems).toEqual([expect.objectContaining({ customerId: winner })]);
    const loserMobiles = mobiles.filter((_, i) => i !== winnerIndex);
    const leftovers = items.filter((i) => loserMobiles.some((m) => String(i.pk).includes(m)));
    expect(leftovers).toEqual([]);
    const customersOfRace = items.filter((i) => i.entity === Entity.customer && JSON.stringify(i).includes(cardNumber));
    expect(customersOfRace.map((i) => i.id)).toEqual([winner]);
    for (const m of loserMobiles) {
      const found = await lookup({ source: 'ALL', identifierName: 'mobile', identifierValue: m });
      expect(found.status).toBe(404);
    }
  });
});
