import { randomUUID } from 'node:crypto';
import { handler as extendedFieldsHandler } from '../../handlers/getExtendedFields';
import { addCustomer, getCustomer, instoreProfile, lookup, uniqueMobile } from '../support/customers';
import { apiEvent, call, codes, type EventOptions } from '../support/http';
import { useDemoTable } from '../support/table';

// The read routes of SPEC section 5 through their real handlers: GET /v2/customers/{id},
// GET /v2/customers/lookup and GET /v2/extendedFields.

useDemoTable();

const getExtendedFields = (options?: EventOptions) =>
  call(extendedFieldsHandler as never, apiEvent('GET', '/v2/extendedFields', undefined, options));

const uniqueEmail = () => `reader.${randomUUID().slice(0, 8)}@example.com`;
const uniqueValue = (prefix: string) => `${prefix}-${randomUUID()}`;
/** A card identifier, with the series and status label instoreProfile's type does not name. */
const card = (identifier: { type: string; value: string; seriesId?: number; seriesCode?: string; statusLabel: string }) =>
  identifier as { type: string; value: string };

async function register(body: unknown, options?: EventOptions): Promise<number> {
  const reply = await addCustomer(body, options);
  expect(reply.status).toBe(200);
  return reply.body.createdId;
}

describe('GET /v2/customers/{id}', () => {
  it('returns the whole customer document with every profile, card and enrollment', async () => {
    const mobile = uniqueMobile();
    const email = uniqueEmail();
    const cardNumber = `55${String(Date.now()).slice(-8)}${String(Math.floor(Math.random() * 1e4)).padStart(4, '0')}`;
    const createDate = '2023-03-04T05:06:07+05:30';
    const id = await register({
      createDate,
      associatedWith: 'store2.till',
      endPointsEnabled: ['DVS_ENDPOINT'],
      extendedFields: { gender: 'Female', household_size: 3, city: '' },
      loyaltyProgramEnrollments: [{ programId: 2, tierNumber: 2, loyaltyPoints: 25, pointsExpiryDate: '2030-01-01T00:00:00+00:00' }],
      profiles: [
        instoreProfile(
          [
            { type: 'mobile', value: mobile },
            { type: 'email', value: email },
            card({ type: 'card', value: cardNumber, seriesCode: 'PARTNER-EXT', statusLabel: 'ACTIVE' }),
          ],
          {
            fields: { favourite_colour: 'blue' },
            commChannels: [{ type: 'email', value: email.toUpperCase(), primary: 'true', verified: false, subscribed: true }],
          },
        ),
        { source: 'WECHAT', accountId: 'wx-main', firstName: 'Asha', identifiers: [{ type: 'wechat', value: uniqueValue('wx') }] },
      ],
    });

    const reply = await getCustomer(id);

    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      id,
      loyaltyInfo: { loyaltyType: 'loyalty' },
      extendedFields: { gender: 'Female', household_size: 3 },
      cardDetails: [{ cardNumber, seriesId: 502, seriesCode: 'PARTNER-EXT', statusLabel: 'ACTIVE', issuedDate: expect.any(String) }],
      loyaltyProgramDetails: [
        {
          programId: 2,
          programName: 'Demo Partner Club',
          tierNumber: 2,
          tierName: 'Black',
          loyaltyPoints: 25,
          tierExpiryDate: null,
        },
      ],
      associatedWith: 'store2.till',
      endPointsEnabled: ['DVS_ENDPOINT'],
      activity: expect.any(String),
      warnings: [],
    });
    expect(Date.parse(reply.body.loyaltyProgramDetails[0].pointsExpiryDate)).toBe(Date.parse('2030-01-01T00:00:00Z'));
    expect(reply.body.extendedFields).not.toHaveProperty('city');
    expect(reply.body.profiles).toHaveLength(2);
    const [instore, wechat] = reply.body.profiles;
    expect(instore).toMatchObject({
      firstName: 'Asha',
      lastName: 'Rao',
      source: 'INSTORE',
      fields: { favourite_colour: 'blue' },
      attribution: { createdBy: { code: 'demo.till', type: 'TILL' } },
    });
    expect(Date.parse(instore.attribution.createDate)).toBe(Date.parse(createDate));
    expect(instore.identifiers).toEqual(
      expect.arrayContaining([
        { type: 'mobile', value: `91${mobile}` },
        { type: 'email', value: email },
        { type: 'card', value: cardNumber },
      ]),
    );
    expect(instore.commChannels).toEqual([
      expect.objectContaining({ type: 'email', value: email, primary: true, verified: false, subscribed: true }),
    ]);
    expect(wechat).toMatchObject({ source: 'WECHAT', accountId: 'wx-main' });
  });

  it('answers 404 / 8015 for an id no customer has', async () => {
    for (const id of ['1', '4503599627', String(2 ** 53 - 1)]) {
      const reply = await getCustomer(id);
      expect({ id, status: reply.status }).toEqual({ id, status: 404 });
      expect(codes(reply)).toEqual([8015]);
    }
  });

  it('answers 404 / 8015 for an id that is not a positive integer', async () => {
    for (const id of ['abc', '12abc', '-5', '0', '1.5', '1e3', String(2 ** 53 + 2), '99999999999999999999', ' ']) {
      const reply = await getCustomer(id);
      expect({ id, status: reply.status }).toEqual({ id, status: 404 });
      expect(codes(reply)).toEqual([8015]);
    }
  });

  it("answers 404 / 8015 for another org's customer, whose own org still reads it", async () => {
    const id = await register({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] }, { till: 'other' });

    const fromDemo = await getCustomer(id, { till: 'demo' });
    expect(fromDemo.status).toBe(404);
    expect(codes(fromDemo)).toEqual([8015]);
    expect(JSON.stringify(fromDemo.body)).not.toContain('Asha');

    const fromOwner = await getCustomer(id, { till: 'other' });
    expect(fromOwner.status).toBe(200);
    expect(fromOwner.body.id).toBe(id);
    expect(fromOwner.body.associatedWith).toBe('other.till');
  });
});

