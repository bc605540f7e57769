import { marshall } from '@aws-sdk/util-dynamodb';
import { identifierKeyOf, type Identifier } from '../../lib/customer';
import type { RecordKey, StoredResponse } from '../../lib/store/idempotencyRecords';
import { Entity, keys } from '../../lib/store/keys';
import { planCreateCustomer, planMergeProfiles, type PlannedTransaction } from '../../lib/store/plans';
import { readCancellation, type Cancellation, type CancellationError } from '../../lib/store/transactions';

import { profile, registration } from './registrations';

/**
 * Reading a cancelled transaction back (lib/store/transactions.ts): DynamoDB gives one reason
 * per item, in the order of the items, with the old item where a condition failed and the
 * item asked for it. The plan's roles say what each item stood for.
 */

type Reason = NonNullable<CancellationError['CancellationReasons']>[number];

const ORG = 100;
const NEW_ID = 12345;
const NOW_MS = Date.parse('2024-06-01T12:00:00.000Z');
const NOW_SECONDS = NOW_MS / 1000;

const MOBILE: Identifier = { type: 'mobile', value: '919876543210' };
const EMAIL: Identifier = { type: 'email', value: 'asha@example.com' };
const WECHAT_ID: Identifier = { type: 'wechat', value: 'wx-asha' };

const RECORD_KEY: RecordKey = { orgId: ORG, key: 'idem-key-1', requestHash: 'hash-of-the-request' };
const CREATE_TOKEN = 'create-token';
const MERGE_TOKEN = 'merge-token';
const RESPONSE: StoredResponse = { statusCode: 200, body: '{"createdId":12345}' };

/** Items: customer, mobile, email, wechat, idempotency record. */
const createPlan = (): PlannedTransaction =>
  planCreateCustomer(
    registration(profile('INSTORE', [MOBILE, EMAIL]), profile('WECHAT', [WECHAT_ID], { accountId: 'wx-main' })),
    NEW_ID,
    {
      key: RECORD_KEY,
      response: RESPONSE,
    },
    CREATE_TOKEN,
  );

/** Items: check mobile, put email, profile WEBSITE, profile WECHAT#wx-second, idempotency record. */
const mergePlan = (): PlannedTransaction =>
  planMergeProfiles(
    ORG,
    {
      customerId: 42,
      knownSourceAccounts: ['INSTORE'],
      profiles: [profile('WEBSITE', [MOBILE, EMAIL]), profile('WECHAT', [], { accountId: 'wx-second' })],
      known: [MOBILE],
      unknown: [EMAIL],
    },
    { key: RECORD_KEY, response: RESPONSE },
    MERGE_TOKEN,
  );

