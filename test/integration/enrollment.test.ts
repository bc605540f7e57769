import { addCustomer, instoreProfile, registerAndGet as registerWithProfileAndGet, uniqueMobile } from '../support/customers';
import { codes, type EventOptions, type Reply } from '../support/http';
import { customerItems, useDemoTable } from '../support/table';

// Loyalty program enrollment at registration (SPEC section 3, Enrollment; section 7 for the
// demo programs): org 100 has program 1 "Demo Rewards" (default; Silver, Gold, Platinum) and
// program 2 "Demo Partner Club" (Blue, Black); org 200 has program 1 "Default" (Basic).

useDemoTable();
jest.setTimeout(120_000);

/** Sends a request that must be refused and checks that the table did not change. */
async function expectRefused(body: unknown, status: number, expectedCodes: number[], options?: EventOptions): Promise<Reply> {
  const before = await customerItems();
  const reply = await addCustomer(body, options);
  expect(reply.status).toBe(status);
  expect(codes(reply)).toEqual(expectedCodes);
  expect(await customerItems()).toEqual(before);
  return reply;
}

const profiles = () => [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])];

/** Registers a customer with one new INSTORE profile and returns the reply and its GET document. */
const registerAndGet = (body: Record<string, unknown>, options?: EventOptions) =>
  registerWithProfileAndGet({ profiles: profiles(), ...body }, options);

/** Dates compare as instants, whatever offset or precision the service writes them in. */
const instant = (value: unknown) => (typeof value === 'string' ? Date.parse(value) : value);

describe('default enrollment', () => {
  test('a loyalty customer sent without enrollments joins the default program 1 at tier 1 (Silver)', async () => {
    const { reply, customer } = await registerAndGet({});
    expect(customer.loyaltyInfo).toEqual({ loyaltyType: 'loyalty' });
    expect(customer.loyaltyProgramDetails).toEqual([
      expect.objectContaining({ programId: 1, programName: 'Demo Rewards', tierNumber: 1, tierName: 'Silver', loyaltyPoints: 0 }),
    ]);
    expect(reply.body.sideEffects.filter((s: { type: string }) => s.type === 'points')).toEqual([]);
  });

  test('an explicit loyaltyType loyalty and an empty enrollment list also give the default enrollment', async () => {
    const { customer } = await registerAndGet({ loyaltyType: 'loyalty', loyaltyProgramEnrollments: [] });
    expect(customer.loyaltyProgramDetails).toEqual([
      expect.objectContaining({ programId: 1, programName: 'Demo Rewards', tierNumber: 1, tierName: 'Silver' }),
    ]);
  });

  test('another org enrolls its customers in its own default program (org 200: Default, Basic)', async () => {
    const { customer } = await registerAndGet({}, { till: 'other' });
    expect(customer.loyaltyProgramDetails).toEqual([
      expect.objectContaining({ programId: 1, programName: 'Default', tierNumber: 1, tierName: 'Basic', loyaltyPoints: 0 }),
    ]);
  });

  test('a non_loyalty customer without enrollments is enrolled in no program', async () => {
    const { reply, customer } = await registerAndGet({ loyaltyType: 'non_loyalty' });
    expect(customer.loyaltyInfo).toEqual({ loyaltyType: 'non_loyalty' });
    expect(customer.loyaltyProgramDetails).toEqual([]);
    expect(reply.body.sideEffects).toEqual([]);
  });

  test('a non_loyalty customer sent with an empty enrollment list is registered without enrollments', async () => {
    const { customer } = await registerAndGet({ loyaltyType: 'non_loyalty', loyaltyProgramEnrollments: [] });
    expect(customer.loyaltyProgramDetails).toEqual([]);
  });

  test('loyaltyInfo.loyaltyType non_loyalty is read like the top-level key', async () => {
    const { customer } = await registerAndGet({ loyaltyInfo: { loyaltyType: 'non_loyalty' } });
    expect(customer.loyaltyInfo).toEqual({ loyaltyType: 'non_loyalty' });
    expect(customer.loyaltyProgramDetails).toEqual([]);
  });
});

