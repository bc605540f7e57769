// The table's invariants after merges, unmerges and their races (SPEC sections 13 and 15), and
// the org's data compared item by item.

import { allItems } from './table';

const ORG = 100;

/** Every item of the org's data but histories, and with the stamps every write changes left out. */
export async function orgState(): Promise<Record<string, unknown>[]> {
  const stamps = ['version', 'changedAt', 'writtenBy', 'changedBy', 'lastMerge', 'lastUnmerge', 'mergedFrom', 'profileCount', 'victims'];
  return (await allItems())
    .filter((i) => String(i.pk).startsWith(`ORG#${ORG}#`) && !String(i.pk).includes('#HISTORY#') && !String(i.pk).includes('#RATE#'))
    .map((item) => {
      const copy: Record<string, unknown> = { ...item };
      for (const stamp of stamps) delete copy[stamp];
      if (Array.isArray(copy.customerSourceAccounts)) copy.customerSourceAccounts = [...(copy.customerSourceAccounts as string[])].sort();
      if (copy.recordKeys instanceof Set) copy.recordKeys = [...copy.recordKeys].sort();
      return copy;
    })
    .sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
}

/** The invariants: every identifier item names a live customer that lists it, and every live customer's identifiers are held by it. */
export async function expectInvariants(): Promise<void> {
  const items = (await allItems()).filter((i) => String(i.pk).startsWith(`ORG#${ORG}#`));
  const customers = new Map<number, Record<string, unknown>>();
  const profilesOf = new Map<number, Record<string, unknown>[]>();
  for (const item of items) {
    if (item.entity === 'customer') customers.set(item.id as number, item);
  }
  for (const item of items) {
    if (item.entity !== 'profile') continue;
    const id = Number(/#CUSTOMER#(\d+)$/.exec(String(item.pk))![1]);
    profilesOf.set(id, [...(profilesOf.get(id) ?? []), item.profile as Record<string, unknown>]);
  }
  const listed = new Map<string, number>();
  for (const [id, customer] of customers) {
    const profiles = [...((customer.profiles as Record<string, unknown>[]) ?? []), ...(profilesOf.get(id) ?? [])];
    if (customer.activity !== 'ACTIVE') {
      expect({ id, activity: customer.activity, profiles: profiles.length }).toEqual({ id, activity: customer.activity, profiles: 0 });
      continue;
    }
    expect({ id, profileCount: customer.profileCount }).toEqual({ id, profileCount: profiles.length });
    for (const profile of profiles) {
      for (const identifier of profile.identifiers as { type: string; value: string }[])
        listed.set(`${identifier.type}#${identifier.value}`, id);
      const card = profile.card as { cardNumber?: string } | undefined;
      if (card?.cardNumber) listed.set(`card#${card.cardNumber}`, id);
    }
  }
  const held = new Map<string, number>();
  for (const item of items) {
    if (item.entity !== 'identifier') continue;
    const key = String(item.pk).replace(`ORG#${ORG}#ID#`, '');
    held.set(key, item.customerId as number);
  }
  expect(Object.fromEntries([...held].sort())).toEqual(Object.fromEntries([...listed].sort()));
}
