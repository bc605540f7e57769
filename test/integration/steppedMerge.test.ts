import { randomUUID } from 'node:crypto';
import {
  addCustomer,
  eraseCustomer,
  getCustomer,
  lookup,
  mergeCustomers,
  uniqueMobile,
  unmergeCustomer,
  updateCustomer,
} from '../support/customers';
import { codes, warningCodes } from '../support/http';
import { expectInvariants } from '../support/invariants';
import { runner } from '../support/steps';
import { allItems, useDemoTable } from '../support/table';
import { mergeCustomers as mergeInSteps, unmergeProfile } from '../../lib/lifecycle/merge';
import { namedProfileIndex } from '../../lib/lifecycle/namedProfile';
import { ApiError } from '../../lib/errors';
import { IDENTIFIER_TYPES } from '../../lib/vocabulary';

// SPEC section 15: a merge or unmerge too large for one transaction goes in steps, the victim
// marked first; an interrupted one is finished by sending it again; every step keeps the
// table's invariants, and what races it waits or is refused, never attaches to a half-moved
// customer. Through the real handlers (a victim of over 100 items) and through the lifecycle
// with small steps and a function that dies midway.

useDemoTable();
jest.setTimeout(180_000);

const ORG = 100;
type Id = { type: string; value: string };
const FREE_TYPES = IDENTIFIER_TYPES.filter((type) => !['mobile', 'email', 'card'].includes(type));
const PLACES: [string, string?][] = [
  ['FACEBOOK', 'fb-main'],
  ['WEB_ENGAGE', 'we-main'],
  ['WECHAT', 'wx-main'],
  ['WECHAT', 'wx-second'],
  ['MARTJACK'],
  ['TMALL'],
  ['TAOBAO'],
];
const tag = () => randomUUID().slice(0, 12);

async function registered(body: unknown): Promise<number> {
  const reply = await addCustomer(body);
  expect({ status: reply.status, codes: codes(reply) }).toEqual({ status: 200, codes: [] });
  return reply.body.createdId as number;
}

/**
 * A customer with one profile per place, all through one shared mobile (automatic merges), and
 * `perProfile` identifiers in each. Returns its id, its mobile, every value it holds and each profile's own.
 */
async function largeCustomer(
  places: [string, string?][],
  perProfile: number,
): Promise<{ id: number; mobile: string; held: Id[]; owned: Id[][] }> {
  const mobile = uniqueMobile();
  const held: Id[] = [{ type: 'mobile', value: mobile }];
  const owned: Id[][] = [];
  const profile = ([source, accountId]: [string, string?]) => {
    const own: Id[] = [{ type: 'email', value: `${tag()}@example.com` }];
    for (const type of FREE_TYPES.slice(0, perProfile - 2)) own.push({ type, value: `${type}-${tag()}` });
    held.push(...own);
    owned.push(own);
    return { source, ...(accountId ? { accountId } : {}), firstName: 'Mei', identifiers: [{ type: 'mobile', value: mobile }, ...own] };
  };
  const id = await registered({ profiles: [profile(places[0])] });
  for (const place of places.slice(1)) {
    const reply = await addCustomer({ profiles: [profile(place)] });
    expect({ status: reply.status, id: reply.body.createdId }).toEqual({ status: 200, id });
  }
  return { id, mobile, held, owned };
}

async function ownerOf({ type, value }: Id): Promise<number | string> {
  const reply = await lookup({ source: 'ALL', identifierName: type, identifierValue: value });
  return reply.status === 200 ? (reply.body.entity as number) : `${reply.status}/${codes(reply).join(',')}`;
}

async function ownersOf(held: Id[]): Promise<Set<number | string>> {
  return new Set(await Promise.all(held.map(ownerOf)));
}

async function customerItem(id: number): Promise<Record<string, unknown>> {
  return (await allItems()).find((i) => i.pk === `ORG#${ORG}#CUSTOMER#${id}` && i.sk === 'CUSTOMER')!;
}

const sources = (document: { profiles: { source: string; accountId?: string | null }[] }) =>
  document.profiles.map((p) => `${p.source}#${p.accountId ?? ''}`).sort();

const named = (query: { source: string; accountId?: string }) => (customer: Parameters<typeof namedProfileIndex>[0]) => {
  const index = namedProfileIndex(customer, query);
  return index instanceof ApiError ? index.problems : index;
};

