import { createHash, randomUUID } from 'node:crypto';
import { handler as addHandler } from '../../handlers/addCustomer';
import { handler as extendedFieldsHandler } from '../../handlers/getExtendedFields';
import { handler as getHandler } from '../../handlers/getCustomer';
import { handler as lookupHandler } from '../../handlers/lookupCustomer';
import { addCustomer, getCustomer, instoreProfile, lookup, uniqueMobile } from '../support/customers';
import { apiEvent, basicAuth, call, codes, warningCodes, type Reply } from '../support/http';
import { customerItems, useDemoTable } from '../support/table';
import { Entity } from '../../lib/store/keys';

// Authentication and tenant isolation (SPEC section 2): every route needs a till's Basic
// credentials (username and md5 hex of the password); every read and write is scoped to the
// till's org.

useDemoTable();

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const base64 = (text: string) => Buffer.from(text).toString('base64');
const uniqueEmail = () => `tenant.${randomUUID().slice(0, 8)}@example.com`;
const registrationBody = () => ({ profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] });

/** Each route called with the given Authorization header (or none). */
const routes: Record<string, (authorization: string | undefined) => Promise<Reply>> = {
  'POST /v2/customers': (authorization) =>
    call(
      addHandler as never,
      apiEvent('POST', '/v2/customers', registrationBody(), {
        till: null,
        headers: authorization === undefined ? {} : { Authorization: authorization },
      }),
    ),
  'GET /v2/customers/{id}': (authorization) =>
    call(
      getHandler as never,
      apiEvent('GET', '/v2/customers/1', undefined, {
        till: null,
        pathParameters: { id: '1' },
        headers: authorization === undefined ? {} : { Authorization: authorization },
      }),
    ),
  'GET /v2/customers/lookup': (authorization) =>
    call(
      lookupHandler as never,
      apiEvent('GET', '/v2/customers/lookup', undefined, {
        till: null,
        query: { source: 'ALL', identifierName: 'mobile', identifierValue: uniqueMobile() },
        headers: authorization === undefined ? {} : { Authorization: authorization },
      }),
    ),
  'GET /v2/extendedFields': (authorization) =>
    call(
      extendedFieldsHandler as never,
      apiEvent('GET', '/v2/extendedFields', undefined, {
        till: null,
        headers: authorization === undefined ? {} : { Authorization: authorization },
      }),
    ),
};

const badHeaders: Record<string, string | undefined> = {
  'no Authorization header': undefined,
  'an empty Authorization header': '',
  'a wrong password': basicAuth('demo.till', 'not-the-password'),
  'the password itself instead of its md5 hex': `Basic ${base64('demo.till:demo-password')}`,
  "another till's password": basicAuth('demo.till', 'store2-password'),
  'an unknown till': basicAuth('nobody.till', 'demo-password'),
  'a Bearer token': `Bearer ${md5('demo-password')}`,
  'a header that is not base64': 'Basic !!!not-base64!!!',
  'credentials without a colon': `Basic ${base64(`demo.till${md5('demo-password')}`)}`,
  'credentials without a username': `Basic ${base64(`:${md5('demo-password')}`)}`,
  'credentials without a password': `Basic ${base64('demo.till:')}`,
  'the Basic scheme alone': 'Basic ',
};

describe('credentials', () => {
  beforeAll(async () => {
    // The right credentials are verified (and may be cached) before the wrong ones are tried.
    for (const till of ['demo', 'store2'] as const)
      expect((await lookup({ source: 'ALL', identifierName: 'mobile', identifierValue: uniqueMobile() }, { till })).status).toBe(404);
  });

  describe.each(Object.keys(routes))('%s', (route) => {
    it.each(Object.keys(badHeaders))('answers 401 with code 401 to %s', async (name) => {
      const before = route.startsWith('POST') ? await customerItems() : undefined;
      const reply = await routes[route](badHeaders[name]);
      expect(reply.status).toBe(401);
      expect(codes(reply)).toEqual([401]);
      expect(reply.body.errors[0]).toMatchObject({ status: false, code: 401, message: expect.any(String) });
      if (before) expect(await customerItems()).toEqual(before);
    });

    it("accepts a till's username with the md5 hex of its password", async () => {
      const reply = await routes[route](basicAuth('demo.till', 'demo-password'));
      expect([200, 404]).toContain(reply.status);
      expect(codes(reply)).not.toContain(401);
    });
  });

  it('accepts the md5 hex in upper case and the scheme in any case', async () => {
    const upper = `Basic ${base64(`demo.till:${md5('demo-password').toUpperCase()}`)}`;
    expect((await routes['GET /v2/extendedFields'](upper)).status).toBe(200);
    const lowerScheme = `basic ${base64(`demo.till:${md5('demo-password')}`)}`;
    expect((await routes['GET /v2/extendedFields'](lowerScheme)).status).toBe(200);
  });

  it('reads the Authorization header whatever the case of its name', async () => {
    const reply = await call(
      extendedFieldsHandler as never,
      apiEvent('GET', '/v2/extendedFields', undefined, {
        till: null,
        headers: { authorization: basicAuth('demo.till', 'demo-password') },
      }),
    );
    expect(reply.status).toBe(200);
  });

  it('refuses a wrong password right after the right one was accepted for the same till', async () => {
    expect((await routes['GET /v2/extendedFields'](basicAuth('store2.till', 'store2-password'))).status).toBe(200);
    const wrong = await routes['GET /v2/extendedFields'](basicAuth('store2.till', 'store2-passwordX'));
    expect(wrong.status).toBe(401);
    expect(codes(wrong)).toEqual([401]);
  });

  it('records the authenticated till as creator and default associate of a registration', async () => {
    const reply = await addCustomer(registrationBody(), { till: 'store2' });
    expect(reply.status).toBe(200);
    const document = await getCustomer(reply.body.createdId, { till: 'demo' });
    expect(document.status).toBe(200);
    expect(document.body.associatedWith).toBe('store2.till');
    expect(document.body.profiles[0].attribution.createdBy).toEqual({ code: 'store2.till', type: 'TILL' });
  });
});

