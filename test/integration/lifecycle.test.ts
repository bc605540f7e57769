import {
  addCustomer,
  changeIdentifier,
  eraseCustomer,
  getCustomer,
  instoreProfile,
  lookup,
  uniqueMobile,
  updateCustomer,
} from '../support/customers';
import { codes } from '../support/http';
import { customerItems, useDemoTable } from '../support/table';

// After registration (SPEC sections 11 and 12), through the real handlers against DynamoDB Local.

useDemoTable();

async function register(mobile = uniqueMobile(), extra: Record<string, unknown> = {}): Promise<number> {
  const reply = await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])], ...extra });
  expect(reply.status).toBe(200);
  return reply.body.createdId;
}

describe('update', () => {
  it('changes names, fields, comm channels and extended fields, and GET shows who changed it when', async () => {
    const id = await register(uniqueMobile(), { extendedFields: { city: 'Pune' } });
    const reply = await updateCustomer(
      id,
      {
        profiles: [{ lastName: 'Menon', fields: { lang: 'ml' }, commChannels: [{ type: 'email', value: 'a.menon@example.com' }] }],
        extendedFields: { city: 'Kochi', gender: 'Female' },
      },
      { till: 'store2' },
    );
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ createdId: id, warnings: [], sideEffects: [] });
    const doc = (await getCustomer(id)).body;
    expect(doc.profiles[0].lastName).toBe('Menon');
    expect(doc.profiles[0].fields).toEqual({ lang: 'ml' });
    expect(doc.profiles[0].commChannels.map((c: { value: string }) => c.value)).toEqual(['a.menon@example.com']);
    expect(doc.extendedFields).toEqual({ city: 'Kochi', gender: 'Female' });
    expect(doc.profiles[0].attribution.modifiedBy).toEqual({ code: 'store2.till', type: 'TILL' });
    expect(typeof doc.profiles[0].attribution.modifiedDate).toBe('string');
  });
});

describe('change identifier', () => {
  it('replaces a mobile: the old value is free, the new one belongs to the customer', async () => {
    const old = uniqueMobile();
    const id = await register(old);
    const next = uniqueMobile();
    const reply = await changeIdentifier(id, { remove: [{ type: 'mobile', value: old }], add: [{ type: 'mobile', value: next }] });
    expect(reply.status).toBe(200);
    expect((await lookup({ source: 'ALL', identifierName: 'mobile', identifierValue: next })).body.entity).toBe(id);
    expect((await lookup({ source: 'ALL', identifierName: 'mobile', identifierValue: old })).status).toBe(404);
    const other = await register(old);
    expect(other).not.toBe(id);
  });

  it('refuses a value of another customer with 8053 and writes nothing', async () => {
    const taken = `taken.${Date.now()}@example.com`;
    await addCustomer({ profiles: [instoreProfile([{ type: 'email', value: taken }])] });
    const id = await register();
    const before = await customerItems();
    const refused = await changeIdentifier(id, { add: [{ type: 'email', value: taken }] });
    expect(refused.status).toBe(409);
    expect(codes(refused)).toEqual([8053]);
    expect(refused.body.errors[0].path).toBe('/add/0/value');
    expect(await customerItems()).toEqual(before);
  });
});

describe('erase', () => {
  it('frees the values, leaves a tombstone, answers 404 afterwards, and is idempotent', async () => {
    const mobile = uniqueMobile();
    const id = await register(mobile);
    const reply = await eraseCustomer(id);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ entity: { id, status: 'ERASED' }, warnings: [] });
    expect((await getCustomer(id)).status).toBe(404);
    expect((await lookup({ source: 'ALL', identifierName: 'mobile', identifierValue: mobile })).status).toBe(404);
    expect((await eraseCustomer(id)).status).toBe(200);
    expect(await register(mobile)).not.toBe(id);
    expect((await eraseCustomer(id, { till: 'store2' })).status).toBe(403);
  });
});
