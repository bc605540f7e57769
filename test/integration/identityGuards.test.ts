import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { OrgFile } from '../../lib/org';
import { saveOrg } from '../../lib/store/orgs';
import { DEMO_ORGS_FILE } from '../../scripts/loadOrgs';
import { countRoundTrips, type RoundTripCounter } from '../../bench/support/roundTrips';
import { Entity, keys } from '../../lib/store/keys';
import { documentClient } from '../../lib/store/client';
import { addCustomer, expectRefused, getCustomer, instoreProfile, lookup, uniqueMobile } from '../support/customers';
import { codes, warningCodes, type EventOptions } from '../support/http';
import { customerItems, useDemoTable } from '../support/table';

// Identity guards (SPEC section 13) through the real handlers against DynamoDB Local. Org 100
// and 200 use the defaults, which drop a placeholder with a warning; org 300 ("Small Shop",
// till `limited`) rejects them, blocks the external ids `WALK-IN` and `0…0`, and allows at
// most three profiles per customer.

useDemoTable();

let counter: RoundTripCounter;
beforeAll(async () => {
  counter = countRoundTrips(documentClient());
  // Org 300 admits 10 registrations a minute; this file sends more than that, so its table's
  // copy of org 300 keeps the guards and lifts the limit.
  const orgs = JSON.parse(readFileSync(DEMO_ORGS_FILE, 'utf8')) as OrgFile[];
  await saveOrg({ ...orgs.find((org) => org.orgId === 300)!, rateLimitPerMinute: 100_000 });
});
afterAll(() => counter.detach());

const smallShop: EventOptions = { till: 'limited' };
const uniqueEmail = () => `shopper.${randomUUID().slice(0, 8)}@example.com`;

async function identifierItemOf(orgId: number, type: string, value: string): Promise<Record<string, unknown> | undefined> {
  const { pk } = keys.identifier(orgId, type, value);
  return (await customerItems()).find((item) => item.entity === Entity.identifier && item.pk === pk);
}

describe('with the default guards (org 100: drop)', () => {
  it('drops a placeholder mobile with warning 8200 at its path and registers the rest', async () => {
    const email = uniqueEmail();
    const reply = await addCustomer({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: '9999999999' },
          { type: 'email', value: email },
        ]),
      ],
    });

    expect(reply.status).toBe(200);
    expect(reply.body.warnings).toEqual([expect.objectContaining({ status: false, code: 8200, path: '/profiles/0/identifiers/0/value' })]);
    const customer = await getCustomer(reply.body.createdId);
    expect(customer.body.profiles[0].identifiers).toEqual([{ type: 'email', value: email }]);
    expect(await identifierItemOf(100, 'email', email)).toBeDefined();
    expect(await identifierItemOf(100, 'mobile', '919999999999')).toBeUndefined();
  });

  it('drops a placeholder email, whatever its case, at its own path', async () => {
    const mobile = uniqueMobile();
    const reply = await addCustomer({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: mobile },
          { type: 'email', value: ' NoEmail@Store.com ' },
        ]),
      ],
    });

    expect(reply.status).toBe(200);
    expect(reply.body.warnings).toEqual([expect.objectContaining({ code: 8200, path: '/profiles/0/identifiers/1/value' })]);
    const customer = await getCustomer(reply.body.createdId);
    expect(customer.body.profiles[0].identifiers).toEqual([{ type: 'mobile', value: `91${mobile}` }]);
  });

  it('refuses with 8005 a profile whose only identifiers were placeholders, writing nothing', async () => {
    const reply = await expectRefused(
      {
        profiles: [
          instoreProfile([
            { type: 'mobile', value: '+91 98765 43210' },
            { type: 'email', value: 'test@test.com' },
          ]),
        ],
      },
      400,
      [8005],
    );
    expect(reply.body.errors[0].path).toBe('/profiles/0/identifiers');
    expect(reply.body.warnings.map((w: { code: number; path: string }) => [w.code, w.path])).toEqual([
      [8200, '/profiles/0/identifiers/0/value'],
      [8200, '/profiles/0/identifiers/1/value'],
    ]);
  });

  it('never merges two strangers who both gave 9999999999: they are two customers', async () => {
    const first = await addCustomer({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: '9999999999' },
          { type: 'email', value: uniqueEmail() },
        ]),
      ],
    });
    const second = await addCustomer({
      profiles: [
        {
          source: 'WEBSITE',
          identifiers: [
            { type: 'mobile', value: '9999999999' },
            { type: 'externalId', value: `WEB-${randomUUID()}` },
          ],
        },
      ],
    });

    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.body.createdId).not.toBe(first.body.createdId);
    expect(warningCodes(second)).toEqual([8200]);
    expect(await identifierItemOf(100, 'mobile', '919999999999')).toBeUndefined();
  });

  it('answers a lookup of a placeholder with 404 / 8015 without reading the table', async () => {
    const warm = await lookup({ source: 'ALL', identifierName: 'mobile', identifierValue: uniqueMobile() });
    expect(codes(warm)).toEqual([8015]);

    for (const [identifierName, identifierValue] of [
      ['mobile', '9999999999'],
      ['mobile', '+91 98765 43210'],
      ['email', 'None@None.com'],
    ]) {
      counter.reset();
      const reply = await lookup({ source: 'ALL', identifierName, identifierValue });
      expect({ identifierValue, status: reply.status, codes: codes(reply) }).toEqual({ identifierValue, status: 404, codes: [8015] });
      expect(counter.commands()).toEqual({});
    }
  });
});

