import { randomUUID } from 'node:crypto';
import {
  addCustomer,
  changeIdentifier,
  eraseCustomer,
  getCustomer,
  instoreProfile,
  lookup,
  mergeCustomers,
  uniqueMobile,
  unmergeCustomer,
} from '../support/customers';
import { codes, warningCodes } from '../support/http';
import { expectInvariants, orgState } from '../support/invariants';
import { allItems, useDemoTable } from '../support/table';

// SPEC section 15 against DynamoDB Local, through the real handlers: an explicit merge and its
// preview, an unmerge back into the victim and out of an automatic merge, the refusals, and
// races with the table's invariants checked after each.

useDemoTable();
jest.setTimeout(120_000);

const ORG = 100;
const email = () => `${randomUUID().slice(0, 10)}@example.com`;

async function registered(body: unknown): Promise<number> {
  const reply = await addCustomer(body);
  expect(reply.status).toBe(200);
  return reply.body.createdId as number;
}

const instore = (mobile = uniqueMobile(), extra: Record<string, unknown> = {}) => ({
  profiles: [instoreProfile([{ type: 'mobile', value: mobile }], extra)],
});
const wechat = (values: { type: string; value: string }[]) => ({
  profiles: [{ source: 'WECHAT', accountId: 'wx-main', firstName: 'Asha', identifiers: values }],
});

