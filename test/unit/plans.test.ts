import { tableName } from '../../lib/config';
import { identifierKeyOf, type Identifier, type Profile, type Registration } from '../../lib/customer';
import type { RecordKey, StoredResponse } from '../../lib/store/idempotencyRecords';
import { Entity, keys } from '../../lib/store/keys';
import {
  identifierItemCount,
  mostIdentifiers,
  planCreateCustomer,
  planMergeProfiles,
  type ItemRole,
  type MergePlan,
  type TransactItem,
} from '../../lib/store/plans';

import { card, profile, registration as baseRegistration } from './registrations';

const registration = (...profiles: Profile[]): Registration => ({ ...baseRegistration(...profiles), extendedFields: { gender: 'Female' } });

/**
 * Registrations as DynamoDB transactions (lib/store/plans.ts): every item and condition of a
 * create and of a merge, in order, and the role of each item that reads a cancellation back.
 */

const ORG = 100;
const CUSTOMER_ID = 12345;
const NOW_MS = Date.parse('2024-06-01T12:00:00.000Z');
const NOW_SECONDS = NOW_MS / 1000;
const DAY_SECONDS = 24 * 60 * 60;
/** DynamoDB's limit on the items of one transaction. */
const MAX_TRANSACTION_ITEMS = 100;

const MOBILE: Identifier = { type: 'mobile', value: '919876543210' };
const EMAIL: Identifier = { type: 'email', value: 'asha@example.com' };
const EXTERNAL: Identifier = { type: 'externalId', value: 'EXT-1' };
const WECHAT_ID: Identifier = { type: 'wechat', value: 'wx-asha' };
const CARD_NUMBER = 'DEMO012345678903';
const CARD: Identifier = { type: 'card', value: CARD_NUMBER };

const RECORD_KEY: RecordKey = { orgId: ORG, key: 'idem-key-1', requestHash: 'hash-of-the-request' };
const TOKEN = 'client-request-token-1';
const RESPONSE: StoredResponse = { statusCode: 200, body: '{"createdId":12345}' };

/** The customer item a create writes, exactly. */
/** The entry a customer item lists for the record of RECORD_KEY, so that an erase finds it: its expiry and key. */
const RECORD_ENTRY = `${NOW_SECONDS + DAY_SECONDS}|${RECORD_KEY.key}`;

function customerItem(request: Registration, customerId: number, listed?: string): Record<string, unknown> {
  return {
    ...keys.customer(ORG, customerId),
    entity: Entity.customer,
    orgId: ORG,
    id: customerId,
    loyaltyType: request.loyaltyType,
    profiles: request.profiles,
    extendedFields: request.extendedFields,
    enrollments: request.enrollments,
    createDate: request.createDate,
    associatedWith: request.associatedWith,
    endPointsEnabled: request.endPointsEnabled,
    activity: 'ACTIVE',
    version: 1,
    profileCount: request.profiles.length,
    changedAt: new Date(NOW_MS).toISOString(),
    ...(listed ? { recordKeys: new Set([listed]) } : {}),
  };
}