describe('tenant isolation', () => {
  it('keeps the same identifiers in two orgs as two different customers', async () => {
    const mobile = uniqueMobile();
    const email = uniqueEmail();
    const body = {
      profiles: [
        instoreProfile([
          { type: 'mobile', value: mobile },
          { type: 'email', value: email },
        ]),
      ],
    };

    const inDemo = await addCustomer(body, { till: 'demo' });
    const inOther = await addCustomer(body, { till: 'other' });

    expect(inDemo.status).toBe(200);
    expect(inOther.status).toBe(200);
    expect(warningCodes(inDemo)).toEqual([]);
    expect(warningCodes(inOther)).toEqual([]);
    expect(inOther.body.createdId).not.toBe(inDemo.body.createdId);

    for (const [till, id] of [
      ['demo', inDemo.body.createdId],
      ['other', inOther.body.createdId],
    ] as const) {
      for (const [identifierName, identifierValue] of [
        ['mobile', mobile],
        ['email', email],
      ]) {
        const found = await lookup({ source: 'ALL', identifierName, identifierValue }, { till });
        expect({ till, identifierName, status: found.status, entity: found.body.entity }).toEqual({
          till,
          identifierName,
          status: 200,
          entity: id,
        });
      }
    }

    const items = await customerItems();
    const customers = items.filter(
      (i) => i.entity === Entity.customer && (i.id === inDemo.body.createdId || i.id === inOther.body.createdId),
    );
    expect(customers.map((c) => c.orgId).sort()).toEqual([100, 200]);
    const identifierOwners = items
      .filter((i) => i.entity === Entity.identifier && String(i.pk).includes(email))
      .map((i) => i.customerId)
      .sort();
    expect(identifierOwners).toEqual([inDemo.body.createdId, inOther.body.createdId].sort());
  });

  it("does not let a till of org 200 read, find or merge into org 100's customers", async () => {
    const mobile = uniqueMobile();
    const demoId = (await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] }, { till: 'demo' })).body
      .createdId;

    const read = await getCustomer(demoId, { till: 'other' });
    expect(read.status).toBe(404);
    expect(codes(read)).toEqual([8015]);

    const found = await lookup({ source: 'ALL', identifierName: 'mobile', identifierValue: mobile }, { till: 'other' });
    expect(found.status).toBe(404);
    expect(codes(found)).toEqual([8015]);

    // A registration in org 200 with the same mobile in a new source creates org 200's own customer.
    const registered = await addCustomer(
      { profiles: [{ source: 'WEBSITE', identifiers: [{ type: 'mobile', value: mobile }] }] },
      { till: 'other' },
    );
    expect(registered.status).toBe(200);
    expect(registered.body.createdId).not.toBe(demoId);
    expect(warningCodes(registered)).not.toContain(8050);

    const demoDocument = await getCustomer(demoId, { till: 'demo' });
    expect(demoDocument.body.profiles.map((p: { source: string }) => p.source)).toEqual(['INSTORE']);
  });

  it('does not associate a customer with a till of another org', async () => {
    const reply = await addCustomer({ ...registrationBody(), associatedWith: 'other.till' }, { till: 'demo' });
    expect(reply.status).toBe(200);
    expect(reply.body.warnings).toEqual([expect.objectContaining({ code: 8077, path: '/associatedWith' })]);
    const document = await getCustomer(reply.body.createdId);
    expect(document.body.associatedWith).toBe('demo.till');
  });

  it('accepts associatedWith naming another till of the same org', async () => {
    const reply = await addCustomer({ ...registrationBody(), associatedWith: 'store2.till' }, { till: 'demo' });
    expect(reply.status).toBe(200);
    expect(reply.body.warnings).toEqual([]);
    expect((await getCustomer(reply.body.createdId)).body.associatedWith).toBe('store2.till');
  });
});

test('a till name longer than any till answers 401, not a failure', async () => {
  const reply = await addCustomer(
    { profiles: [instoreProfile([{ type: 'mobile', value: uniqueMobile() }])] },
    { till: null, headers: { Authorization: `Basic ${base64(`${'a'.repeat(2100)}:${md5('x')}`)}` } },
  );
  expect(reply.status).toBe(401);
  expect(codes(reply)).toEqual([401]);
});
