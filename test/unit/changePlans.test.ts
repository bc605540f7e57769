import type { VersionedCustomer } from '../../lib/customer';
import { tableName } from '../../lib/config';
import {
  erasureParts,
  erasureSteps,
  fitsOneErasure,
  planCustomerChange,
  planErasure,
  planErasureStep,
  planMarkErasing,
} from '../../lib/store/changePlans';
import { Entity, keys } from '../../lib/store/keys';
import { profile } from './registrations';

// The transactions of SPEC sections 11 and 12, checked item by item without a database: each
// change is one transaction conditioned on the customer's version, claiming values only while
// free and releasing them only while they still name the customer.

const ORG = 100;
const ID = 42;
const NOW_MS = Date.parse('2024-06-02T08:30:00.123Z');
const NOW = new Date(NOW_MS).toISOString();
beforeEach(() => {
  jest.spyOn(Date, 'now').mockReturnValue(NOW_MS);
});
afterEach(() => jest.restoreAllMocks());
const TOKEN = 'client-request-token-7';
const MOBILE = { type: 'mobile' as const, value: '919876543210' };
const NEW_MOBILE = { type: 'mobile' as const, value: '919876500000' };
const EMAIL = { type: 'email' as const, value: 'asha@example.com' };
const WECHAT = { type: 'wechat' as const, value: 'wx-asha' };

function customer(extra: Partial<VersionedCustomer> = {}): VersionedCustomer {
  return {
    orgId: ORG,
    id: ID,
    loyaltyType: 'loyalty',
    profiles: [profile('INSTORE', [MOBILE, EMAIL]), profile('WECHAT', [WECHAT, MOBILE], { accountId: 'wx-main' })],
    extendedFields: { city: 'Pune' },
    enrollments: [{ programId: 1, tierNumber: 1, loyaltyPoints: 120 }],
    createDate: '2024-06-01T12:00:00.000Z',
    associatedWith: 'demo.till',
    endPointsEnabled: [],
    activity: 'ACTIVE',
    version: 4,
    profilesOnItem: 1,
    ...extra,
  };
}