function identifierPut(identifier: Identifier, customerId: number, customerSourceAccounts: string[]): TransactItem {
  return {
    Put: {
      TableName: tableName(),
      Item: { ...keys.identifier(ORG, identifier.type, identifier.value), entity: Entity.identifier, customerId, customerSourceAccounts },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** The re-check of a known identifier, which also records the merge's new source accounts on it. */
function identifierCheck(identifier: Identifier, customerId: number, added: string[] = ['WEBSITE']): TransactItem {
  return {
    Update: {
      TableName: tableName(),
      Key: keys.identifier(ORG, identifier.type, identifier.value),
      UpdateExpression: 'SET customerSourceAccounts = list_append(if_not_exists(customerSourceAccounts, :none), :added)',
      ConditionExpression: 'customerId = :owner',
      ExpressionAttributeValues: { ':owner': customerId, ':added': added, ':none': [] },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

function mergedProfilePut(customerId: number, sourceAccount: string, added: Profile): TransactItem {
  return {
    Put: {
      TableName: tableName(),
      Item: { ...keys.mergedProfile(ORG, customerId, sourceAccount), entity: Entity.mergedProfile, profile: added, writtenBy: TOKEN },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

function recordPut(): TransactItem {
  return {
    Put: {
      TableName: tableName(),
      Item: {
        ...keys.idempotency(ORG, RECORD_KEY.key),
        entity: Entity.idempotency,
        requestHash: RECORD_KEY.requestHash,
        response: RESPONSE,
        expiresAt: NOW_SECONDS + DAY_SECONDS,
      },
      ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
      ExpressionAttributeValues: { ':now': NOW_SECONDS },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

const identifierRole = (identifier: Identifier): ItemRole => ({ kind: 'identifier', key: identifierKeyOf(identifier) });

beforeEach(() => {
  jest.spyOn(Date, 'now').mockReturnValue(NOW_MS);
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('planCreateCustomer', () => {
  test('puts the customer first, then one identifier per identifier and card, then the idempotency record', () => {
    const request = registration(
      profile('INSTORE', [MOBILE, EMAIL], { card: card(CARD_NUMBER) }),
      profile('WECHAT', [WECHAT_ID], { accountId: 'wx-main' }),
    );
    const plan = planCreateCustomer(request, CUSTOMER_ID, { key: RECORD_KEY, response: RESPONSE }, TOKEN);
    const sources = ['INSTORE', 'WECHAT#wx-main'];
    expect(plan.input).toStrictEqual({
      ClientRequestToken: TOKEN,
      TransactItems: [
        {
          Put: {
            TableName: tableName(),
            Item: customerItem(request, CUSTOMER_ID, RECORD_ENTRY),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        identifierPut(MOBILE, CUSTOMER_ID, sources),
        identifierPut(EMAIL, CUSTOMER_ID, sources),
        identifierPut(CARD, CUSTOMER_ID, sources),
        identifierPut(WECHAT_ID, CUSTOMER_ID, sources),
        recordPut(),
      ],
    });
    expect(plan.roles).toStrictEqual([
      { kind: 'customer', customerId: CUSTOMER_ID },
      identifierRole(MOBILE),
      identifierRole(EMAIL),
      identifierRole(CARD),
      identifierRole(WECHAT_ID),
      { kind: 'idempotencyRecord' },
    ]);
  });

  test('asks for no old item when the customer put fails, since a drawn id teaches nothing', () => {
    const plan = planCreateCustomer(registration(profile('INSTORE', [MOBILE])), CUSTOMER_ID);
    expect(plan.input.TransactItems![0].Put).not.toHaveProperty('ReturnValuesOnConditionCheckFailure');
  });

  test('gives every item a role, in the order of the items', () => {
    const request = registration(profile('INSTORE', [MOBILE, EMAIL]), profile('WEBSITE', [EXTERNAL]));
    const plan = planCreateCustomer(request, CUSTOMER_ID, { key: RECORD_KEY, response: RESPONSE });
    expect(plan.roles).toHaveLength(plan.input.TransactItems!.length);
    plan.input.TransactItems!.forEach((item, index) => {
      const role = plan.roles[index];
      if (role.kind === 'identifier') expect(item.Put?.Item?.entity).toBe(Entity.identifier);
      if (role.kind === 'customer') expect(item.Put?.Item?.entity).toBe(Entity.customer);
      if (role.kind === 'idempotencyRecord') expect(item.Put?.Item?.entity).toBe(Entity.idempotency);
    });
  });

  test('writes an identifier sent in two profiles once, with the source accounts of both', () => {
    const request = registration(profile('INSTORE', [MOBILE, EMAIL]), profile('WEBSITE', [{ ...MOBILE }, EXTERNAL]));
    const plan = planCreateCustomer(request, CUSTOMER_ID);
    const sources = ['INSTORE', 'WEBSITE'];
    expect(plan.input.TransactItems!.slice(1)).toStrictEqual([
      identifierPut(MOBILE, CUSTOMER_ID, sources),
      identifierPut(EMAIL, CUSTOMER_ID, sources),
      identifierPut(EXTERNAL, CUSTOMER_ID, sources),
    ]);
    expect(plan.roles.slice(1)).toStrictEqual([identifierRole(MOBILE), identifierRole(EMAIL), identifierRole(EXTERNAL)]);
  });

  test('has no idempotency record item when no record is claimed', () => {
    const plan = planCreateCustomer(registration(profile('INSTORE', [MOBILE], { card: card(CARD_NUMBER) })), CUSTOMER_ID);
    expect(plan.input.TransactItems).toHaveLength(3);
    expect(plan.roles).toStrictEqual([{ kind: 'customer', customerId: CUSTOMER_ID }, identifierRole(MOBILE), identifierRole(CARD)]);
    expect(plan.input.TransactItems!.map((item) => item.Put?.Item?.entity)).not.toContain(Entity.idempotency);
  });

  test('dates the record’s expiry a day after now and lets only an expired record be replaced', () => {
    const plan = planCreateCustomer(registration(profile('INSTORE', [MOBILE])), CUSTOMER_ID, { key: RECORD_KEY, response: RESPONSE });
    expect(plan.input.TransactItems!.at(-1)).toStrictEqual(recordPut());
  });
  test('gives each plan its own ClientRequestToken unless one is given', () => {
    const request = registration(profile('INSTORE', [MOBILE]));
    const first = planCreateCustomer(request, CUSTOMER_ID);
    const second = planCreateCustomer(request, CUSTOMER_ID);
    expect(first.input.ClientRequestToken).toEqual(expect.any(String));
    expect(first.input.ClientRequestToken).not.toBe(second.input.ClientRequestToken);
    expect(planCreateCustomer(request, CUSTOMER_ID, undefined, TOKEN).input.ClientRequestToken).toBe(TOKEN);
  });
});

/**
 * The merge's first item: the customer must be live (and, with an org maximum, have room for the
 * profiles on its count); its version and count are raised, and the merge's summary and time kept.
 */
const customerRaise = (
  customerId: number,
  summary: { sourceAccounts: string[]; identifierTypes: string[] },
  added: number,
  room?: number,
  listed?: string,
): TransactItem => ({
  Update: {
    TableName: tableName(),
    Key: keys.customer(ORG, customerId),
    UpdateExpression:
      'SET version = if_not_exists(version, :zero) + :one, profileCount = if_not_exists(profileCount, :zero) + :added, changedAt = :at, lastMerge = :merge' +
      (listed ? ' ADD recordKeys :record' : ''),
    ConditionExpression: room === undefined ? 'activity = :active' : 'activity = :active AND profileCount <= :room',
    ExpressionAttributeValues: {
      ':active': 'ACTIVE',
      ':zero': 0,
      ':one': 1,
      ':added': added,
      ':at': new Date(NOW_MS).toISOString(),
      ':merge': summary,
      ...(room === undefined ? {} : { ':room': room }),
      ...(listed ? { ':record': new Set([listed]) } : {}),
    },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  },
});
// The summary names the values that matched (the merge's reason, for the history) and the till of the profiles added.
const MATCHED = { matchedBy: [{ type: 'mobile', value: '919876543210' }], till: 'demo.till' };
const BOTH_ADDED = { sourceAccounts: ['WEBSITE', 'WECHAT#wx-second'], identifierTypes: ['card', 'email', 'mobile', 'wechat'], ...MATCHED };

describe('planMergeProfiles', () => {
  const added = profile('WEBSITE', [MOBILE, EMAIL], { card: card(CARD_NUMBER) });
  const second = profile('WECHAT', [WECHAT_ID], { accountId: 'wx-second' });
  const merge: MergePlan = {
    customerId: 42,
    knownSourceAccounts: ['INSTORE', 'WECHAT#wx-main'],
    profiles: [added, second],
    known: [MOBILE],
    unknown: [EMAIL, CARD, WECHAT_ID],
  };

  test('raises the live customer’s version, checks the known identifiers, claims the new ones, puts each profile, then the record, in that order', () => {
    const plan = planMergeProfiles(ORG, merge, { key: RECORD_KEY, response: RESPONSE }, TOKEN);
    const sources = ['INSTORE', 'WECHAT#wx-main', 'WEBSITE', 'WECHAT#wx-second'];
    expect(plan.input).toStrictEqual({
      ClientRequestToken: TOKEN,
      TransactItems: [
        customerRaise(42, BOTH_ADDED, 2, undefined, RECORD_ENTRY),
        identifierCheck(MOBILE, 42, ['WEBSITE', 'WECHAT#wx-second']),
        identifierPut(EMAIL, 42, sources),
        identifierPut(CARD, 42, sources),
        identifierPut(WECHAT_ID, 42, sources),
        mergedProfilePut(42, 'WEBSITE', added),
        mergedProfilePut(42, 'WECHAT#wx-second', second),
        recordPut(),
      ],
    });
    expect(plan.roles).toStrictEqual([
      { kind: 'customerRoom', customerId: 42 },
      identifierRole(MOBILE),
      identifierRole(EMAIL),
      identifierRole(CARD),
      identifierRole(WECHAT_ID),
      { kind: 'profile', customerId: 42, sourceAccount: 'WEBSITE' },
      { kind: 'profile', customerId: 42, sourceAccount: 'WECHAT#wx-second' },
      { kind: 'idempotencyRecord' },
    ]);
  });

  test('lists a source account once in the new identifiers when the customer is known to have it already', () => {
    const plan = planMergeProfiles(ORG, {
      customerId: 42,
      knownSourceAccounts: ['INSTORE', 'WEBSITE'],
      profiles: [profile('WEBSITE', [EMAIL])],
      known: [],
      unknown: [EMAIL],
    });
    expect(plan.input.TransactItems![1]).toStrictEqual(identifierPut(EMAIL, 42, ['INSTORE', 'WEBSITE']));
  });

  test('has no idempotency record item when no record is claimed', () => {
    const plan = planMergeProfiles(ORG, { ...merge, profiles: [added], unknown: [EMAIL, CARD] }, undefined, TOKEN);
    expect(plan.input.TransactItems).toStrictEqual([
      customerRaise(42, { sourceAccounts: ['WEBSITE'], identifierTypes: ['card', 'email', 'mobile'], ...MATCHED }, 1),
      identifierCheck(MOBILE, 42),
      identifierPut(EMAIL, 42, ['INSTORE', 'WECHAT#wx-main', 'WEBSITE']),
      identifierPut(CARD, 42, ['INSTORE', 'WECHAT#wx-main', 'WEBSITE']),
      mergedProfilePut(42, 'WEBSITE', added),
    ]);
    expect(plan.roles.map((role) => role.kind)).toStrictEqual(['customerRoom', 'identifier', 'identifier', 'identifier', 'profile']);
  });

  test('with an org maximum, requires room on the customer item’s profile count for every profile it adds', () => {
    const plan = planMergeProfiles(ORG, { ...merge, maxProfiles: 5 }, undefined, TOKEN);
    expect(plan.input.TransactItems![0]).toStrictEqual(customerRaise(42, BOTH_ADDED, 2, 3));
  });

  test('keeps the merge’s origin in its summary, for the event the customer item’s record makes', () => {
    const plan = planMergeProfiles(ORG, { ...merge, origin: 'import' }, undefined, TOKEN);
    expect(plan.input.TransactItems![0].Update!.ExpressionAttributeValues![':merge']).toStrictEqual({ ...BOTH_ADDED, origin: 'import' });
  });

  test('marks each merged profile with the plan’s token, so that a re-send recognises its own write', () => {
    const plan = planMergeProfiles(ORG, merge);
    const profileItems = plan.input.TransactItems!.filter((item) => item.Put?.Item?.entity === Entity.mergedProfile);
    expect(profileItems.map((item) => item.Put!.Item!.writtenBy)).toStrictEqual([
      plan.input.ClientRequestToken,
      plan.input.ClientRequestToken,
    ]);
  });
});

describe('the identifier limit of one transaction', () => {
  const manyIdentifiers = (count: number): Identifier[] =>
    Array.from({ length: count }, (_, i) => ({ type: 'externalId', value: `EXT-${i}` }));

  test('leaves room for a profile item per profile, the customer item a merge raises and the idempotency record', () => {
    expect(mostIdentifiers(0)).toBe(MAX_TRANSACTION_ITEMS - 3);
    expect(mostIdentifiers(1)).toBe(MAX_TRANSACTION_ITEMS - 3);
    expect(mostIdentifiers(3)).toBe(MAX_TRANSACTION_ITEMS - 5);
  });

  test('counts a card still to be drawn as an identifier item', () => {
    const withCard = [profile('INSTORE', [MOBILE, EMAIL], { card: card('', true) })];
    expect(identifierItemCount(withCard)).toBe(3);
    expect(identifierItemCount([profile('INSTORE', [MOBILE, EMAIL])])).toBe(2);
  });

  test('counts an identifier sent in two profiles once and a given card number once', () => {
    const profiles = [profile('INSTORE', [MOBILE, EMAIL], { card: card(CARD_NUMBER) }), profile('WEBSITE', [{ ...MOBILE }])];
    expect(identifierItemCount(profiles)).toBe(3);
  });

  test('lets the largest merge of a request at the limit, its card drawn, fill one transaction exactly', () => {
    const profiles = [profile('INSTORE', manyIdentifiers(mostIdentifiers(1) - 1), { card: card('', true) })];
    expect(identifierItemCount(profiles)).toBe(mostIdentifiers(1));
    const drawn = [{ ...profiles[0], card: card(CARD_NUMBER, true) }];
    const plan = planMergeProfiles(
      ORG,
      { customerId: 42, knownSourceAccounts: [], profiles: drawn, known: [], unknown: [...drawn[0].identifiers, CARD] },
      { key: RECORD_KEY, response: RESPONSE },
    );
    expect(plan.input.TransactItems).toHaveLength(MAX_TRANSACTION_ITEMS);
  });
});