const none = (): Reason => ({ Code: 'None' });
const failed = (item?: Record<string, unknown>): Reason =>
  item
    ? { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', Item: marshall(item) }
    : { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' };

/** The identifier item as stored, returned by ALL_OLD. */
function identifierItem(identifier: Identifier, customerId: number, customerSourceAccounts?: string[]): Record<string, unknown> {
  return {
    ...keys.identifier(ORG, identifier.type, identifier.value),
    entity: Entity.identifier,
    customerId,
    ...(customerSourceAccounts ? { customerSourceAccounts } : {}),
  };
}

/** The merged-profile item in WECHAT#wx-second as stored, written by the transaction with `writtenBy`. */
function mergedProfileItem(writtenBy: string): Record<string, unknown> {
  return {
    ...keys.mergedProfile(ORG, 42, 'WECHAT#wx-second'),
    entity: Entity.mergedProfile,
    profile: profile('WECHAT', [], { accountId: 'wx-second' }),
    writtenBy,
  };
}

function recordItem(expiresAt: number): Record<string, unknown> {
  return {
    ...keys.idempotency(ORG, RECORD_KEY.key),
    entity: Entity.idempotency,
    requestHash: 'hash-of-the-first-request',
    response: { statusCode: 200, body: '{"createdId":777}' },
    expiresAt,
  };
}

function cancellation(facts: Partial<Cancellation> = {}): Cancellation {
  return {
    owners: new Map(),
    takenSourceAccounts: new Map(),
    conflict: false,
    throttled: false,
    ownWrite: false,
    freed: new Set(),
    notReleased: new Set(),
    ...facts,
  };
}

const read = (plan: PlannedTransaction, ...reasons: Reason[]) => readCancellation(plan, { CancellationReasons: reasons });

beforeEach(() => {
  jest.spyOn(Date, 'now').mockReturnValue(NOW_MS);
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('readCancellation', () => {
  test('names the owner of an identifier whose put failed, with the source accounts its item lists', () => {
    const result = read(createPlan(), none(), failed(identifierItem(MOBILE, 42, ['INSTORE', 'WECHAT#wx-main'])), none(), none(), none());
    expect(result).toStrictEqual(
      cancellation({
        owners: new Map([[identifierKeyOf(MOBILE), 42]]),
        takenSourceAccounts: new Map([[42, new Set(['INSTORE', 'WECHAT#wx-main'])]]),
      }),
    );
  });

  test('names each owner when identifiers of the request belong to two customers', () => {
    const result = read(
      createPlan(),
      none(),
      failed(identifierItem(MOBILE, 42, ['INSTORE'])),
      none(),
      failed(identifierItem(WECHAT_ID, 43, ['WECHAT#wx-main', 'WEBSITE'])),
      none(),
    );
    expect(result).toStrictEqual(
      cancellation({
        owners: new Map([
          [identifierKeyOf(MOBILE), 42],
          [identifierKeyOf(WECHAT_ID), 43],
        ]),
        takenSourceAccounts: new Map([
          [42, new Set(['INSTORE'])],
          [43, new Set(['WECHAT#wx-main', 'WEBSITE'])],
        ]),
      }),
    );
  });

  test('gathers the source accounts of one owner from several of its identifier items', () => {
    const result = read(
      createPlan(),
      none(),
      failed(identifierItem(MOBILE, 42, ['INSTORE'])),
      failed(identifierItem(EMAIL, 42, ['INSTORE', 'WEBSITE'])),
      none(),
      none(),
    );
    expect(result.takenSourceAccounts).toStrictEqual(new Map([[42, new Set(['INSTORE', 'WEBSITE'])]]));
    expect(result.owners).toStrictEqual(
      new Map([
        [identifierKeyOf(MOBILE), 42],
        [identifierKeyOf(EMAIL), 42],
      ]),
    );
  });

  test('names the new owner of a known identifier whose check failed in a merge', () => {
    const result = read(mergePlan(), none(), failed(identifierItem(MOBILE, 43, ['INSTORE'])), none(), none(), none(), none());
    expect(result).toStrictEqual(
      cancellation({
        owners: new Map([[identifierKeyOf(MOBILE), 43]]),
        takenSourceAccounts: new Map([[43, new Set(['INSTORE'])]]),
      }),
    );
  });

  test('names the owner of a new identifier that another customer claimed during a merge', () => {
    const result = read(mergePlan(), none(), none(), failed(identifierItem(EMAIL, 44, ['WEBSITE'])), none(), none(), none());
    expect(result).toStrictEqual(
      cancellation({
        owners: new Map([[identifierKeyOf(EMAIL), 44]]),
        takenSourceAccounts: new Map([[44, new Set(['WEBSITE'])]]),
      }),
    );
  });

  test('marks the source account of a failed merged-profile put as taken for the merge’s customer', () => {
    const result = read(mergePlan(), none(), none(), none(), none(), failed(mergedProfileItem('another-transaction')), none());
    expect(result).toStrictEqual(cancellation({ takenSourceAccounts: new Map([[42, new Set(['WECHAT#wx-second'])]]) }));
  });

  test('recognises its own earlier write when a merged profile carries the plan’s token', () => {
    const result = read(
      mergePlan(),
      none(),
      none(),
      failed(identifierItem(EMAIL, 42, ['INSTORE', 'WEBSITE'])),
      failed(mergedProfileItem(MERGE_TOKEN)),
      none(),
      none(),
    );
    expect(result.ownWrite).toBe(true);
  });

  test('does not take an identifier found attached to the merge’s customer for its own write', () => {
    const result = read(mergePlan(), none(), none(), failed(identifierItem(EMAIL, 42, ['INSTORE', 'WEBSITE'])), none(), none(), none());
    expect(result).toStrictEqual(
      cancellation({
        owners: new Map([[identifierKeyOf(EMAIL), 42]]),
        takenSourceAccounts: new Map([[42, new Set(['INSTORE', 'WEBSITE'])]]),
      }),
    );
  });

  test('recognises its own earlier write when an identifier belongs to the customer the plan creates', () => {
    const result = read(
      createPlan(),
      failed(),
      failed(identifierItem(MOBILE, NEW_ID, ['INSTORE', 'WECHAT#wx-main'])),
      none(),
      none(),
      none(),
    );
    expect(result).toStrictEqual(
      cancellation({
        owners: new Map([[identifierKeyOf(MOBILE), NEW_ID]]),
        takenSourceAccounts: new Map([[NEW_ID, new Set(['INSTORE', 'WECHAT#wx-main'])]]),
        ownWrite: true,
      }),
    );
  });

  test('names an owner with no known source accounts when its identifier item lists none', () => {
    const result = read(createPlan(), none(), failed(identifierItem(MOBILE, 42)), none(), none(), none());
    expect(result).toStrictEqual(cancellation({ owners: new Map([[identifierKeyOf(MOBILE), 42]]) }));
  });

  test('reads a failed identifier condition that returned no old item as the value being free now', () => {
    expect(read(createPlan(), none(), failed(), none(), none(), none())).toStrictEqual(
      cancellation({ freed: new Set([identifierKeyOf(MOBILE)]) }),
    );
  });

  test('reads a merge’s failed customer condition as the customer having changed, with its activity', () => {
    const erasing = { activity: 'ERASING', version: 3 };
    const result = read(mergePlan(), failed(erasing), none(), none(), none(), none(), none());
    expect(result).toStrictEqual(cancellation({ customerChanged: { activity: 'ERASING' } }));
  });

  test('reads a TransactionConflict as a conflict to try again', () => {
    const result = read(
      createPlan(),
      none(),
      { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' },
      none(),
      none(),
      none(),
    );
    expect(result).toStrictEqual(cancellation({ conflict: true }));
  });

  test('reads a ThrottlingError as throttling to try again after a pause', () => {
    const result = read(
      createPlan(),
      { Code: 'ThrottlingError', Message: 'Throughput exceeds the current capacity' },
      none(),
      none(),
      none(),
      none(),
    );
    expect(result).toStrictEqual(cancellation({ throttled: true }));
  });

  test('reads ProvisionedThroughputExceeded as throttling too', () => {
    const result = read(createPlan(), none(), none(), { Code: 'ProvisionedThroughputExceeded' }, none(), none());
    expect(result).toStrictEqual(cancellation({ throttled: true }));
  });

  test('keeps the owners it learned alongside a conflict on another item', () => {
    const result = read(
      createPlan(),
      none(),
      failed(identifierItem(MOBILE, 42, ['INSTORE'])),
      { Code: 'TransactionConflict' },
      none(),
      none(),
    );
    expect(result).toStrictEqual(
      cancellation({
        owners: new Map([[identifierKeyOf(MOBILE), 42]]),
        takenSourceAccounts: new Map([[42, new Set(['INSTORE'])]]),
        conflict: true,
      }),
    );
  });

  test('learns nothing from a failed customer put: the new id was drawn twice', () => {
    expect(read(createPlan(), failed(), none(), none(), none(), none())).toStrictEqual(cancellation());
  });

  test('gives the idempotency record found in place, typed', () => {
    const expiresAt = NOW_SECONDS + 3600;
    const result = read(createPlan(), none(), none(), none(), none(), failed(recordItem(expiresAt)));
    expect(result).toStrictEqual(
      cancellation({
        record: { requestHash: 'hash-of-the-first-request', response: { statusCode: 200, body: '{"createdId":777}' }, expiresAt },
      }),
    );
    expect(typeof result.record?.response.statusCode).toBe('number');
  });

  test('gives the record found in place in a merge too', () => {
    const expiresAt = NOW_SECONDS + 60;
    const result = read(mergePlan(), none(), none(), none(), none(), none(), failed(recordItem(expiresAt)));
    expect(result.record).toStrictEqual({
      requestHash: 'hash-of-the-first-request',
      response: { statusCode: 200, body: '{"createdId":777}' },
      expiresAt,
    });
  });

  test('gives no record when the record found has expired', () => {
    const result = read(createPlan(), none(), none(), none(), none(), failed(recordItem(NOW_SECONDS - 1)));
    expect(result.record).toBeUndefined();
    expect(result.owners.size).toBe(0);
    expect(result.takenSourceAccounts.size).toBe(0);
    expect(result.conflict).toBe(false);
    expect(result.throttled).toBe(false);
  });

  test('ignores the reasons None of the items that did not fail', () => {
    expect(read(createPlan(), none(), none(), none(), none(), none())).toStrictEqual(cancellation());
    expect(readCancellation(createPlan(), {})).toStrictEqual(cancellation());
  });

  test('throws on a reason that would fail again unchanged, such as a ValidationError', () => {
    expect(() =>
      read(
        createPlan(),
        none(),
        none(),
        { Code: 'ValidationError', Message: 'Item size has exceeded the maximum allowed size' },
        none(),
        none(),
      ),
    ).toThrow(/item 2: ValidationError/);
  });
});
