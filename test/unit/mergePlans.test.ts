import type { VersionedCustomer } from '../../lib/customer';
import { tableName } from '../../lib/config';
import { withRequestStamp } from '../../lib/requestContext';
import {
  markMergingItemCount,
  mergeItemCount,
  mergeRemainder,
  mergeSteps,
  planExplicitMerge,
  planFinishMerge,
  planIdentifierRefresh,
  planMarkMerging,
  planMergeStep,
  planUnmerge,
  refreshSteps,
} from '../../lib/store/mergePlans';
import { Entity, keys } from '../../lib/store/keys';
import { profile } from './registrations';

// The transactions of SPEC section 15, checked item by item without a database: an explicit
// merge and an unmerge are each one transaction conditioned on every customer item's version,
// moving an identifier only while it still names the customer it leaves.

const ORG = 100;
const NOW_MS = Date.parse('2024-06-02T08:30:00.123Z');
const NOW = new Date(NOW_MS).toISOString();
beforeEach(() => {
  jest.spyOn(Date, 'now').mockReturnValue(NOW_MS);
});
afterEach(() => jest.restoreAllMocks());
const TOKEN = 'client-request-token-9';
const MOBILE = { type: 'mobile' as const, value: '919876543210' };
const EMAIL = { type: 'email' as const, value: 'asha@example.com' };
const WECHAT = { type: 'wechat' as const, value: 'wx-asha' };
const LINE = { type: 'line' as const, value: 'line-asha' };

function customer(id: number, extra: Partial<VersionedCustomer> = {}): VersionedCustomer {
  return {
    orgId: ORG,
    id,
    loyaltyType: 'loyalty',
    profiles: [profile('INSTORE', [MOBILE])],
    extendedFields: {},
    enrollments: [],
    createDate: '2024-06-01T12:00:00.000Z',
    associatedWith: 'demo.till',
    endPointsEnabled: [],
    activity: 'ACTIVE',
    version: 3,
    profilesOnItem: 1,
    ...extra,
  };
}

const wechatProfile = profile('WECHAT', [WECHAT, EMAIL], { accountId: 'wx-main' });
const lineProfile = profile('LINE', [LINE], { accountId: 'line-main' });

