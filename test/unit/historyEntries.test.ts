import { historyOf, isErasure } from '../../lib/history/entries';
import type { CustomerChange, StoredCustomer } from '../../lib/store/stream';
import { profile } from './registrations';

// The history of SPEC section 15 from stream records, as a pure function: one case per entry
// type, the reason of a merge, the old and new values of an update, and the same entries for
// the same record read twice.

const MOBILE = { type: 'mobile' as const, value: '919876543210' };
const EMAIL = { type: 'email' as const, value: 'asha@example.com' };
const AT = '2024-06-02T08:30:00.123Z';
const BY = { till: 'store2.till', requestId: 'req-7' };

function stored(extra: Partial<StoredCustomer> = {}): StoredCustomer {
  return {
    orgId: 100,
    id: 42,
    loyaltyType: 'loyalty',
    profiles: [profile('INSTORE', [MOBILE])],
    extendedFields: { city: 'Pune' },
    enrollments: [],
    createDate: AT,
    associatedWith: 'demo.till',
    endPointsEnabled: [],
    activity: 'ACTIVE',
    version: 1,
    profileCount: 1,
    changedAt: AT,
    ...extra,
  };
}

const insert = (after: StoredCustomer): CustomerChange => ({
  kind: 'customer',
  change: 'insert',
  orgId: 100,
  customerId: after.id,
  after,
  at: new Date(AT),
  recordId: 'r1',
});
const modify = (before: StoredCustomer, after: StoredCustomer): CustomerChange => ({
  kind: 'customer',
  change: 'modify',
  orgId: 100,
  customerId: after.id,
  before,
  after,
  at: new Date(AT),
  recordId: 'r2',
});

test('created: the profiles, by the till and request the item records', () => {
  const entries = historyOf(insert(stored({ changedBy: BY, origin: 'import' })));
  expect(entries).toEqual([
    {
      discriminator: 'C#0',
      entry: {
        at: AT,
        type: 'created',
        sequence: 1,
        by: { till: 'store2.till', origin: 'import' },
        requestId: 'req-7',
        details: { profiles: [{ source: 'INSTORE', accountId: null }] },
      },
    },
  ]);
});

test('merged: one entry per profile added, with the identifiers that matched', () => {
  const before = stored();
  const after = stored({
    version: 2,
    profileCount: 3,
    lastMerge: {
      sourceAccounts: ['WECHAT#wx-main', 'WEBSITE'],
      identifierTypes: ['email', 'mobile'],
      matchedBy: [MOBILE],
      till: 'demo.till',
    },
  });
  const entries = historyOf(modify(before, after)).map((e) => e.entry);
  expect(entries.map((e) => [e.type, e.details])).toEqual([
    ['merged', { profile: { source: 'WECHAT', accountId: 'wx-main' }, matchedBy: [MOBILE] }],
    ['merged', { profile: { source: 'WEBSITE', accountId: null }, matchedBy: [MOBILE] }],
  ]);
  expect(entries[0].by).toEqual({ till: 'demo.till', origin: 'api' });
  expect(entries[0].sequence).toBe(2);
});

test('updated: each changed leaf with its old and new value; identifiers_changed: what was added and removed', () => {
  const before = stored();
  const after = stored({
    version: 5,
    profiles: [{ ...profile('INSTORE', [EMAIL]), lastName: 'Iyer', modifiedBy: 'store2.till' }],
    extendedFields: { city: 'Kochi', gender: 'Female' },
  });
  const entries = historyOf(modify(before, after)).map((e) => e.entry);
  expect(entries.map((e) => e.type)).toEqual(['identifiers_changed', 'updated']);
  expect(entries[0].details).toEqual({ profile: { source: 'INSTORE', accountId: null }, added: [EMAIL], removed: [MOBILE] });
  expect(entries[1].details).toEqual({
    changes: [
      { path: '/profiles/INSTORE/lastName', old: before.profiles[0].lastName ?? null, new: 'Iyer' },
      { path: '/extendedFields/city', old: 'Pune', new: 'Kochi' },
      { path: '/extendedFields/gender', old: null, new: 'Female' },
    ],
  });
  expect(entries[1].by.till).toBe('store2.till');
});

test('merged_customer and unmerged, on both customers of an unmerge', () => {
  const merged = historyOf(
    modify(
      stored(),
      stored({ version: 2, profileCount: 2, lastMerge: { sourceAccounts: ['LINE#line-main'], identifierTypes: ['line'], victimId: 9 } }),
    ),
  );
  expect(merged.map((e) => [e.entry.type, e.entry.details])).toEqual([
    ['merged_customer', { victimId: 9, profiles: [{ source: 'LINE', accountId: 'line-main' }] }],
  ]);
  const summary = {
    profile: { source: 'LINE', accountId: 'line-main' },
    from: 42,
    to: 9,
    kept: [],
    moved: [{ type: 'line' as const, value: 'l-1' }],
  };
  const left = historyOf(modify(stored({ version: 2, profileCount: 2 }), stored({ version: 3, profileCount: 1, lastUnmerge: summary })));
  expect(left.map((e) => e.entry.type)).toEqual(['unmerged']);
  const back = historyOf(modify(stored({ id: 9, activity: 'MERGED', profiles: [] }), stored({ id: 9, version: 4, lastUnmerge: summary })));
  expect(back.map((e) => [e.entry.type, e.entry.details])).toEqual([['unmerged', summary]]);
  expect(historyOf(insert(stored({ id: 9, lastUnmerge: summary }))).map((e) => e.entry.type)).toEqual(['unmerged']);
});

test('nothing for a victim becoming a tombstone; an erase is told apart (its history is deleted)', () => {
  const victim = modify(stored(), stored({ version: 2, activity: 'MERGED', profiles: [], mergedInto: 1 }));
  expect(historyOf(victim)).toEqual([]);
  const erase = modify(stored(), stored({ version: 2, activity: 'ERASED', profiles: [] }));
  expect(isErasure(erase)).toBe(true);
  expect(historyOf(erase)).toEqual([]);
  expect(isErasure(victim)).toBe(false);
});

test('a merged profile item changed by an update tells its own entries, keyed by its source account', () => {
  const before = profile('WECHAT', [MOBILE], { accountId: 'wx-main' });
  const after = { ...before, firstName: 'Ashwini', modifiedBy: 'demo.till' };
  const change: CustomerChange = {
    kind: 'profile',
    change: 'modify',
    orgId: 100,
    customerId: 42,
    sourceAccount: 'WECHAT#wx-main',
    profile: after,
    previous: before,
    version: 6,
    changedAt: AT,
    at: new Date(AT),
    recordId: 'r3',
  };
  const entries = historyOf(change);
  expect(entries.map((e) => [e.discriminator, e.entry.type, e.entry.sequence])).toEqual([['P#WECHAT#wx-main#0', 'updated', 6]]);
  expect(historyOf(change)).toEqual(entries);
});