describe('explicit enrollments', () => {
  test('enrollments in programs 1 and 2 are stored with tier, points and expiry dates and returned by GET', async () => {
    const { reply, customer } = await registerAndGet({
      createDate: '2024-03-01T10:00:00+05:30',
      loyaltyProgramEnrollments: [
        {
          programId: 1,
          tierNumber: 2,
          loyaltyPoints: 150,
          tierExpiryDate: '2030-12-31T23:59:59+05:30',
          pointsExpiryDate: '2029-06-30T18:30:00Z',
        },
        { programId: 2, tierNumber: 2, loyaltyPoints: 0 },
      ],
    });

    const details = [...customer.loyaltyProgramDetails].sort(
      (a: { programId: number }, b: { programId: number }) => a.programId - b.programId,
    );
    expect(details).toEqual([
      {
        programId: 1,
        programName: 'Demo Rewards',
        tierNumber: 2,
        tierName: 'Gold',
        loyaltyPoints: 150,
        tierExpiryDate: expect.any(String),
        pointsExpiryDate: expect.any(String),
      },
      expect.objectContaining({ programId: 2, programName: 'Demo Partner Club', tierNumber: 2, tierName: 'Black', loyaltyPoints: 0 }),
    ]);
    expect(instant(details[0].tierExpiryDate)).toBe(Date.parse('2030-12-31T23:59:59+05:30'));
    expect(instant(details[0].pointsExpiryDate)).toBe(Date.parse('2029-06-30T18:30:00Z'));
    expect(details[1].tierExpiryDate ?? null).toBeNull();
    expect(details[1].pointsExpiryDate ?? null).toBeNull();

    // Points credited at enrollment are side effects; an enrollment without points is not.
    expect(reply.body.sideEffects).toEqual([{ type: 'points', entityType: 'USER', programId: 1, awardedPoints: 150 }]);
  });

  test('points in several programs give one side effect per program with points', async () => {
    const { reply } = await registerAndGet({
      loyaltyProgramEnrollments: [
        { programId: 1, tierNumber: 3, loyaltyPoints: 500 },
        { programId: 2, tierNumber: 1, loyaltyPoints: 25 },
      ],
    });
    const points = reply.body.sideEffects.filter((s: { type: string }) => s.type === 'points');
    expect(points).toHaveLength(2);
    expect(points).toEqual(
      expect.arrayContaining([
        { type: 'points', entityType: 'USER', programId: 1, awardedPoints: 500 },
        { type: 'points', entityType: 'USER', programId: 2, awardedPoints: 25 },
      ]),
    );
  });

  test('an enrollment only in program 2 does not add the default program', async () => {
    const { customer } = await registerAndGet({ loyaltyProgramEnrollments: [{ programId: 2, tierNumber: 1 }] });
    expect(customer.loyaltyProgramDetails).toEqual([
      expect.objectContaining({ programId: 2, programName: 'Demo Partner Club', tierNumber: 1, tierName: 'Blue', loyaltyPoints: 0 }),
    ]);
  });

  test('a card and points are both returned as side effects', async () => {
    const reply = await addCustomer({
      profiles: [
        instoreProfile([{ type: 'mobile', value: uniqueMobile() }, { type: 'card', seriesId: 501, statusLabel: 'ACTIVE' } as never]),
      ],
      loyaltyProgramEnrollments: [{ programId: 1, tierNumber: 1, loyaltyPoints: 40 }],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.sideEffects).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'card', seriesId: 501 }),
        { type: 'points', entityType: 'USER', programId: 1, awardedPoints: 40 },
      ]),
    );
    expect(reply.body.sideEffects).toHaveLength(2);
  });
});

