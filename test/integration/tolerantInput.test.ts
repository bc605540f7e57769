import { addCustomer, getCustomer, uniqueMobile } from '../support/customers';
import { codes, warningCodes } from '../support/http';
import { customerItems, useDemoTable } from '../support/table';

// Tolerant input (SPEC section 3), as Capillary's backend coerces scalars: safe non-negative
// integers sent as JSON numbers where strings are expected are read as their digits, digit
// strings where integers are expected as integers; integers beyond 2^53 − 1 are refused with a
// message saying to send a string; any other mismatch of type is 400 with its path.

useDemoTable();

const mobileNumber = () => Number(`91${uniqueMobile()}`);

describe('numbers where strings are expected', () => {
  test('a mobile sent as a JSON number is read as its digits', async () => {
    const mobile = mobileNumber();
    const reply = await addCustomer({ profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: mobile }] }] });
    expect(reply.status).toBe(200);
    const stored = (await getCustomer(reply.body.createdId)).body;
    expect(stored.profiles[0].identifiers).toEqual([{ type: 'mobile', value: String(mobile) }]);
  });

  test('an externalId, a name and a custom field value sent as numbers are stored as their digits', async () => {
    const external = Date.now();
    const reply = await addCustomer({
      profiles: [
        {
          source: 'INSTORE',
          firstName: 42,
          lastName: 7,
          identifiers: [
            { type: 'mobile', value: uniqueMobile() },
            { type: 'externalId', value: external },
          ],
          fields: { member_since: 2019 },
        },
      ],
    });
    expect(reply.status).toBe(200);
    expect(warningCodes(reply)).toEqual([]);
    const profile = (await getCustomer(reply.body.createdId)).body.profiles[0];
    expect(profile).toMatchObject({ firstName: '42', lastName: '7', fields: { member_since: '2019' } });
    expect(profile.identifiers).toContainEqual({ type: 'externalId', value: String(external) });
  });

  test('a card number beyond 2^53 − 1 sent as a number is refused with a message to send a string, nothing written', async () => {
    const before = await customerItems();
    const raw = `{"profiles":[{"source":"INSTORE","identifiers":[{"type":"mobile","value":"${uniqueMobile()}"},{"type":"card","seriesId":502,"statusLabel":"ACTIVE","value":12345678901234567890}]}]}`;
    const reply = await addCustomer(undefined, { rawBody: raw });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([
      expect.objectContaining({
        code: 400,
        path: '/profiles/0/identifiers/1/value',
        message: expect.stringMatching(/send it as a string/),
      }),
    ]);
    expect(await customerItems()).toEqual(before);
  });

  test('the same card number sent as a string is issued as sent', async () => {
    const number = `${Date.now()}1234`.slice(0, 18);
    const reply = await addCustomer({
      profiles: [
        {
          source: 'INSTORE',
          identifiers: [
            { type: 'mobile', value: uniqueMobile() },
            { type: 'card', seriesId: 502, statusLabel: 'ACTIVE', value: number },
          ],
        },
      ],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.sideEffects[0]).toMatchObject({ type: 'card', cardNumber: number });
  });

  test.each([
    ['a negative number', -5],
    ['a fraction', 98.5],
    ['a boolean', true],
    ['an object', { digits: '9' }],
  ])('%s where a mobile is expected is 400 with its path', async (_name, value) => {
    const reply = await addCustomer({ profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value }] }] });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toContainEqual(expect.objectContaining({ code: 400, path: '/profiles/0/identifiers/0/value' }));
  });
});

describe('digit strings where integers are expected', () => {
  test('seriesId, programId, tierNumber and loyaltyPoints sent as digit strings are read as integers', async () => {
    const reply = await addCustomer({
      profiles: [
        {
          source: 'INSTORE',
          identifiers: [
            { type: 'mobile', value: uniqueMobile() },
            { type: 'card', seriesId: ' 501 ', statusLabel: 'ACTIVE' },
          ],
        },
      ],
      loyaltyProgramEnrollments: [{ programId: '2', tierNumber: '2', loyaltyPoints: '250' }],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.sideEffects).toEqual([
      expect.objectContaining({ type: 'card', seriesId: 501 }),
      { type: 'points', entityType: 'USER', programId: 2, awardedPoints: 250 },
    ]);
    const stored = (await getCustomer(reply.body.createdId)).body;
    expect(stored.loyaltyProgramDetails).toEqual([expect.objectContaining({ programId: 2, tierNumber: 2, loyaltyPoints: 250 })]);
  });

  test('an INTEGER extended field sent as a digit string is stored as a number', async () => {
    const reply = await addCustomer({
      profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: uniqueMobile() }] }],
      extendedFields: { household_size: '4' },
    });
    expect(reply.status).toBe(200);
    expect((await getCustomer(reply.body.createdId)).body.extendedFields).toEqual({ household_size: 4 });
  });

  test.each([
    ['a signed string', '-2'],
    ['a decimal string', '2.0'],
    ['words', 'two'],
  ])('%s where programId is expected is 400 with its path', async (_name, programId) => {
    const reply = await addCustomer({
      profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: uniqueMobile() }] }],
      loyaltyProgramEnrollments: [{ programId }],
    });
    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual([400]);
    expect(reply.body.errors[0].path).toBe('/loyaltyProgramEnrollments/0/programId');
  });
});