describe('planCustomerChange', () => {
  test('rewrites the customer item at the next version, only if it is live and at the version read', () => {
    const before = customer();
    const after = { ...before, extendedFields: { city: 'Kochi' } };
    const plan = planCustomerChange({ before, after, claim: [], release: [] }, undefined, TOKEN);
    expect(plan.input).toStrictEqual({
      ClientRequestToken: TOKEN,
      TransactItems: [
        {
          Update: {
            TableName: tableName(),
            Key: keys.customer(ORG, ID),
            UpdateExpression:
              'SET profiles = :profiles, extendedFields = :extendedFields, loyaltyType = :loyaltyType, enrollments = :enrollments, version = :next, changedAt = :at, writtenBy = :token',
            ConditionExpression: 'activity = :active AND version = :version',
            ExpressionAttributeValues: {
              ':active': 'ACTIVE',
              ':version': 4,
              ':profiles': [before.profiles[0]],
              ':extendedFields': { city: 'Kochi' },
              ':loyaltyType': 'loyalty',
              ':enrollments': before.enrollments,
              ':next': 5,
              ':at': NOW,
              ':token': TOKEN,
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ],
    });
    expect(plan.roles).toStrictEqual([{ kind: 'customerVersion', customerId: ID }]);
  });

  test('requires a customer never changed to have no version yet', () => {
    const before = customer({ version: 0 });
    const update = planCustomerChange({ before, after: before, claim: [], release: [] }).input.TransactItems![0].Update!;
    expect(update.ConditionExpression).toBe('activity = :active AND attribute_not_exists(version)');
    expect(update.ExpressionAttributeValues).toMatchObject({ ':next': 1 });
    expect(update.ExpressionAttributeValues).not.toHaveProperty(':version');
  });

  test('writes a changed merged profile to its own item, with the new version and time, and leaves unchanged ones alone', () => {
    const before = customer();
    const wechat = { ...before.profiles[1], lastName: 'Menon' };
    const plan = planCustomerChange({ before, after: { ...before, profiles: [before.profiles[0], wechat] }, claim: [], release: [] });
    expect(plan.input.TransactItems![1]).toStrictEqual({
      Update: {
        TableName: tableName(),
        Key: keys.mergedProfile(ORG, ID, 'WECHAT#wx-main'),
        UpdateExpression: 'SET profile = :profile, version = :next, changedAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':profile': wechat, ':next': 5, ':at': NOW },
      },
    });
    expect(plan.roles.map((r) => r.kind)).toStrictEqual(['customerVersion', 'mergedProfileChange']);
    expect(planCustomerChange({ before, after: before, claim: [], release: [] }).input.TransactItems).toHaveLength(1);
  });

  test('claims an added value only while nobody holds it, and releases a removed one only while it names the customer', () => {
    const before = customer();
    const plan = planCustomerChange({ before, after: before, claim: [NEW_MOBILE], release: [EMAIL] }, undefined, TOKEN);
    const [, claim, release] = plan.input.TransactItems!;
    expect(claim).toStrictEqual({
      Put: {
        TableName: tableName(),
        Item: {
          ...keys.identifier(ORG, 'mobile', NEW_MOBILE.value),
          entity: Entity.identifier,
          customerId: ID,
          customerSourceAccounts: ['INSTORE', 'WECHAT#wx-main'],
        },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    expect(release).toStrictEqual({
      Delete: {
        TableName: tableName(),
        Key: keys.identifier(ORG, 'email', EMAIL.value),
        ConditionExpression: 'customerId = :owner',
        ExpressionAttributeValues: { ':owner': ID },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    expect(plan.roles.slice(1)).toStrictEqual([
      { kind: 'identifier', key: `mobile#${NEW_MOBILE.value}` },
      { kind: 'release', key: `email#${EMAIL.value}` },
    ]);
  });

  test('claims the idempotency record in the same transaction, last', () => {
    const before = customer();
    const plan = planCustomerChange(
      { before, after: before, claim: [], release: [] },
      { key: { orgId: ORG, key: 'k-1', requestHash: 'h' }, response: { statusCode: 200, body: '{}' } },
    );
    expect(plan.input.TransactItems!.at(-1)!.Put!.Item).toMatchObject({ ...keys.idempotency(ORG, 'k-1'), entity: Entity.idempotency });
    expect(plan.roles.at(-1)).toStrictEqual({ kind: 'idempotencyRecord' });
  });
});

describe('planErasure', () => {
  test('makes the customer item a tombstone at the version read, naming what it removed, and deletes its identifiers and merged profiles', () => {
    const erased = customer();
    const parts = erasureParts(erased);
    expect(parts).toStrictEqual({ identifiers: [MOBILE, EMAIL, WECHAT], records: [], mergedProfiles: ['WECHAT#wx-main'] });
    const plan = planErasure(erased, parts, '2024-07-01T00:00:00.000Z', undefined, TOKEN);
    const [tombstone, ...deletes] = plan.input.TransactItems!;
    expect(tombstone.Update).toMatchObject({
      Key: keys.customer(ORG, ID),
      UpdateExpression:
        'SET activity = :erased, erasedAt = :erasedAt, changedAt = :erasedAt, profiles = :none, extendedFields = :empty, erased = :erasedParts, version = :next, writtenBy = :token REMOVE recordKeys, lastMerge, lastUnmerge, victims',
      ConditionExpression: 'activity = :active AND version = :version',
      ExpressionAttributeValues: {
        ':active': 'ACTIVE',
        ':version': 4,
        ':erased': 'ERASED',
        ':erasedAt': '2024-07-01T00:00:00.000Z',
        ':erasedParts': { sourceAccounts: ['INSTORE', 'WECHAT#wx-main'], identifierTypes: ['email', 'mobile', 'wechat'] },
        ':none': [],
        ':empty': {},
        ':next': 5,
        ':token': TOKEN,
      },
    });
    // The enrollments (and their points) are not touched: the tombstone keeps them.
    expect(JSON.stringify(tombstone)).not.toContain('enrollments');
    expect(deletes.map((d) => d.Delete!.Key)).toStrictEqual([
      keys.identifier(ORG, 'mobile', MOBILE.value),
      keys.identifier(ORG, 'email', EMAIL.value),
      keys.identifier(ORG, 'wechat', WECHAT.value),
      keys.mergedProfile(ORG, ID, 'WECHAT#wx-main'),
    ]);
    expect(deletes.slice(0, 3).every((d) => d.Delete!.ConditionExpression === 'customerId = :owner')).toBe(true);
    expect(plan.roles.map((r) => r.kind)).toStrictEqual(['customerVersion', 'release', 'release', 'release', 'mergedProfileChange']);
  });

  test('finishes a customer marked ERASING at the version of its mark', () => {
    const plan = planErasure(
      customer({ activity: 'ERASING', version: 5 }),
      { identifiers: [], records: [], mergedProfiles: [] },
      '2024-07-01T00:00:00.000Z',
    );
    expect(plan.input.TransactItems![0].Update).toMatchObject({
      // The mark's summary stays: steps before this one deleted profiles it still names.
      UpdateExpression: expect.stringContaining('erased = if_not_exists(erased, :erasedParts)'),
      ConditionExpression: 'activity = :erasing AND version = :version',
      ExpressionAttributeValues: { ':erasing': 'ERASING', ':version': 5, ':next': 6 },
    });
  });

  test('marks a customer too large for one transaction ERASING first, at the version read, with what the erase will remove', () => {
    const plan = planMarkErasing(customer(), TOKEN);
    expect(plan.input.TransactItems).toStrictEqual([
      {
        Update: {
          TableName: tableName(),
          Key: keys.customer(ORG, ID),
          UpdateExpression: 'SET activity = :erasing, erased = :erasedParts, version = :next, changedAt = :at, writtenBy = :token',
          ConditionExpression: 'activity = :active AND version = :version',
          ExpressionAttributeValues: {
            ':active': 'ACTIVE',
            ':version': 4,
            ':erasing': 'ERASING',
            ':erasedParts': { sourceAccounts: ['INSTORE', 'WECHAT#wx-main'], identifierTypes: ['email', 'mobile', 'wechat'] },
            ':next': 5,
            ':at': NOW,
            ':token': TOKEN,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    ]);
  });

  test('fits one transaction up to 98 parts (the tombstone and a record make 100)', () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'externalId' as const, value: `E${i}` }));
    expect(fitsOneErasure({ identifiers: values(97), records: [], mergedProfiles: ['WECHAT#wx-main'] })).toBe(true);
    expect(fitsOneErasure({ identifiers: values(98), records: [], mergedProfiles: ['WECHAT#wx-main'] })).toBe(false);
    expect(fitsOneErasure({ identifiers: values(3), records: [], mergedProfiles: [] }, 5)).toBe(true);
    expect(fitsOneErasure({ identifiers: values(4), records: [], mergedProfiles: [] }, 5)).toBe(false);
  });

  test('splits a large erase into steps of at most the size, identifiers before merged profiles, leaving room for the tombstone last', () => {
    const identifiers = Array.from({ length: 230 }, (_, i) => ({ type: 'externalId' as const, value: `E${i}` }));
    const { steps, last } = erasureSteps({ identifiers, records: [], mergedProfiles: ['A', 'B', 'C'] });
    expect(steps.map((s) => s.identifiers.length + s.mergedProfiles.length)).toStrictEqual([100, 100]);
    expect(last.identifiers.length + last.mergedProfiles.length).toBe(33);
    expect(steps.flatMap((s) => s.mergedProfiles)).toStrictEqual([]);
    expect(last.mergedProfiles).toStrictEqual(['A', 'B', 'C']);
    expect([...steps.flatMap((s) => s.identifiers), ...last.identifiers]).toStrictEqual(identifiers);
    const step = planErasureStep(customer({ activity: 'ERASING' }), steps[0]);
    expect(step.input.TransactItems).toHaveLength(100);
    expect(step.input.TransactItems!.every((item) => item.Delete?.ConditionExpression === 'customerId = :owner')).toBe(true);
  });

  test('puts everything in the last step when it fits beside the tombstone and a record', () => {
    const { steps, last } = erasureSteps({ identifiers: [MOBILE], records: [], mergedProfiles: ['A'] }, 4);
    expect(steps).toStrictEqual([]);
    expect(last).toStrictEqual({ identifiers: [MOBILE], records: [], mergedProfiles: ['A'] });
  });
});

describe('the idempotency records a customer lists (SPEC section 12)', () => {
  const nowSeconds = Math.floor(NOW_MS / 1000);
  const live = (key: string, secondsLeft = 3600) => `${nowSeconds + secondsLeft}|${key}`;
  const expired = (key: string) => `${nowSeconds - 1}|${key}`;
  const RECORD = { key: { orgId: ORG, key: 'k-new', requestHash: 'h' }, response: { statusCode: 200, body: '{}' } };

  test('an erase deletes the records still live, between the identifiers and the merged profiles, and skips expired ones', () => {
    const listing = customer({ recordEntries: [live('k-1'), expired('k-old'), live('bulk:b-1:3'), live('import:job:7', 29 * 86400)] });
    const parts = erasureParts(listing, NOW_MS);
    expect(parts.records).toStrictEqual(['k-1', 'bulk:b-1:3', 'import:job:7']);
    const plan = planErasure(listing, parts, '2024-07-01T00:00:00.000Z', undefined, TOKEN);
    const deletes = plan.input.TransactItems!.slice(1).map((item) => item.Delete!.Key);
    expect(deletes).toStrictEqual([
      keys.identifier(ORG, 'mobile', MOBILE.value),
      keys.identifier(ORG, 'email', EMAIL.value),
      keys.identifier(ORG, 'wechat', WECHAT.value),
      keys.idempotency(ORG, 'k-1'),
      keys.idempotency(ORG, 'bulk:b-1:3'),
      keys.idempotency(ORG, 'import:job:7'),
      keys.mergedProfile(ORG, ID, 'WECHAT#wx-main'),
    ]);
    // The tombstone lists none any more.
    expect(plan.input.TransactItems![0].Update!.UpdateExpression).toMatch(/ REMOVE recordKeys, lastMerge, lastUnmerge, victims$/);
  });

  test('a large erase deletes records in its steps, after the identifiers', () => {
    const identifiers = Array.from({ length: 99 }, (_, i) => ({ type: 'externalId' as const, value: `E${i}` }));
    const { steps, last } = erasureSteps({ identifiers, records: ['k-1', 'k-2'], mergedProfiles: ['A'] });
    expect(steps.map((s) => [s.identifiers.length, s.records, s.mergedProfiles])).toStrictEqual([[99, ['k-1'], []]]);
    expect(last).toStrictEqual({ identifiers: [], records: ['k-2'], mergedProfiles: ['A'] });
  });

  test('a change lists its own record beside the live ones and drops the expired ones', () => {
    const before = customer({ recordEntries: [live('k-1'), expired('k-old')] });
    const update = planCustomerChange({ before, after: before, claim: [], release: [] }, RECORD, TOKEN).input.TransactItems![0].Update!;
    expect(update.UpdateExpression).toMatch(/, recordKeys = :recordKeys$/);
    expect(update.ExpressionAttributeValues![':recordKeys']).toStrictEqual(new Set([live('k-1'), `${nowSeconds + 86400}|k-new`]));
  });

  test('a change without a record leaves the list alone, unless it only drops expired entries', () => {
    const current = customer({ recordEntries: [live('k-1')] });
    expect(
      planCustomerChange({ before: current, after: current, claim: [], release: [] }).input.TransactItems![0].Update!.UpdateExpression,
    ).not.toContain('recordKeys');
    const stale = customer({ recordEntries: [expired('k-old')] });
    expect(
      planCustomerChange({ before: stale, after: stale, claim: [], release: [] }).input.TransactItems![0].Update!.UpdateExpression,
    ).toMatch(/ REMOVE recordKeys$/);
  });
});
