import { randomUUID } from 'node:crypto';
import { addCustomer, getCustomer, instoreProfile, lookup, uniqueMobile } from '../support/customers';
import { codes, warningCodes, type Reply } from '../support/http';
import { allItems, useDemoTable } from '../support/table';
import { Entity, keys } from '../../lib/store/keys';

// Concurrent registrations (SPEC section 3, rule 6): a request applies completely or not at
// all, and concurrent requests never create two customers sharing an identifier, whatever
// their timing. Requests run in parallel through the real handler against DynamoDB Local.

useDemoTable();

const RACE_TIMEOUT = 180_000;
const uniqueEmail = (name = 'racer') => `${name}.${randomUUID().slice(0, 8)}@example.com`;
const uniqueValue = (prefix: string) => `${prefix}-${randomUUID()}`;

beforeAll(async () => {
  // Verify the till's credentials once, so the races measure registrations, not scrypt.
  expect((await lookup({ source: 'ALL', identifierName: 'mobile', identifierValue: uniqueMobile() })).status).toBe(404);
});

function summary(replies: Reply[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const reply of replies) {
    const key = `${reply.status}/${codes(reply).join(',') || 'ok'}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** The customer lookup (source ALL) finds for an identifier, or the error. */
async function ownerOf(identifierName: string, identifierValue: string): Promise<number | string> {
  const reply = await lookup({ source: 'ALL', identifierName, identifierValue });
  return reply.status === 200 ? reply.body.entity : `${reply.status}/${codes(reply).join(',')}`;
}

interface Table {
  customers: Record<string, unknown>[];
  profiles: Record<string, unknown>[];
  identifiers: Record<string, unknown>[];
}

async function table(): Promise<Table> {
  // Every registration here is made by a till of org 100.
  const items = (await allItems()).filter((i) => String(i.pk).startsWith(keys.orgPrefix(100)));
  return {
    customers: items.filter((i) => i.entity === Entity.customer),
    profiles: items.filter((i) => i.entity === Entity.mergedProfile),
    identifiers: items.filter((i) => i.entity === Entity.identifier),
  };
}

/**
 * Nothing half-written and no identifier shared: every merged profile and every identifier item
 * belongs to an existing customer; every identifier a customer's profiles show is held by that
 * customer alone, found by lookup, and backed by exactly one identifier item; no identifier
 * item is left over.
 */
async function expectConsistentTable(): Promise<void> {
  const { customers, profiles, identifiers } = await table();
  const customerIds = new Set(customers.map((c) => c.id as number));

  for (const profile of profiles) {
    const owner = /#CUSTOMER#(\d+)$/.exec(String(profile.pk));
    expect({ orphanProfile: profile.pk, ownerExists: owner !== null && customerIds.has(Number(owner[1])) }).toEqual({
      orphanProfile: profile.pk,
      ownerExists: true,
    });
  }
  for (const identifier of identifiers) {
    expect({ identifier: identifier.pk, ownerExists: customerIds.has(identifier.customerId as number) }).toEqual({
      identifier: identifier.pk,
      ownerExists: true,
    });
  }

  const holders = new Map<string, Set<number>>();
  for (const id of customerIds) {
    const document = await getCustomer(id);
    expect(document.status).toBe(200);
    for (const profile of document.body.profiles as { identifiers: { type: string; value: string }[] }[]) {
      for (const { type, value } of profile.identifiers) {
        const key = `${type}#${value}`;
        if (!holders.has(key)) holders.set(key, new Set());
        holders.get(key)!.add(id);
      }
    }
  }
  for (const [key, ids] of holders) {
    expect({ identifier: key, holders: ids.size }).toEqual({ identifier: key, holders: 1 });
    const [type, ...rest] = key.split('#');
    const [holder] = [...ids];
    expect({ identifier: key, owner: await ownerOf(type, rest.join('#')) }).toEqual({ identifier: key, owner: holder });
    const backing = identifiers.filter((i) => i.pk === keys.identifier(100, type, rest.join('#')).pk);
    expect({ identifier: key, items: backing.map((i) => i.customerId) }).toEqual({ identifier: key, items: [holder] });
  }
  expect(identifiers).toHaveLength(holders.size);
}