describe('refused enrollments', () => {
  test('an unknown program is refused with 1213 and nothing is written', async () => {
    const reply = await expectRefused({ profiles: profiles(), loyaltyProgramEnrollments: [{ programId: 9, tierNumber: 1 }] }, 400, [1213]);
    expect(reply.body.errors[0].path).toMatch(/^\/loyaltyProgramEnrollments\/0/);
  });

  test('program 2 of org 100 does not exist in org 200 (1213)', async () => {
    await expectRefused({ profiles: profiles(), loyaltyProgramEnrollments: [{ programId: 2, tierNumber: 1 }] }, 400, [1213], {
      till: 'other',
    });
  });

  test('a tier that does not exist in its program is refused with 8201 and nothing is written', async () => {
    const reply = await expectRefused({ profiles: profiles(), loyaltyProgramEnrollments: [{ programId: 2, tierNumber: 3 }] }, 400, [8201]);
    expect(reply.body.errors[0].path).toMatch(/^\/loyaltyProgramEnrollments\/0/);
  });

  test('tier 0 is refused with 8201', async () => {
    await expectRefused({ profiles: profiles(), loyaltyProgramEnrollments: [{ programId: 1, tierNumber: 0 }] }, 400, [8201]);
  });

  test.each([
    ['tierExpiryDate', 'before createDate', '2024-02-29T10:00:00+05:30'],
    ['pointsExpiryDate', 'before createDate', '2023-01-01T00:00:00Z'],
    ['tierExpiryDate', 'equal to createDate in another offset', '2024-03-01T04:30:00Z'],
    ['pointsExpiryDate', 'equal to createDate', '2024-03-01T10:00:00+05:30'],
  ])('a %s %s is refused with 8203 and nothing is written', async (key, _case, date) => {
    const reply = await expectRefused(
      {
        profiles: profiles(),
        createDate: '2024-03-01T10:00:00+05:30',
        loyaltyProgramEnrollments: [{ programId: 1, tierNumber: 1, [key]: date }],
      },
      400,
      [8203],
    );
    expect(reply.body.errors[0].path).toBe(`/loyaltyProgramEnrollments/0/${key}`);
  });

  test('an expiry date in the past is refused with 8203 when createDate defaults to now', async () => {
    await expectRefused(
      { profiles: profiles(), loyaltyProgramEnrollments: [{ programId: 1, tierNumber: 1, pointsExpiryDate: '2020-01-01T00:00:00Z' }] },
      400,
      [8203],
    );
  });

  test.each([
    ['loyaltyType', { loyaltyType: 'non_loyalty' }],
    ['loyaltyInfo.loyaltyType', { loyaltyInfo: { loyaltyType: 'non_loyalty' } }],
  ])('a non_loyalty customer (%s) with enrollments is refused with 8121 and nothing is written', async (_form, loyalty) => {
    await expectRefused(
      { profiles: profiles(), ...loyalty, loyaltyProgramEnrollments: [{ programId: 1, tierNumber: 1, loyaltyPoints: 10 }] },
      400,
      [8121],
    );
  });

  test.each([
    ['negative', -5],
    ['fractional', 1.5],
    ['textual', 'a hundred'],
    ['signed digits', '-100'],
  ])('%s points are refused with 400 and nothing is written', async (_case, loyaltyPoints) => {
    await expectRefused({ profiles: profiles(), loyaltyProgramEnrollments: [{ programId: 1, tierNumber: 1, loyaltyPoints }] }, 400, [400]);
  });

  test('an expiry date without an offset is refused and nothing is written', async () => {
    const reply = await expectRefused(
      { profiles: profiles(), loyaltyProgramEnrollments: [{ programId: 1, tierNumber: 1, tierExpiryDate: '2030-12-31T23:59:59' }] },
      400,
      [400],
    );
    expect(reply.body.errors[0].path).toBe('/loyaltyProgramEnrollments/0/tierExpiryDate');
  });

  test('every enrollment problem of a request is reported at once', async () => {
    const before = await customerItems();
    const reply = await addCustomer({
      profiles: profiles(),
      createDate: '2024-03-01T10:00:00+05:30',
      loyaltyProgramEnrollments: [
        { programId: 7, tierNumber: 1 },
        { programId: 2, tierNumber: 5, tierExpiryDate: '2024-01-01T00:00:00Z' },
      ],
    });
    expect(reply.status).toBe(400);
    expect([...codes(reply)].sort()).toEqual([1213, 8201, 8203].sort());
    expect(await customerItems()).toEqual(before);
  });
});