describe('a merge too large for one transaction', () => {
  test('goes in steps through the route: the answer is the preview, every value moves, the victim answers the survivor; unmerges bring each profile back', async () => {
    const survivor = await registered({
      profiles: [{ source: 'INSTORE', firstName: 'Ana', identifiers: [{ type: 'mobile', value: uniqueMobile() }] }],
    });
    // 7 profiles of 14 identifiers sharing one mobile: 92 values, 6 profile items, so 108 items to write.
    const victim = await largeCustomer(PLACES, 14);
    expect(victim.held).toHaveLength(92);
    const victimBefore = (await getCustomer(victim.id)).body;

    const preview = await mergeCustomers(survivor, { victimId: victim.id }, { query: { preview: 'true' } });
    expect(preview.status).toBe(200);
    expect((await customerItem(victim.id)).activity).toBe('ACTIVE');

    const merged = await mergeCustomers(survivor, { victimId: victim.id });
    expect({ status: merged.status, codes: codes(merged) }).toEqual({ status: 200, codes: [] });
    expect(sources(merged.body)).toEqual(sources(preview.body));
    expect(merged.body).toEqual(preview.body);
    expect([...(await ownersOf(victim.held))]).toEqual([survivor]);
    const read = await getCustomer(victim.id);
    expect({ id: read.body.id, warnings: warningCodes(read) }).toEqual({ id: survivor, warnings: [91009] });
    const tombstone = await customerItem(victim.id);
    expect({ activity: tombstone.activity, mergedInto: tombstone.mergedInto, profiles: tombstone.profiles }).toEqual({
      activity: 'MERGED',
      mergedInto: survivor,
      profiles: [],
    });
    expect((await customerItem(survivor)).mergingFrom).toBeUndefined();
    expect((await customerItem(survivor)).profileCount).toBe(8);
    await expectInvariants();

    for (const [source, accountId] of PLACES) {
      const reply = await unmergeCustomer(survivor, { source, ...(accountId ? { accountId } : {}) });
      expect({ status: reply.status, to: reply.body.entity?.id }).toEqual({ status: 200, to: victim.id });
    }
    const back = await getCustomer(victim.id);
    expect({ id: back.body.id, sources: sources(back.body) }).toEqual({ id: victim.id, sources: sources(victimBefore) });
    expect([...(await ownersOf(victim.held))]).toEqual([victim.id]);
    expect(sources((await getCustomer(survivor)).body)).toEqual(['INSTORE#']);
    await expectInvariants();
  });

  test('marks the victim first, and every transaction holds at most the step size', async () => {
    const survivor = await registered({ profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: uniqueMobile() }] }] });
    const victim = await largeCustomer(PLACES.slice(0, 3), 5);
    const { run, sent } = runner({ most: 6 });

    const outcome = await mergeInSteps(ORG, survivor, victim.id, undefined, { stepItems: 6, run });

    expect(outcome.kind).toBe('merged');
    // 1 + 3 × 4 values and 2 profile items: the mark, then 15 parts in steps.
    expect(sent.length).toBeGreaterThanOrEqual(4);
    const mark = JSON.stringify(sent[0].input.TransactItems);
    expect(mark).toContain('"MERGING"');
    expect(mark).toContain('mergingFrom');
    expect(JSON.stringify(sent.at(-1)!.input.TransactItems)).toContain('"MERGED"');
    expect([...(await ownersOf(victim.held))]).toEqual([survivor]);
    await expectInvariants();
  });

  /** A survivor and a victim whose stepped merge was killed after its mark and one step: the victim MERGING, half its values moved. */
  async function killedMerge() {
    const survivorMobile = uniqueMobile();
    const survivor = await registered({ profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: survivorMobile }] }] });
    const victim = await largeCustomer(PLACES.slice(0, 3), 6);
    const { run, sent } = runner({ most: 6, failAfter: 2 });
    await expect(mergeInSteps(ORG, survivor, victim.id, undefined, { stepItems: 6, run })).rejects.toThrow('simulated crash');
    expect(sent).toHaveLength(2);
    expect((await customerItem(victim.id)).activity).toBe('MERGING');
    expect((await customerItem(survivor)).mergingFrom).toBe(victim.id);
    const owners = await Promise.all(victim.held.map(ownerOf));
    expect([...new Set(owners)].sort()).toEqual([survivor, victim.id].sort());
    const notMoved = victim.held.filter((_value, i) => owners[i] === victim.id);
    return { survivor, survivorMobile, victim, notMoved };
  }

  /** The merge is finished: every value of the victim is the survivor's, the victim a tombstone, the marks gone. */
  async function expectFinished(survivor: number, victim: { id: number; held: Id[] }): Promise<void> {
    expect([...(await ownersOf(victim.held))]).toEqual([survivor]);
    const tombstone = await customerItem(victim.id);
    expect({ activity: tombstone.activity, mergedInto: tombstone.mergedInto }).toEqual({ activity: 'MERGED', mergedInto: survivor });
    expect((await customerItem(survivor)).mergingFrom).toBeUndefined();
  }

  test('killed midway, the victim answers the survivor, which holds every profile and counts them; the same merge sent again finishes it', async () => {
    const { survivor, victim } = await killedMerge();
    const read = await getCustomer(victim.id);
    expect({ id: read.body.id, warnings: warningCodes(read), profiles: read.body.profiles.length }).toEqual({
      id: survivor,
      warnings: [91009],
      profiles: 4,
    });
    // Mid-merge the survivor's count already holds the victim's profiles, and its partition has them.
    const partition = (await allItems()).filter((i) => i.pk === `ORG#${ORG}#CUSTOMER#${survivor}`);
    expect((await customerItem(survivor)).profileCount).toBe(partition.filter((i) => i.entity === 'profile').length + 1);
    expect((await customerItem(survivor)).profileCount).toBe(4);

    const resumed = await mergeCustomers(survivor, { victimId: victim.id });
    expect({ status: resumed.status, codes: codes(resumed), profiles: resumed.body.profiles?.length }).toEqual({
      status: 200,
      codes: [],
      profiles: 4,
    });
    await expectFinished(survivor, victim);
    await expectInvariants();
  });

  test('killed midway, a registration through a value not moved yet finishes the merge and then merges into the survivor', async () => {
    const { survivor, victim, notMoved } = await killedMerge();
    const through = await addCustomer({ profiles: [{ source: 'LINE', accountId: 'line-main', identifiers: [notMoved[0]] }] });
    expect({ status: through.status, id: through.body.createdId, warnings: warningCodes(through) }).toEqual({
      status: 200,
      id: survivor,
      warnings: [8050],
    });
    await expectFinished(survivor, victim);
    expect((await customerItem(survivor)).profileCount).toBe(5);
    await expectInvariants();
  });

  test('killed midway, a registration through a survivor value and a victim value not moved yet is no 8052: it merges once the merge is finished', async () => {
    const { survivor, survivorMobile, victim, notMoved } = await killedMerge();
    const both = await addCustomer({
      profiles: [
        {
          source: 'LINE',
          accountId: 'line-main',
          identifiers: [{ type: 'mobile', value: survivorMobile }, notMoved.find((i) => i.type !== 'mobile')!],
        },
      ],
    });
    expect({ status: both.status, id: both.body.createdId, codes: codes(both) }).toEqual({ status: 200, id: survivor, codes: [] });
    await expectFinished(survivor, victim);
    await expectInvariants();
  });

  test('killed midway, an erase of the survivor finishes the merge and erases both: no value of either is left', async () => {
    const { survivor, victim } = await killedMerge();
    const erased = await eraseCustomer(survivor);
    expect({ status: erased.status, body: erased.body }).toEqual({
      status: 200,
      body: { entity: { id: survivor, status: 'ERASED' }, warnings: [] },
    });
    for (const value of victim.held) expect(await ownerOf(value)).toBe('404/8015');
    expect((await customerItem(victim.id)).activity).toBe('ERASED');
    const table = JSON.stringify(await allItems());
    for (const { value } of victim.held) expect({ value, left: table.includes(value) }).toEqual({ value, left: false });
    await expectInvariants();
  });

  test('killed midway, an erase of the victim finishes the merge and answers 409 / 8903 (erase the survivor)', async () => {
    const { survivor, victim } = await killedMerge();
    const refused = await eraseCustomer(victim.id);
    expect({ status: refused.status, codes: codes(refused) }).toEqual({ status: 409, codes: [8903] });
    await expectFinished(survivor, victim);
    await expectInvariants();
  });

  test('killed midway, an update of the survivor, a merge of it into a third customer, or an unmerge of it each finishes the merge first', async () => {
    {
      const { survivor, victim } = await killedMerge();
      expect((await updateCustomer(survivor, { profiles: [{ firstName: 'Zed' }] })).status).toBe(200);
      await expectFinished(survivor, victim);
    }
    {
      const { survivor, victim } = await killedMerge();
      const third = await registered({
        profiles: [{ source: 'LINE', accountId: 'line-main', identifiers: [{ type: 'mobile', value: uniqueMobile() }] }],
      });
      // With an Idempotency-Key: no refusal of the moment is recorded and replayed.
      const key = `merge-${tag()}`;
      const merged = await mergeCustomers(third, { victimId: survivor }, { headers: { 'Idempotency-Key': key } });
      expect({ status: merged.status, codes: codes(merged) }).toEqual({ status: 200, codes: [] });
      const replayed = await mergeCustomers(third, { victimId: survivor }, { headers: { 'Idempotency-Key': key } });
      expect({ status: replayed.status, replayed: replayed.headers['Idempotent-Replayed'] }).toEqual({ status: 200, replayed: 'true' });
      expect((await getCustomer(victim.id)).body.id).toBe(third);
      expect([...(await ownersOf(victim.held))]).toEqual([third]);
    }
    {
      const { survivor, victim } = await killedMerge();
      const unmerged = await unmergeCustomer(survivor, { source: 'FACEBOOK', accountId: 'fb-main' });
      expect({ status: unmerged.status, to: unmerged.body.entity?.id }).toEqual({ status: 200, to: victim.id });
      expect((await customerItem(survivor)).mergingFrom).toBeUndefined();
    }
    await expectInvariants();
  });

  test('two copies at once end in one merge, and registrations racing it through the victim’s values never make a customer the table contradicts', async () => {
    const survivor = await registered({ profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: uniqueMobile() }] }] });
    const victim = await largeCustomer(PLACES.slice(0, 3), 6);
    const copies = await Promise.all([
      // Room for the mark with the two profiles the registrations may add to the victim first.
      mergeInSteps(ORG, survivor, victim.id, undefined, { stepItems: 8 }),
      mergeInSteps(ORG, survivor, victim.id, undefined, { stepItems: 8 }),
      ...victim.held
        .slice(0, 4)
        .map((value, i) =>
          addCustomer({ profiles: [{ source: 'MOBILE_APP', accountId: i % 2 ? 'app-ios' : 'app-android', identifiers: [value] }] }),
        ),
    ]);
    const merges = copies.slice(0, 2) as Awaited<ReturnType<typeof mergeInSteps>>[];
    expect(merges.map((m) => (m.kind === 'rejected' ? m.problems.map((p) => p.code).join() : m.kind))).toContain('merged');
    for (const m of merges) if (m.kind === 'rejected') expect(m.problems.map((p) => p.code)).toEqual([8903]);
    expect((await customerItem(victim.id)).activity).toBe('MERGED');
    expect((await customerItem(survivor)).mergingFrom).toBeUndefined();
    expect([...(await ownersOf(victim.held))]).toEqual([survivor]);
    await expectInvariants();
  });
});