describe('an explicit merge', () => {
  test('moves the victim into the survivor; the victim answers the survivor with 91009; unmerge puts the table back as it was', async () => {
    const survivorMobile = uniqueMobile();
    const victimMobile = uniqueMobile();
    const victimEmail = email();
    const survivor = await registered(instore(survivorMobile));
    const victim = await registered(
      wechat([
        { type: 'mobile', value: victimMobile },
        { type: 'email', value: victimEmail },
      ]),
    );
    const before = await orgState();

    const preview = await mergeCustomers(survivor, { victimId: victim }, { query: { preview: 'true' } });
    expect(preview.status).toBe(200);
    expect(preview.body.profiles.map((p: { source: string }) => p.source)).toEqual(['INSTORE', 'WECHAT']);
    expect(await orgState()).toEqual(before);

    const merged = await mergeCustomers(survivor, { victimId: victim });
    expect(merged.status).toBe(200);
    expect(merged.body).toEqual(preview.body);
    const read = await getCustomer(victim);
    expect(read.status).toBe(200);
    expect(read.body.id).toBe(survivor);
    expect(warningCodes(read)).toEqual([91009]);
    expect((await lookup({ source: 'ALL', identifierName: 'email', identifierValue: victimEmail })).body.entity).toBe(survivor);
    await expectInvariants();

    const unmerged = await unmergeCustomer(survivor, { source: 'WECHAT', accountId: 'wx-main' });
    expect(unmerged.status).toBe(200);
    expect(unmerged.body.entity.id).toBe(victim);
    expect(unmerged.body.kept).toEqual([]);
    expect(unmerged.body.moved.map((i: { type: string }) => i.type).sort()).toEqual(['email', 'mobile']);
    expect(await orgState()).toEqual(before);
    expect((await getCustomer(victim)).body.id).toBe(victim);
    await expectInvariants();
  });

  test('is refused: the survivor itself (400), a shared source account (8902), a merged victim (8903), a till without mayMerge (403), an unknown id (404)', async () => {
    const a = await registered(instore());
    const b = await registered(instore());
    const c = await registered(wechat([{ type: 'mobile', value: uniqueMobile() }]));
    const before = await orgState();
    expect((await mergeCustomers(a, { victimId: a })).status).toBe(400);
    const shared = await mergeCustomers(a, { victimId: b });
    expect([shared.status, codes(shared)]).toEqual([409, [8902]]);
    expect((await mergeCustomers(a, { victimId: c }, { till: 'store2' })).status).toBe(403);
    expect((await mergeCustomers(999, { victimId: c }, { till: 'store2' })).status).toBe(403);
    expect(codes(await mergeCustomers(a, { victimId: 123456789 }))).toEqual([8015]);
    expect(codes(await mergeCustomers(123456789, { victimId: c }))).toEqual([8015]);
    expect(await orgState()).toEqual(before);
    expect((await mergeCustomers(a, { victimId: c })).status).toBe(200);
    const again = await mergeCustomers(b, { victimId: c });
    expect([again.status, codes(again)]).toEqual([409, [8903]]);
    const fromVictim = await mergeCustomers(c, { victimId: b });
    expect([fromVictim.status, codes(fromVictim)]).toEqual([409, [8903]]);
    await expectInvariants();
  });

  test('replays with the same Idempotency-Key', async () => {
    const a = await registered(instore());
    const b = await registered(wechat([{ type: 'mobile', value: uniqueMobile() }]));
    const key = { 'Idempotency-Key': randomUUID() };
    const first = await mergeCustomers(a, { victimId: b }, { headers: key });
    const second = await mergeCustomers(a, { victimId: b }, { headers: key });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.headers['Idempotent-Replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
  });

  test('two merges of one victim into two survivors at once: exactly one wins', async () => {
    for (let round = 0; round < 3; round++) {
      const s1 = await registered(instore());
      const s2 = await registered({
        profiles: [{ source: 'ECOMMERCE', accountId: 'shop', identifiers: [{ type: 'email', value: email() }] }],
      });
      const victim = await registered(wechat([{ type: 'mobile', value: uniqueMobile() }]));
      const replies = await Promise.all([mergeCustomers(s1, { victimId: victim }), mergeCustomers(s2, { victimId: victim })]);
      expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
      await expectInvariants();
    }
  });

  test("against a registration through the victim's values: the profile lands in one customer and nothing is lost", async () => {
    for (let round = 0; round < 3; round++) {
      const mobile = uniqueMobile();
      const survivor = await registered(instore());
      const victim = await registered(wechat([{ type: 'mobile', value: mobile }]));
      const [merge, registration] = await Promise.all([
        mergeCustomers(survivor, { victimId: victim }),
        addCustomer({
          profiles: [
            {
              source: 'FACEBOOK',
              accountId: 'fb-main',
              identifiers: [
                { type: 'mobile', value: mobile },
                { type: 'email', value: email() },
              ],
            },
          ],
        }),
      ]);
      expect(registration.status).toBe(200);
      await expectInvariants();
      if (merge.status === 200) {
        const owner = (await lookup({ source: 'ALL', identifierName: 'mobile', identifierValue: mobile })).body.entity;
        expect(owner).toBe(survivor);
        expect((await getCustomer(survivor)).body.profiles).toHaveLength(
          merge.body.profiles.length + (registration.body.createdId === survivor && merge.body.profiles.length < 3 ? 1 : 0),
        );
      }
    }
  });

  test('against an erase of the victim: either the victim is erased and the merge 404s, or the merge wins and the erase is 409 / 8903', async () => {
    for (let round = 0; round < 3; round++) {
      const survivor = await registered(instore());
      const victim = await registered(
        wechat([
          { type: 'mobile', value: uniqueMobile() },
          { type: 'email', value: email() },
        ]),
      );
      const [merge, erase] = await Promise.all([mergeCustomers(survivor, { victimId: victim }), eraseCustomer(victim)]);
      expect([merge.status, erase.status].sort()).toEqual([200, merge.status === 200 ? 409 : 404].sort());
      if (merge.status === 200) expect(codes(erase)).toEqual([8903]);
      else expect((await getCustomer(survivor)).body.profiles).toHaveLength(1);
      await expectInvariants();
    }
  });

  test("an erase of the survivor erases the victim's tombstone too", async () => {
    const survivor = await registered(instore());
    const victim = await registered(wechat([{ type: 'mobile', value: uniqueMobile() }]));
    await expect(mergeCustomers(survivor, { victimId: victim })).resolves.toMatchObject({ status: 200 });
    expect((await eraseCustomer(survivor)).status).toBe(200);
    expect((await getCustomer(victim)).status).toBe(404);
    const tombstone = (await allItems()).find((i) => i.pk === `ORG#${ORG}#CUSTOMER#${victim}` && i.sk === 'CUSTOMER')!;
    expect(tombstone).toMatchObject({ activity: 'ERASED', extendedFields: {}, profiles: [] });
    await expectInvariants();
  });
});

describe('an unmerge', () => {
  test('of an automatically merged profile: a new customer with the identifiers only it listed; the shared one stays and is named', async () => {
    const shared = uniqueMobile();
    const own = email();
    const customer = await registered(instore(shared));
    const merged = await addCustomer(
      wechat([
        { type: 'mobile', value: shared },
        { type: 'email', value: own },
      ]),
    );
    expect(merged.body.createdId).toBe(customer);
    const reply = await unmergeCustomer(customer, { source: 'WECHAT', accountId: 'wx-main' });
    expect(reply.status).toBe(200);
    expect(reply.body.kept).toEqual([{ type: 'mobile', value: `91${shared}` }]);
    expect(reply.body.moved).toEqual([{ type: 'email', value: own }]);
    const split = reply.body.entity.id;
    expect(split).not.toBe(customer);
    expect((await getCustomer(split)).body.profiles.map((p: { source: string }) => p.source)).toEqual(['WECHAT']);
    expect((await getCustomer(customer)).body.profiles.map((p: { source: string }) => p.source)).toEqual(['INSTORE']);
    expect((await lookup({ source: 'ALL', identifierName: 'email', identifierValue: own })).body.entity).toBe(split);
    await expectInvariants();
    // The source account left the shared value's record: the same WeChat profile merges in again, no 8006.
    const again = await addCustomer(wechat([{ type: 'mobile', value: shared }]));
    expect([again.status, again.body.createdId]).toEqual([200, customer]);
  });

  test('is refused: the last profile and a profile with nothing of its own (8005), no profile there (8065), a till without mayMerge (403)', async () => {
    const shared = uniqueMobile();
    const customer = await registered(instore(shared));
    const before = await orgState();
    expect(codes(await unmergeCustomer(customer, { source: 'INSTORE' }))).toEqual([8005]);
    expect(await addCustomer(wechat([{ type: 'mobile', value: shared }]))).toMatchObject({ status: 200 });
    expect(codes(await unmergeCustomer(customer, { source: 'WECHAT', accountId: 'wx-main' }))).toEqual([8005]);
    expect(codes(await unmergeCustomer(customer, { source: 'LINE', accountId: 'line-main' }))).toEqual([8065]);
    expect((await unmergeCustomer(customer, { source: 'WECHAT', accountId: 'wx-main' }, { till: 'store2' })).status).toBe(403);
    expect(codes(await unmergeCustomer(987654321, { source: 'WECHAT', accountId: 'wx-main' }))).toEqual([8015]);
    expect(before.length).toBeGreaterThan(0);
  });

  test('against a registration through the value that stays: the new profile lands in the customer that keeps it', async () => {
    for (let round = 0; round < 3; round++) {
      const shared = uniqueMobile();
      const customer = await registered(instore(shared));
      await addCustomer(
        wechat([
          { type: 'mobile', value: shared },
          { type: 'email', value: email() },
        ]),
      );
      const [unmerge, registration] = await Promise.all([
        unmergeCustomer(customer, { source: 'WECHAT', accountId: 'wx-main' }),
        addCustomer({ profiles: [{ source: 'LINE', accountId: 'line-main', identifiers: [{ type: 'mobile', value: shared }] }] }),
      ]);
      expect(unmerge.status).toBe(200);
      expect([registration.status, registration.body.createdId]).toEqual([200, customer]);
      await expectInvariants();
    }
  });

  test('against a change of identifiers of the same customer: both apply or one is retried; the invariants hold', async () => {
    for (let round = 0; round < 3; round++) {
      const shared = uniqueMobile();
      const customer = await registered(instore(shared));
      await addCustomer(
        wechat([
          { type: 'mobile', value: shared },
          { type: 'email', value: email() },
        ]),
      );
      const [unmerge, change] = await Promise.all([
        unmergeCustomer(customer, { source: 'WECHAT', accountId: 'wx-main' }),
        changeIdentifier(customer, { add: [{ type: 'externalId', value: `ext-${randomUUID()}` }] }, { query: { source: 'INSTORE' } }),
      ]);
      expect(unmerge.status).toBe(200);
      expect(change.status).toBe(200);
      await expectInvariants();
    }
  });
});
