import type { Identifier, VersionedCustomer } from '../../lib/customer';
import { mergeProblems, mergedCustomer, unmergeSplit } from '../../lib/lifecycle/mergeRules';
import { profile } from './registrations';

// The rules of SPEC section 15 as pure functions: what an explicit merge refuses, and what an
// unmerge takes with the profile and what stays.

const MOBILE = { type: 'mobile' as const, value: '919876543210' };
const EMAIL = { type: 'email' as const, value: 'asha@example.com' };
const WECHAT = { type: 'wechat' as const, value: 'wx-asha' };

function customer(id: number, extra: Partial<VersionedCustomer> = {}): VersionedCustomer {
  return {
    orgId: 100,
    id,
    loyaltyType: 'loyalty',
    profiles: [profile('INSTORE', [MOBILE])],
    extendedFields: {},
    enrollments: [],
    createDate: '2024-06-01T12:00:00.000Z',
    associatedWith: 'demo.till',
    endPointsEnabled: [],
    activity: 'ACTIVE',
    version: 1,
    profilesOnItem: 1,
    ...extra,
  };
}

const wechat = (identifiers: Identifier[] = [WECHAT]) => profile('WECHAT', identifiers, { accountId: 'wx-main' });
const codesOf = (problems: { code: number }[]) => problems.map((p) => p.code);

describe('mergeProblems', () => {
  test('none for two live customers in different source accounts', () => {
    expect(mergeProblems(customer(1), customer(2, { profiles: [wechat()] }))).toEqual([]);
  });

  test('8902 when both have a profile in one source account, naming it', () => {
    const problems = mergeProblems(customer(1, { profiles: [wechat([EMAIL])] }), customer(2, { profiles: [wechat()] }));
    expect(codesOf(problems)).toEqual([8902]);
    expect(problems[0].message).toContain('WECHAT account wx-main');
  });

  test("8901 past the org's maxProfilesPerCustomer, not at it", () => {
    const two = customer(1, { profiles: [profile('INSTORE', [MOBILE]), profile('WEBSITE', [EMAIL])] });
    expect(mergeProblems(two, customer(2, { profiles: [wechat()] }), 3)).toEqual([]);
    expect(codesOf(mergeProblems(two, customer(2, { profiles: [wechat()] }), 2))).toEqual([8901]);
  });

  test('8903 when either is being erased or is a merged victim, before anything else', () => {
    expect(codesOf(mergeProblems(customer(1, { activity: 'ERASING' }), customer(2)))).toEqual([8903]);
    expect(codesOf(mergeProblems(customer(1), customer(2, { activity: 'MERGED', mergedInto: 5 })))).toEqual([8903]);
  });

  test("the merged customer lists the victim's profiles after the survivor's", () => {
    const merged = mergedCustomer(customer(1), customer(2, { profiles: [wechat()] }));
    expect(merged.id).toBe(1);
    expect(merged.profiles.map((p) => p.source)).toEqual(['INSTORE', 'WECHAT']);
  });
});

describe('unmergeSplit', () => {
  test('takes the identifiers only the profile lists; the one another profile lists too stays', () => {
    const auto = customer(1, { profiles: [profile('INSTORE', [MOBILE]), wechat([MOBILE, EMAIL, WECHAT])] });
    expect(unmergeSplit(auto, 1)).toEqual({ kind: 'split', kept: [MOBILE], moved: [EMAIL, WECHAT] });
  });

  test('a card goes with its profile', () => {
    const withCard = profile('WECHAT', [MOBILE], {
      accountId: 'wx-main',
      card: {
        cardNumber: 'DEMO123',
        seriesId: 501,
        seriesCode: 'DEMO-GEN',
        statusLabel: 'ACTIVE',
        issuedDate: '2024-06-01T12:00:00.000Z',
        generated: true,
      },
    });
    const split = unmergeSplit(customer(1, { profiles: [profile('INSTORE', [MOBILE]), withCard] }), 1);
    expect(split).toEqual({ kind: 'split', kept: [MOBILE], moved: [{ type: 'card', value: 'DEMO123' }] });
  });

  test('refuses (8005) the last profile and a profile with no identifier of its own', () => {
    expect(unmergeSplit(customer(1), 0)).toMatchObject({ kind: 'rejected', problems: [{ code: 8005 }] });
    const shared = customer(1, { profiles: [profile('INSTORE', [MOBILE]), wechat([MOBILE])] });
    expect(unmergeSplit(shared, 1)).toMatchObject({ kind: 'rejected', problems: [{ code: 8005 }] });
  });

  test('refuses (8903) a customer being erased', () => {
    expect(unmergeSplit(customer(1, { activity: 'ERASING', profiles: [profile('INSTORE', [MOBILE]), wechat()] }), 1)).toMatchObject({
      kind: 'rejected',
      problems: [{ code: 8903 }],
    });
  });
});