describe('GET /v2/customers/lookup', () => {
  const mobile = uniqueMobile();
  const email = `Look.Up.${randomUUID().slice(0, 8)}@Example.com`;
  const wechat = uniqueValue('wx');
  const cardNumber = `66${String(Date.now()).slice(-8)}${String(Math.floor(Math.random() * 1e4)).padStart(4, '0')}`;
  let id: number;

  beforeAll(async () => {
    id = await register({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: mobile },
          { type: 'email', value: email },
          card({ type: 'cardnumber', value: cardNumber, seriesId: 502, statusLabel: 'ACTIVE' }),
        ]),
        { source: 'WECHAT', accountId: 'wx-main', identifiers: [{ type: 'wechat', value: wechat }] },
      ],
    });
  });

  const found = async (query: Record<string, string>) => {
    const reply = await lookup(query);
    expect({ query, status: reply.status, errors: reply.body.errors }).toEqual({ query, status: 200, errors: undefined });
    expect(reply.body).toEqual({ entity: id, warnings: [] });
  };
  const refused = async (query: Record<string, string>) => {
    const reply = await lookup(query);
    return { status: reply.status, codes: codes(reply), errors: reply.body.errors };
  };

  it('finds the customer by any identifier in every source with source=ALL', async () => {
    await found({ source: 'ALL', identifierName: 'mobile', identifierValue: mobile });
    await found({ source: 'ALL', identifierName: 'email', identifierValue: email });
    await found({ source: 'ALL', identifierName: 'wechat', identifierValue: wechat });
  });

  it('finds the customer in a source where it has a profile', async () => {
    await found({ source: 'INSTORE', identifierName: 'mobile', identifierValue: mobile });
    // An identifier of one profile finds the customer in another source of the same customer.
    await found({ source: 'WECHAT', identifierName: 'mobile', identifierValue: mobile });
    await found({ source: 'WECHAT', accountId: 'wx-main', identifierName: 'wechat', identifierValue: wechat });
  });

  it('answers 404 / 8065 when the customer has no profile in the requested source or account', async () => {
    expect(await refused({ source: 'FACEBOOK', identifierName: 'mobile', identifierValue: mobile })).toMatchObject({
      status: 404,
      codes: [8065],
    });
    expect(await refused({ source: 'WECHAT', accountId: 'wx-second', identifierName: 'wechat', identifierValue: wechat })).toMatchObject({
      status: 404,
      codes: [8065],
    });
  });

  it('finds a card number by the names card and cardnumber', async () => {
    await found({ source: 'ALL', identifierName: 'card', identifierValue: cardNumber });
    await found({ source: 'ALL', identifierName: 'cardnumber', identifierValue: cardNumber });
    await found({ source: 'INSTORE', identifierName: 'cardnumber', identifierValue: cardNumber });
  });

  it('normalises the value as registration does', async () => {
    for (const spelling of [`+91 ${mobile.slice(0, 5)} ${mobile.slice(5)}`, `91${mobile}`, `0${mobile}`, `+91-${mobile}`]) {
      await found({ source: 'ALL', identifierName: 'mobile', identifierValue: spelling });
    }
    await found({ source: 'ALL', identifierName: 'email', identifierValue: `  ${email.toUpperCase()} ` });
    await found({ source: 'ALL', identifierName: 'email', identifierValue: email.toLowerCase() });
    await found({ source: 'ALL', identifierName: 'wechat', identifierValue: ` ${wechat} ` });
  });

  it('answers 400 / 8001 without a source', async () => {
    expect(await refused({ identifierName: 'mobile', identifierValue: mobile })).toMatchObject({ status: 400, codes: [8001] });
    expect(await refused({ source: ' ', identifierName: 'mobile', identifierValue: mobile })).toMatchObject({ status: 400, codes: [8001] });
  });

  it('answers 400 / 8003 to a source that does not exist', async () => {
    expect(await refused({ source: 'MYSPACE', identifierName: 'mobile', identifierValue: mobile })).toMatchObject({
      status: 400,
      codes: [8003],
    });
  });

  it('answers 400 / 8002 without an identifier name or value', async () => {
    expect(await refused({ source: 'ALL', identifierValue: mobile })).toMatchObject({ status: 400, codes: [8002] });
    expect(await refused({ source: 'ALL', identifierName: 'mobile' })).toMatchObject({ status: 400, codes: [8002] });
    expect(await refused({ source: 'ALL', identifierName: 'mobile', identifierValue: '  ' })).toMatchObject({ status: 400, codes: [8002] });
  });

  it('reports every missing parameter at once', async () => {
    const reply = await refused({});
    expect(reply.status).toBe(400);
    expect(reply.codes).toEqual(expect.arrayContaining([8001, 8002]));
  });

  it('answers 404 / 8015 for an identifier no customer has', async () => {
    expect(await refused({ source: 'ALL', identifierName: 'mobile', identifierValue: uniqueMobile() })).toMatchObject({
      status: 404,
      codes: [8015],
    });
    expect(await refused({ source: 'INSTORE', identifierName: 'email', identifierValue: uniqueEmail() })).toMatchObject({
      status: 404,
      codes: [8015],
    });
    // The value of one identifier type does not find the customer under another type.
    expect(await refused({ source: 'ALL', identifierName: 'externalId', identifierValue: wechat })).toMatchObject({
      status: 404,
      codes: [8015],
    });
  });

  it("does not find another org's customer", async () => {
    const reply = await lookup({ source: 'ALL', identifierName: 'mobile', identifierValue: mobile }, { till: 'other' });
    expect(reply.status).toBe(404);
    expect(codes(reply)).toEqual([8015]);
  });

  it('finds a customer merged from another till and source by its new identifiers', async () => {
    const line = uniqueValue('line');
    const merged = await addCustomer(
      {
        profiles: [
          {
            source: 'LINE',
            accountId: 'line-main',
            identifiers: [
              { type: 'email', value: email },
              { type: 'line', value: line },
            ],
          },
        ],
      },
      { till: 'store2' },
    );
    expect(merged.status).toBe(200);
    expect(merged.body.createdId).toBe(id);
    await found({ source: 'LINE', accountId: 'line-main', identifierName: 'line', identifierValue: line });
    await found({ source: 'ALL', identifierName: 'line', identifierValue: line });
    await found({ source: 'INSTORE', identifierName: 'line', identifierValue: line });
    const document = await getCustomer(id);
    const lineProfile = document.body.profiles.find((p: { source: string }) => p.source === 'LINE');
    expect(lineProfile.attribution.createdBy).toEqual({ code: 'store2.till', type: 'TILL' });
  });
});