describe('planExplicitMerge', () => {
  const survivor = customer(1);
  const victim = customer(2, { profiles: [wechatProfile, lineProfile], profilesOnItem: 1, version: 7 });

  test("conditions both customer items on their versions, moves the victim's profiles and identifiers, leaves a tombstone", () => {
    const plan = planExplicitMerge(survivor, victim, undefined, TOKEN);
    const sourceAccounts = ['INSTORE', 'WECHAT#wx-main', 'LINE#line-main'];
    expect(plan.input).toStrictEqual({
      ClientRequestToken: TOKEN,
      TransactItems: [
        {
          Update: {
            TableName: tableName(),
            Key: keys.customer(ORG, 1),
            UpdateExpression:
              'SET version = :next, changedAt = :at, writtenBy = :token, profileCount = :set_profileCount, lastMerge = :set_lastMerge, victims = :set_victims REMOVE lastUnmerge, recordKeys',
            ConditionExpression: 'activity = :activity AND version = :version',
            ExpressionAttributeValues: {
              ':activity': 'ACTIVE',
              ':version': 3,
              ':next': 4,
              ':at': NOW,
              ':token': TOKEN,
              ':set_profileCount': 3,
              ':set_lastMerge': {
                sourceAccounts: ['WECHAT#wx-main', 'LINE#line-main'],
                identifierTypes: ['email', 'line', 'wechat'],
                victimId: 2,
              },
              ':set_victims': [2],
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          Update: {
            TableName: tableName(),
            Key: keys.customer(ORG, 2),
            UpdateExpression:
              'SET version = :next, changedAt = :at, writtenBy = :token, activity = :set_activity, mergedInto = :set_mergedInto, mergedAt = :set_mergedAt, profiles = :set_profiles, profileCount = :set_profileCount REMOVE recordKeys, victims, lastMerge, lastUnmerge',
            ConditionExpression: 'activity = :activity AND version = :version',
            ExpressionAttributeValues: {
              ':activity': 'ACTIVE',
              ':version': 7,
              ':next': 8,
              ':at': NOW,
              ':token': TOKEN,
              ':set_activity': 'MERGED',
              ':set_mergedInto': 1,
              ':set_mergedAt': NOW,
              ':set_profiles': [],
              ':set_profileCount': 0,
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          Delete: {
            TableName: tableName(),
            Key: keys.mergedProfile(ORG, 2, 'LINE#line-main'),
            ConditionExpression: 'attribute_exists(pk)',
          },
        },
        ...[wechatProfile, lineProfile].map((p) => ({
          Put: {
            TableName: tableName(),
            Item: {
              ...keys.mergedProfile(ORG, 1, p === wechatProfile ? 'WECHAT#wx-main' : 'LINE#line-main'),
              entity: Entity.mergedProfile,
              profile: p,
              writtenBy: TOKEN,
              mergedFrom: 2,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        })),
        ...[WECHAT, EMAIL, LINE].map((identifier) => ({
          Update: {
            TableName: tableName(),
            Key: keys.identifier(ORG, identifier.type, identifier.value),
            UpdateExpression: 'SET customerId = :to, customerSourceAccounts = :sourceAccounts',
            ConditionExpression: 'customerId = :from',
            ExpressionAttributeValues: { ':to': 1, ':from': 2, ':sourceAccounts': sourceAccounts },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        })),
      ],
    });
    expect(plan.roles.map((r) => r.kind)).toEqual([
      'customerVersion',
      'customerVersion',
      'mergedProfileChange',
      'profile',
      'profile',
      'identifier',
      'identifier',
      'identifier',
    ]);
    expect(mergeItemCount(survivor, victim)).toBe(plan.input.TransactItems!.length + 1);
  });

  test('records the till and request it is made for, and keeps the origin of a profile merged in before', async () => {
    const twice = customer(2, { profiles: [wechatProfile], mergedFrom: { 'WECHAT#wx-main': 9 } });
    const plan = await withRequestStamp({ till: 'demo.till', requestId: 'req-1' }, async () =>
      planExplicitMerge(survivor, twice, undefined, TOKEN),
    );
    const [first, second, put] = plan.input.TransactItems!;
    expect(first.Update!.UpdateExpression).toContain(', changedBy = :changedBy');
    expect(first.Update!.ExpressionAttributeValues![':changedBy']).toEqual({ till: 'demo.till', requestId: 'req-1' });
    expect(second.Update!.ExpressionAttributeValues![':changedBy']).toEqual({ till: 'demo.till', requestId: 'req-1' });
    expect(put.Put!.Item!.mergedFrom).toBe(9);
  });
});

describe('planUnmerge', () => {
  test('back into its victim: the tombstone is revived at its version, its identifiers move back, the rest record what stays', () => {
    const merged = customer(1, {
      profiles: [profile('INSTORE', [MOBILE]), wechatProfile],
      profilesOnItem: 1,
      victims: [2],
      mergedFrom: { 'WECHAT#wx-main': 2 },
    });
    const tombstone = customer(2, { profiles: [], profilesOnItem: 0, activity: 'MERGED', mergedInto: 1, version: 8 });
    const summary = { profile: { source: 'WECHAT', accountId: 'wx-main' }, from: 1, to: 2, kept: [], moved: [WECHAT, EMAIL] };
    const plan = planUnmerge(
      { customer: merged, index: 1, target: { kind: 'victim', victim: tombstone }, kept: [], moved: [WECHAT, EMAIL], summary },
      undefined,
      TOKEN,
    );
    const items = plan.input.TransactItems!;
    expect(items[0].Update!.UpdateExpression).toBe(
      'SET version = :next, changedAt = :at, writtenBy = :token, profileCount = :set_profileCount, lastUnmerge = :set_lastUnmerge REMOVE victims, recordKeys',
    );
    expect(items[0].Update!.ExpressionAttributeValues).toMatchObject({
      ':version': 3,
      ':set_profileCount': 1,
      ':set_lastUnmerge': summary,
    });
    expect(items[1]).toStrictEqual({
      Delete: { TableName: tableName(), Key: keys.mergedProfile(ORG, 1, 'WECHAT#wx-main'), ConditionExpression: 'attribute_exists(pk)' },
    });
    expect(items[2].Update!.ConditionExpression).toBe('activity = :activity AND version = :version');
    expect(items[2].Update!.ExpressionAttributeValues).toMatchObject({
      ':activity': 'MERGED',
      ':version': 8,
      ':set_activity': 'ACTIVE',
      ':set_profiles': [wechatProfile],
      ':set_profileCount': 1,
    });
    expect(items[2].Update!.UpdateExpression).toMatch(/ REMOVE mergedInto, mergedAt, recordKeys$/);
    const moves = items.slice(3).map((i) => [i.Update!.Key!.pk, i.Update!.ExpressionAttributeValues]);
    expect(moves).toEqual([
      [keys.identifier(ORG, 'wechat', WECHAT.value).pk, { ':to': 2, ':from': 1, ':sourceAccounts': ['WECHAT#wx-main'] }],
      [keys.identifier(ORG, 'email', EMAIL.value).pk, { ':to': 2, ':from': 1, ':sourceAccounts': ['WECHAT#wx-main'] }],
      [keys.identifier(ORG, 'mobile', MOBILE.value).pk, { ':to': 1, ':from': 1, ':sourceAccounts': ['INSTORE'] }],
    ]);
  });

  test('into a new customer, from the customer item: the new item holds only that profile, conditioned on its id being free', () => {
    const auto = customer(1, {
      profiles: [profile('INSTORE', [MOBILE]), profile('WECHAT', [EMAIL], { accountId: 'wx-main' })],
      profilesOnItem: 2,
    });
    const summary = { profile: { source: 'INSTORE', accountId: null }, from: 1, to: 77, kept: [], moved: [MOBILE] };
    const plan = planUnmerge(
      { customer: auto, index: 0, target: { kind: 'new', customerId: 77 }, kept: [], moved: [MOBILE], summary },
      undefined,
      TOKEN,
    );
    const items = plan.input.TransactItems!;
    expect(items[0].Update!.ExpressionAttributeValues![':set_profiles']).toEqual([auto.profiles[1]]);
    expect(items[1].Put).toMatchObject({
      Item: {
        ...keys.customer(ORG, 77),
        entity: Entity.customer,
        id: 77,
        profiles: [auto.profiles[0]],
        activity: 'ACTIVE',
        version: 1,
        profileCount: 1,
        lastUnmerge: summary,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(plan.roles.map((r) => r.kind)).toEqual(['customerVersion', 'customer', 'identifier', 'identifier']);
  });
});

describe('a stepped merge', () => {
  const survivor = customer(1);
  const victim = customer(2, { profiles: [wechatProfile, lineProfile], profilesOnItem: 1, version: 7 });

  test('marks the victim MERGING and the survivor as taking it in, conditioned on both versions, and puts the profiles into the survivor', () => {
    const plan = planMarkMerging(survivor, victim, TOKEN);
    const [survivorItem, victimItem, ...profiles] = plan.input.TransactItems!;
    expect(markMergingItemCount(victim)).toBe(4);
    expect(plan.input.TransactItems).toHaveLength(4);
    expect(survivorItem.Update).toMatchObject({
      Key: keys.customer(ORG, 1),
      ConditionExpression: 'activity = :activity AND version = :version',
      ExpressionAttributeValues: expect.objectContaining({
        ':version': 3,
        ':set_profileCount': 3,
        ':set_mergingFrom': 2,
        ':set_victims': [2],
      }),
    });
    expect(survivorItem.Update!.UpdateExpression).toContain('mergingFrom = :set_mergingFrom');
    expect(victimItem.Update).toMatchObject({
      Key: keys.customer(ORG, 2),
      ConditionExpression: 'activity = :activity AND version = :version',
      ExpressionAttributeValues: expect.objectContaining({ ':version': 7, ':set_activity': 'MERGING', ':set_mergedInto': 1 }),
    });
    expect(profiles.map((i) => [i.Put!.Item!.sk, i.Put!.Item!.mergedFrom, i.Put!.ConditionExpression])).toEqual([
      ['PROFILE#WECHAT#wx-main', 2, 'attribute_not_exists(pk)'],
      ['PROFILE#LINE#line-main', 2, 'attribute_not_exists(pk)'],
    ]);
    expect(plan.roles.map((r) => r.kind)).toEqual(['customerVersion', 'customerVersion', 'profile', 'profile']);
  });

  test('splits what is left into steps, identifiers first, the last with room for both customer items and the record', () => {
    const remainder = mergeRemainder(victim);
    expect(remainder).toEqual({ identifiers: [WECHAT, EMAIL, LINE], profileItems: ['LINE#line-main'] });
    // Steps of 4: a middle step holds 3 (and the victim's check), the last 1 (and both customers and the record).
    expect(mergeSteps(remainder, 4, true)).toEqual({
      steps: [{ identifiers: [WECHAT, EMAIL, LINE], profileItems: [] }],
      last: { identifiers: [], profileItems: ['LINE#line-main'] },
    });
    expect(mergeSteps(remainder, 100, true)).toEqual({ steps: [], last: remainder });
  });

  test('a middle step checks the victim is still MERGING into this survivor and moves identifiers only while they name the victim', () => {
    const plan = planMergeStep(
      customer(1, { profiles: [...survivor.profiles, wechatProfile, lineProfile] }),
      victim,
      {
        identifiers: [WECHAT],
        profileItems: ['LINE#line-main'],
      },
      TOKEN,
    );
    expect(plan.input.TransactItems).toStrictEqual([
      {
        ConditionCheck: {
          TableName: tableName(),
          Key: keys.customer(ORG, 2),
          ConditionExpression: 'activity = :merging AND mergedInto = :survivor',
          ExpressionAttributeValues: { ':merging': 'MERGING', ':survivor': 1 },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      {
        Update: {
          TableName: tableName(),
          Key: keys.identifier(ORG, 'wechat', 'wx-asha'),
          UpdateExpression: 'SET customerId = :to, customerSourceAccounts = :sourceAccounts',
          ConditionExpression: 'customerId = :from',
          ExpressionAttributeValues: { ':to': 1, ':from': 2, ':sourceAccounts': ['INSTORE', 'WECHAT#wx-main', 'LINE#line-main'] },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      { Delete: { TableName: tableName(), Key: keys.mergedProfile(ORG, 2, 'LINE#line-main') } },
    ]);
    expect(plan.roles).toEqual([
      { kind: 'customerVersion', customerId: 2 },
      { kind: 'release', key: 'wechat#wx-asha' },
      { kind: 'mergedProfileChange', customerId: 2 },
    ]);
  });

  test('the last step raises the survivor (conditioned on its mark, not a version) and makes the victim the tombstone', () => {
    const plan = planFinishMerge(survivor, { ...victim, recordEntries: [] }, { identifiers: [], profileItems: [] }, undefined, TOKEN);
    const [survivorItem, victimItem] = plan.input.TransactItems!;
    expect(survivorItem.Update).toStrictEqual({
      TableName: tableName(),
      Key: keys.customer(ORG, 1),
      UpdateExpression: 'SET version = if_not_exists(version, :zero) + :one, changedAt = :at, writtenBy = :token REMOVE mergingFrom',
      ConditionExpression: 'mergingFrom = :victim',
      ExpressionAttributeValues: { ':victim': 2, ':zero': 0, ':one': 1, ':at': NOW, ':token': TOKEN },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(victimItem.Update).toMatchObject({
      ConditionExpression: 'activity = :merging AND mergedInto = :survivor',
      ExpressionAttributeValues: expect.objectContaining({ ':set_activity': 'MERGED', ':set_profiles': [], ':set_profileCount': 0 }),
    });
    expect(victimItem.Update!.UpdateExpression).toContain('REMOVE recordKeys, victims, lastMerge, lastUnmerge');
  });
});

describe('a stepped unmerge', () => {
  const automatic = customer(5, {
    profiles: [profile('INSTORE', [MOBILE, EMAIL]), profile('LINE', [MOBILE, LINE], { accountId: 'line-main' })],
  });

  test('the split leaves the staying identifiers alone and marks the customer', () => {
    const write = {
      customer: { ...automatic, profiles: [automatic.profiles[0], profile('LINE', [LINE], { accountId: 'line-main' })] },
      index: 1,
      target: { kind: 'new' as const, customerId: 9 },
      kept: [MOBILE],
      moved: [LINE],
      summary: { profile: { source: 'LINE', accountId: 'line-main' }, from: 5, to: 9, kept: [MOBILE], moved: [LINE] },
    };
    const whole = planUnmerge(write, undefined, TOKEN);
    const split = planUnmerge(write, undefined, TOKEN, { refreshLater: true });
    const touched = (plan: typeof whole) =>
      plan.input.TransactItems!.flatMap((i) => (i.Update && i.Update.Key!.sk === 'ID' ? [i.Update.Key!.pk] : []));
    expect(touched(whole)).toEqual([
      keys.identifier(ORG, 'line', 'line-asha').pk,
      keys.identifier(ORG, 'mobile', MOBILE.value).pk,
      keys.identifier(ORG, 'email', EMAIL.value).pk,
    ]);
    expect(touched(split)).toEqual([keys.identifier(ORG, 'line', 'line-asha').pk]);
    expect(split.input.TransactItems![0].Update!.ExpressionAttributeValues).toMatchObject({ ':set_refreshingIdentifiers': true });
    expect(whole.input.TransactItems![0].Update!.UpdateExpression).not.toContain('refreshingIdentifiers');
  });

  test('the refresh records the customer’s source accounts on each identifier, checking the version read; the last step clears the mark', () => {
    const marked = customer(5, { refreshingIdentifiers: true, profiles: [profile('INSTORE', [MOBILE, EMAIL])] });
    expect(refreshSteps([MOBILE, EMAIL, LINE], 3)).toEqual([[MOBILE, EMAIL], [LINE]]);
    const middle = planIdentifierRefresh(marked, [MOBILE], false, TOKEN);
    expect(middle.input.TransactItems![0]).toStrictEqual({
      ConditionCheck: {
        TableName: tableName(),
        Key: keys.customer(ORG, 5),
        ConditionExpression: 'activity = :activity AND version = :version',
        ExpressionAttributeValues: { ':activity': 'ACTIVE', ':version': 3 },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    expect(middle.input.TransactItems![1].Update!.ExpressionAttributeValues).toEqual({
      ':to': 5,
      ':from': 5,
      ':sourceAccounts': ['INSTORE'],
    });
    const last = planIdentifierRefresh(marked, [EMAIL], true, TOKEN);
    expect(last.input.TransactItems![0].Update!.UpdateExpression).toContain('REMOVE refreshingIdentifiers');
    expect(last.input.TransactItems![0].Update!.ConditionExpression).toBe('activity = :activity AND version = :version');
  });
});