describe('with onBlocked: "reject" (org 300)', () => {
  it('refuses a placeholder mobile with 8014 and a placeholder email with 8055 at their paths, writing nothing', async () => {
    const reply = await expectRefused(
      {
        profiles: [
          instoreProfile([
            { type: 'mobile', value: '8888888888' },
            { type: 'email', value: 'no-email@shop.in' },
            { type: 'externalId', value: `POS-${randomUUID()}` },
          ]),
        ],
      },
      400,
      [8014, 8055],
      smallShop,
    );
    expect(reply.body.errors.map((e: { path: string }) => e.path)).toEqual([
      '/profiles/0/identifiers/0/value',
      '/profiles/0/identifiers/1/value',
    ]);
  });

  it('refuses a value of the org’s own list with 400 and adds 8005 when nothing is left', async () => {
    const reply = await expectRefused({ profiles: [instoreProfile([{ type: 'externalId', value: '0000' }])] }, 400, [400, 8005], smallShop);
    expect(reply.body.errors.map((e: { path: string }) => e.path)).toEqual(['/profiles/0/identifiers/0/value', '/profiles/0/identifiers']);
  });

  it('answers a lookup of a placeholder with 404 / 8015', async () => {
    const reply = await lookup({ source: 'ALL', identifierName: 'mobile', identifierValue: '7777777777' }, smallShop);
    expect([reply.status, ...codes(reply)]).toEqual([404, 8015]);
  });
});