describe('concurrent registrations', () => {
  it(
    'lets exactly one of 40 identical parallel registrations create the customer and answers 409 / 8006 to the other 39',
    async () => {
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

      const replies = await Promise.all(Array.from({ length: 40 }, () => addCustomer(body)));

      expect(summary(replies)).toEqual({ '200/ok': 1, '409/8006': 39 });
      const winner = replies.find((r) => r.status === 200)!;
      const id = winner.body.createdId;
      expect(Number.isSafeInteger(id) && id > 0).toBe(true);
      expect(warningCodes(winner)).toEqual([]);

      const { customers, profiles, identifiers } = await table();
      const mine = identifiers.filter(
        (i) => i.pk === keys.identifier(100, 'mobile', `91${mobile}`).pk || i.pk === keys.identifier(100, 'email', email).pk,
      );
      expect(mine.map((i) => i.customerId)).toEqual([id, id]);
      expect(customers.filter((c) => c.id === id)).toHaveLength(1);
      expect(profiles.filter((p) => p.pk === keys.customerPartition(100, id))).toEqual([]);
      // No other customer was left behind by the losers.
      expect(identifiers.filter((i) => i.customerId !== id && customers.every((c) => c.id !== i.customerId))).toEqual([]);
      const document = await getCustomer(id);
      expect(document.body.profiles).toHaveLength(1);
      await expectConsistentTable();
    },
    RACE_TIMEOUT,
  );

  it(
    'merges 12 parallel registrations of one email in 12 source accounts into one customer with 12 profiles',
    async () => {
      const email = uniqueEmail('shared');
      const places: [string, string?][] = [
        ['INSTORE'],
        ['FACEBOOK', 'fb-main'],
        ['WECHAT', 'wx-main'],
        ['WECHAT', 'wx-second'],
        ['LINE', 'line-main'],
        ['MOBILE_APP', 'app-ios'],
        ['MOBILE_APP', 'app-android'],
        ['WEB_ENGAGE', 'we-main'],
        ['MARTJACK'],
        ['TMALL'],
        ['TAOBAO'],
        ['JD'],
      ];
      const cuids = places.map(() => uniqueValue('cuid'));

      const replies = await Promise.all(
        places.map(([source, accountId], i) =>
          addCustomer({
            profiles: [
              {
                source,
                ...(accountId ? { accountId } : {}),
                firstName: `Racer ${i}`,
                identifiers: [
                  { type: 'email', value: i % 2 ? email.toUpperCase() : email },
                  { type: 'cuid', value: cuids[i] },
                ],
              },
            ],
          }),
        ),
      );

      expect(summary(replies)).toEqual({ '200/ok': 12 });
      const ids = new Set(replies.map((r) => r.body.createdId));
      expect(ids.size).toBe(1);
      const [id] = [...ids];
      // One of them created the customer; the other eleven merged into it.
      expect(replies.filter((r) => warningCodes(r).includes(8050))).toHaveLength(11);
      expect(replies.filter((r) => warningCodes(r).length === 0)).toHaveLength(1);

      const document = await getCustomer(id);
      expect(document.status).toBe(200);
      expect(document.body.profiles).toHaveLength(12);
      expect(
        document.body.profiles
          .map((p: { source: string; accountId: string | null }) => (p.accountId ? `${p.source}#${p.accountId}` : p.source))
          .sort(),
      ).toEqual(places.map(([source, accountId]) => (accountId ? `${source}#${accountId}` : source)).sort());
      for (const cuid of cuids) expect(await ownerOf('cuid', cuid)).toBe(id);
      expect(await ownerOf('email', email)).toBe(id);

      const { customers, profiles, identifiers } = await table();
      expect(customers.filter((c) => c.id === id)).toHaveLength(1);
      expect(profiles.filter((p) => p.pk === keys.customerPartition(100, id))).toHaveLength(11);
      expect(identifiers.filter((i) => i.customerId === id)).toHaveLength(13);
      await expectConsistentTable();
    },
    RACE_TIMEOUT,
  );

  it(
    'lets exactly one of 20 parallel merges into one source succeed and attaches only its new identifier',
    async () => {
      const mobile = uniqueMobile();
      const existing = await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: mobile }])] });
      expect(existing.status).toBe(200);
      const id = existing.body.createdId;
      const emails = Array.from({ length: 20 }, () => uniqueEmail('merger'));

      const replies = await Promise.all(
        emails.map((email) =>
          addCustomer({
            profiles: [
              {
                source: 'WEBSITE',
                identifiers: [
                  { type: 'mobile', value: mobile },
                  { type: 'email', value: email },
                ],
              },
            ],
          }),
        ),
      );

      expect(summary(replies)).toEqual({ '200/ok': 1, '409/8006': 19 });
      const winner = replies.findIndex((r) => r.status === 200);
      expect(replies[winner].body.createdId).toBe(id);
      expect(warningCodes(replies[winner])).toEqual([8050]);
      for (const [i, email] of emails.entries())
        expect({ i, owner: await ownerOf('email', email) }).toEqual({ i, owner: i === winner ? id : '404/8015' });

      const document = await getCustomer(id);
      expect(document.body.profiles.map((p: { source: string }) => p.source).sort()).toEqual(['INSTORE', 'WEBSITE']);
      const { profiles, identifiers } = await table();
      expect(profiles.filter((p) => p.pk === keys.customerPartition(100, id))).toHaveLength(1);
      expect(identifiers.filter((i) => i.customerId === id)).toHaveLength(2);
      await expectConsistentTable();
    },
    RACE_TIMEOUT,
  );

  it(
    'lets only one of two parallel registrations in the same source claim a shared identifier',
    async () => {
      for (let round = 0; round < 8; round++) {
        const shared = uniqueEmail('pair');
        const [mobileA, mobileB] = [uniqueMobile(), uniqueMobile()];
        const replies = await Promise.all([
          addCustomer({
            profiles: [
              instoreProfile([
                { type: 'mobile', value: mobileA },
                { type: 'email', value: shared },
              ]),
            ],
          }),
          addCustomer({
            profiles: [
              instoreProfile([
                { type: 'mobile', value: mobileB },
                { type: 'email', value: shared },
              ]),
            ],
          }),
        ]);

        expect({ round, outcome: summary(replies) }).toEqual({ round, outcome: { '200/ok': 1, '409/8006': 1 } });
        const winner = replies.findIndex((r) => r.status === 200);
        const id = replies[winner].body.createdId;
        expect(await ownerOf('email', shared)).toBe(id);
        expect(await ownerOf('mobile', [mobileA, mobileB][winner])).toBe(id);
        // The loser's own mobile was not claimed.
        expect(await ownerOf('mobile', [mobileA, mobileB][1 - winner])).toBe('404/8015');
      }
      await expectConsistentTable();
    },
    RACE_TIMEOUT,
  );

  it(
    'lets only one of two existing customers claim a new identifier both try to add at once',
    async () => {
      for (let round = 0; round < 8; round++) {
        const [x, y] = [uniqueMobile(), uniqueMobile()];
        const first = await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: x }])] });
        const second = await addCustomer({ profiles: [instoreProfile([{ type: 'mobile', value: y }])] });
        const [idX, idY] = [first.body.createdId, second.body.createdId];
        const contested = uniqueEmail('contested');

        const replies = await Promise.all([
          addCustomer({
            profiles: [
              {
                source: 'WEBSITE',
                identifiers: [
                  { type: 'mobile', value: x },
                  { type: 'email', value: contested },
                ],
              },
            ],
          }),
          addCustomer({
            profiles: [
              {
                source: 'WEBSITE',
                identifiers: [
                  { type: 'mobile', value: y },
                  { type: 'email', value: contested },
                ],
              },
            ],
          }),
        ]);

        expect({ round, outcome: summary(replies) }).toEqual({ round, outcome: { '200/ok': 1, '409/8052': 1 } });
        const winner = replies.findIndex((r) => r.status === 200);
        const winnerId = [idX, idY][winner];
        expect(replies[winner].body.createdId).toBe(winnerId);
        expect(warningCodes(replies[winner])).toEqual([8050]);
        expect(await ownerOf('email', contested)).toBe(winnerId);
        const loserDocument = await getCustomer([idX, idY][1 - winner]);
        expect(loserDocument.body.profiles.map((p: { source: string }) => p.source)).toEqual(['INSTORE']);
      }
      await expectConsistentTable();
    },
    RACE_TIMEOUT,
  );

  it(
    'never lets customers share an identifier when parallel registrations overlap in a chain',
    async () => {
      for (let round = 0; round < 3; round++) {
        // Identifier j alternates between two types, so request i can hold j = i and j = i + 1
        // and overlaps each neighbour on one identifier.
        const chain = Array.from({ length: 11 }, (_, j) => ({ type: j % 2 ? 'cuid' : 'externalId', value: uniqueValue('chain') }));
        const sources = ['INSTORE', 'WEBSITE', 'ECOMMERCE', 'MARTJACK', 'TMALL', 'TAOBAO', 'JD', 'INSTORE', 'WEBSITE', 'ECOMMERCE'];
        const bodies = sources.map((source, i) => ({ profiles: [{ source, identifiers: [chain[i], chain[i + 1]] }] }));

        const replies = await Promise.all(bodies.map((body) => addCustomer(body)));

        for (const outcome of Object.keys(summary(replies))) expect(outcome).toMatch(/^(200\/ok|409\/(8006|8052))$/);
        expect(replies.some((r) => r.status === 200)).toBe(true);
        // Every identifier of an accepted request belongs to the customer it named.
        for (const [i, reply] of replies.entries()) {
          if (reply.status !== 200) continue;
          for (const { type, value } of bodies[i].profiles[0].identifiers) {
            expect({ request: i, type, owner: await ownerOf(type, value) }).toEqual({ request: i, type, owner: reply.body.createdId });
          }
        }
      }
      await expectConsistentTable();
    },
    RACE_TIMEOUT,
  );
});