describe('an unmerge too large for one transaction', () => {
  test('splits first, then records the source accounts on the values that stay; killed after the split, the next unmerge finishes it', async () => {
    // An automatic merge: four profiles through one mobile, each with its own values.
    const customer = await largeCustomer(PLACES.slice(0, 4), 5);
    const { run, sent } = runner({ most: 6, failAfter: 1 });

    await expect(
      unmergeProfile(ORG, customer.id, named({ source: 'FACEBOOK', accountId: 'fb-main' }), { stepItems: 6, run }),
    ).rejects.toThrow('simulated crash');
    expect(sent).toHaveLength(1);
    const item = await customerItem(customer.id);
    expect(item.refreshingIdentifiers).toBe(true);
    // The split is done: the profile's own values belong to a new customer; the shared mobile stayed.
    const split = new Set(await Promise.all(customer.owned[0].map(ownerOf)));
    expect(split.size).toBe(1);
    expect(split.has(customer.id)).toBe(false);
    expect(await ownerOf({ type: 'mobile', value: customer.mobile })).toBe(customer.id);
    await expectInvariants();

    // A registration through the mobile that stayed, in the source account that left, reads the stale list (8006)
    // only until it sees the customer's refresh is unfinished: it finishes it and merges.
    const back = await addCustomer({
      profiles: [{ source: 'FACEBOOK', accountId: 'fb-main', identifiers: [{ type: 'mobile', value: customer.mobile }] }],
    });
    expect({ status: back.status, id: back.body.createdId, warnings: warningCodes(back) }).toEqual({
      status: 200,
      id: customer.id,
      warnings: [8050],
    });
    expect((await customerItem(customer.id)).refreshingIdentifiers).toBeUndefined();
    await expectInvariants();

    // A second unmerge finishes the refresh first, then does its own work.
    const second = await unmergeProfile(ORG, customer.id, named({ source: 'WEB_ENGAGE', accountId: 'we-main' }), { stepItems: 7 });
    expect(second).toMatchObject({ kind: 'unmerged' });
    expect((await customerItem(customer.id)).refreshingIdentifiers).toBeUndefined();
    const mobileItem = (await allItems()).find((i) => String(i.pk).startsWith(`ORG#${ORG}#ID#mobile#`) && i.customerId === customer.id)!;
    // The FACEBOOK profile came back above; WEB_ENGAGE left.
    expect([...(mobileItem.customerSourceAccounts as string[])].sort()).toEqual(['FACEBOOK#fb-main', 'WECHAT#wx-main', 'WECHAT#wx-second']);
    // The profile that left registers back through the mobile: merged into the customer again, no false 8006.
    const again = await addCustomer({
      profiles: [{ source: 'WEB_ENGAGE', accountId: 'we-main', identifiers: [{ type: 'mobile', value: customer.mobile }] }],
    });
    expect({ status: again.status, codes: codes(again), id: again.body.createdId }).toEqual({ status: 200, codes: [], id: customer.id });
    await expectInvariants();
  });
});