describe('with maxProfilesPerCustomer: 3 (org 300)', () => {
  const profileIn = (source: string, identifiers: { type: string; value: string }[]) =>
    source === 'WECHAT' ? { source, accountId: 'wx-main', identifiers } : { source, identifiers };
  const sourcesOf = async (id: number) => (await getCustomer(id, smallShop)).body.profiles.map((p: { source: string }) => p.source).sort();

  it('refuses with 409 / 8901 a fourth profile for a customer registered with three, and writes nothing', async () => {
    const mobile = { type: 'mobile', value: uniqueMobile() };
    const created = await addCustomer({ profiles: ['INSTORE', 'WEBSITE', 'ECOMMERCE'].map((s) => profileIn(s, [mobile])) }, smallShop);
    expect(created.status).toBe(200);

    const fourth = await expectRefused({ profiles: [profileIn('WECHAT', [mobile])] }, 409, [8901], smallShop);

    expect(fourth.body.errors[0].message).toContain(`customer ${created.body.createdId}`);
    expect(await sourcesOf(created.body.createdId)).toEqual(['ECOMMERCE', 'INSTORE', 'WEBSITE']);
  });

  it('merges up to the third profile, then refuses the next one that the identifier items show would be a fourth', async () => {
    const mobile = { type: 'mobile', value: uniqueMobile() };
    const email = { type: 'email', value: uniqueEmail() };
    const created = await addCustomer({ profiles: ['INSTORE', 'WEBSITE'].map((s) => profileIn(s, [mobile])) }, smallShop);
    // The merged profile brings a new email, whose item records all three source accounts.
    const third = await addCustomer({ profiles: [profileIn('ECOMMERCE', [mobile, email])] }, smallShop);
    expect(third.status).toBe(200);
    expect(third.body.createdId).toBe(created.body.createdId);

    await expectRefused({ profiles: [profileIn('WECHAT', [email])] }, 409, [8901], smallShop);
    expect(await sourcesOf(created.body.createdId)).toEqual(['ECOMMERCE', 'INSTORE', 'WEBSITE']);
  });

  it('counts profiles merged one by one through the same mobile, and refuses the fourth', async () => {
    const mobile = { type: 'mobile', value: uniqueMobile() };
    const created = await addCustomer({ profiles: [profileIn('INSTORE', [mobile])] }, smallShop);
    expect(created.status).toBe(200);
    for (const source of ['WEBSITE', 'ECOMMERCE']) {
      const merged = await addCustomer({ profiles: [profileIn(source, [mobile])] }, smallShop);
      expect(merged.status).toBe(200);
      expect(merged.body.createdId).toBe(created.body.createdId);
    }
    // Each merge recorded its source on the mobile's item, so the fourth is known to be one.
    await expectRefused({ profiles: [profileIn('JD', [mobile])] }, 409, [8901], smallShop);
    expect(await sourcesOf(created.body.createdId)).toEqual(['ECOMMERCE', 'INSTORE', 'WEBSITE']);
  });

  it('refuses with 8901 a new customer sent with four profiles', async () => {
    const profiles = ['INSTORE', 'WEBSITE', 'ECOMMERCE', 'JD'].map((s) =>
      profileIn(s, [{ type: 'externalId', value: `${s}-${randomUUID()}` }]),
    );
    await expectRefused({ profiles }, 409, [8901], smallShop);
  });
});

describe('the guards of one org are not another’s', () => {
  it('org 100 drops, and does not refuse, what org 300 refuses', async () => {
    const reply = await addCustomer({
      profiles: [
        instoreProfile([
          { type: 'mobile', value: '8888888888' },
          { type: 'email', value: uniqueEmail() },
        ]),
      ],
    });
    expect(reply.status).toBe(200);
    expect(warningCodes(reply)).toEqual([8200]);
  });

  it('org 200 accepts the external ids org 300 blocks', async () => {
    for (const value of ['WALK-IN', '0000']) {
      const reply = await addCustomer({ profiles: [instoreProfile([{ type: 'externalId', value }])] }, { till: 'other' });
      expect({ value, status: reply.status, warnings: warningCodes(reply) }).toEqual({ value, status: 200, warnings: [] });
    }
  });

  it('org 100 lets a customer gather more than three profiles', async () => {
    const mobile = uniqueMobile();
    const created = await addCustomer({
      profiles: ['INSTORE', 'WEBSITE', 'ECOMMERCE'].map((source) => ({ source, identifiers: [{ type: 'mobile', value: mobile }] })),
    });
    expect(created.status).toBe(200);
    const fourth = await addCustomer({ profiles: [{ source: 'JD', identifiers: [{ type: 'mobile', value: mobile }] }] });
    expect(fourth.status).toBe(200);
    expect(fourth.body.createdId).toBe(created.body.createdId);
    expect(warningCodes(fourth)).toEqual([8050]);
  });
});