describe('GET /v2/extendedFields', () => {
  it("lists the customer extended fields of the caller's org with their types, enum values and lengths", async () => {
    const reply = await getExtendedFields();

    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ warnings: [], errors: [], success: true });
    const fields = reply.body.entity.customer as { name: string; label: string; dataType: string }[];
    expect(fields.map((f) => `${f.name}:${f.dataType}`).sort()).toEqual([
      'age_group:CUSTOM_ENUM',
      'annual_income:DOUBLE',
      'city:STRING',
      'dob:DATE',
      'gender:STANDARD_ENUM',
      'household_size:INTEGER',
      'marketing_opt_in_at:DATETIME',
      'nationality:COUNTRY',
      'preferred_store:STRING',
    ]);
    for (const field of fields) expect(field.label).toEqual(expect.any(String));
    expect(fields.find((f) => f.name === 'gender')).toEqual({
      name: 'gender',
      label: expect.any(String),
      dataType: 'STANDARD_ENUM',
      enumValues: ['Male', 'Female', 'Other'],
    });
    expect(fields.find((f) => f.name === 'age_group')).toMatchObject({ enumValues: ['18-24', '25-34', '35-44', '45+'] });
    expect(fields.find((f) => f.name === 'city')).toMatchObject({ maxLength: 100 });
    expect(fields.find((f) => f.name === 'preferred_store')).toMatchObject({ maxLength: 50 });
    expect(fields.find((f) => f.name === 'dob')).not.toHaveProperty('enumValues');
  });

  it('lists no extended fields for an org that has none', async () => {
    const reply = await getExtendedFields({ till: 'other' });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ entity: { customer: [] }, warnings: [], errors: [], success: true });
  });

  it('answers 401 without credentials', async () => {
    const reply = await getExtendedFields({ till: null });
    expect(reply.status).toBe(401);
    expect(codes(reply)).toEqual([401]);
  });
});

test('lookup ignores an accountId sent for a single-account source, as registration does', async () => {
  const mobile = uniqueMobile();
  const created = await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
  expect(created.status).toBe(200);
  const found = await lookup({ source: 'INSTORE', accountId: 'anything', identifierName: 'mobile', identifierValue: mobile });
  expect(found.status).toBe(200);
  expect(found.body.entity).toBe(created.body.createdId);
});
