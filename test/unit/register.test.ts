import { marshall } from '@aws-sdk/util-dynamodb';
import { cardNumberMisfit } from '../../lib/cards';
import { identifierKeyOf, type Activity, type Card, type Identifier, type Profile, type Registration } from '../../lib/customer';
import { ApiError, type Warning } from '../../lib/errors';
import { MAX_ATTEMPTS, registerCustomer, type RegisterOptions } from '../../lib/registration/register';
import type { IdempotencyRecord, RecordKey } from '../../lib/store/idempotencyRecords';
import { Entity, keys } from '../../lib/store/keys';
import type { ItemRole, PlannedTransaction, TransactItem } from '../../lib/store/plans';
import { readCancellation, type CancellationError, type TransactionResult } from '../../lib/store/transactions';

import { demoRetail, series } from './demoOrg';
import { CREATED, profile, registration as baseRegistration } from './registrations';

const registration = (...profiles: Profile[]): Registration => ({ ...baseRegistration(...profiles), warnings: [EARLIER_WARNING] });

/**
 * The register loop (lib/registration/register.ts) against a fake transaction runner: every
 * plan it sends is recorded, and each is answered from a script, either committed or cancelled
 * with the reasons DynamoDB would give, read back by the store's own readCancellation.
 */

type Reason = NonNullable<CancellationError['CancellationReasons']>[number];
type Answer = (plan: PlannedTransaction) => TransactionResult;

const ORG = 100;
const MOBILE: Identifier = { type: 'mobile', value: '919876543210' };
const EMAIL: Identifier = { type: 'email', value: 'asha@example.com' };
const RECORD_KEY: RecordKey = { orgId: ORG, key: 'idem-key-1', requestHash: 'hash-of-the-request' };
const EARLIER_WARNING: Warning = { code: 8200, message: 'unknown key ignored', path: '/profiles/0/nickname' };

const instore = () => registration(profile('INSTORE', [MOBILE, EMAIL]));

/** A runner that records every plan and answers the n-th with the n-th answer; one more is a failure. */
function fakeStore(...script: Answer[]) {
  const plans: PlannedTransaction[] = [];
  const run = async (plan: PlannedTransaction): Promise<TransactionResult> => {
    plans.push(plan);
    const answer = script[plans.length - 1];
    if (!answer) throw new Error(`the script has no answer for transaction ${plans.length}`);
    return answer(plan);
  };
  // Every customer the rules meet is live unless a test says otherwise.
  const activityOf = async (): Promise<Activity | undefined> => 'ACTIVE';
  return { plans, run, activityOf };
}

const commits: Answer = () => ({ ok: true });

/** Cancels the transaction with a reason for each item (None where `reasonFor` gives none). */
function cancelled(reasonFor: (role: ItemRole, item: TransactItem, index: number) => Reason | undefined): Answer {
  return (plan) => ({
    ok: false,
    cancellation: readCancellation(plan, {
      CancellationReasons: plan.roles.map((role, index) => reasonFor(role, plan.input.TransactItems![index], index) ?? { Code: 'None' }),
    }),
  });
}

const conflicts = cancelled((_role, _item, index) =>
  index === 0 ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' } : undefined,
);
const throttled = cancelled((_role, _item, index) => (index === 0 ? { Code: 'ThrottlingError' } : undefined));
/** The drawn customer id is taken: only the customer put fails, and it returns no old item. */
const idTaken = cancelled((role) => (role.kind === 'customer' ? { Code: 'ConditionalCheckFailed' } : undefined));

/** The identifier(s) belong to `customerId`, whose identifier items list `sourceAccounts`. */
function ownedBy(customerId: number, sourceAccounts: string[], ...identifiers: Identifier[]): Answer {
  const owned = new Set(identifiers.map(identifierKeyOf));
  return cancelled((role) =>
    role.kind === 'identifier' && owned.has(role.key) ? identifierFailure(role.key, customerId, sourceAccounts) : undefined,
  );
}

function identifierFailure(identifierKey: string, customerId: number, sourceAccounts: string[]): Reason {
  const [type, ...value] = identifierKey.split('#');
  const item = {
    ...keys.identifier(ORG, type, value.join('#')),
    entity: Entity.identifier,
    customerId,
    customerSourceAccounts: sourceAccounts,
  };
  return { Code: 'ConditionalCheckFailed', Item: marshall(item) };
}

/** The generated card number of a create plan belongs to `customerId`. */
function cardTakenBy(customerId: number): Answer {
  return (plan) => {
    const cardKey = identifierKeyOf({ type: 'card', value: cardNumberOf(plan) });
    return cancelled((role) =>
      role.kind === 'identifier' && role.key === cardKey ? identifierFailure(cardKey, customerId, ['WEBSITE']) : undefined,
    )(plan);
  };
}

function recordInPlace(record: IdempotencyRecord): Answer {
  const item = { ...keys.idempotency(ORG, RECORD_KEY.key), entity: Entity.idempotency, ...record };
  return cancelled((role) => (role.kind === 'idempotencyRecord' ? { Code: 'ConditionalCheckFailed', Item: marshall(item) } : undefined));
}

/** The customer put of a create plan. */
function customerPut(plan: PlannedTransaction): Record<string, unknown> {
  const item = plan.input.TransactItems![0].Put!.Item!;
  expect(plan.roles[0]).toStrictEqual({ kind: 'customer', customerId: item.id });
  return item;
}

function customerIdOf(plan: PlannedTransaction): number {
  const item = customerPut(plan);
  expect(item).toMatchObject({ ...keys.customer(ORG, item.id as number), entity: Entity.customer });
  return item.id as number;
}

function cardNumberOf(plan: PlannedTransaction): string {
  return (customerPut(plan).profiles as Profile[])[0].card!.cardNumber;
}

/** The table key of each item of a plan, in order. */
function itemKeys(plan: PlannedTransaction): { pk: unknown; sk: unknown }[] {
  return plan.input.TransactItems!.map((item) => {
    const key = item.Update?.Key ?? item.Put?.Item;
    return { pk: key?.pk, sk: key?.sk };
  });
}

const idempotency = (): NonNullable<RegisterOptions['idempotency']> => ({
  key: RECORD_KEY,
  response: (outcome) =>
    outcome.kind === 'rejected'
      ? { statusCode: 409, body: JSON.stringify({ codes: outcome.problems.map((p) => p.code) }) }
      : { statusCode: 200, body: JSON.stringify({ createdId: outcome.customerId }) },
});

const future = () => Math.floor(Date.now() / 1000) + 3600;
const storedRecord = (): IdempotencyRecord => ({
  requestHash: RECORD_KEY.requestHash,
  response: { statusCode: 200, body: '{"createdId":777}' },
  expiresAt: future(),
});

describe('registerCustomer', () => {
  test('creates the customer in one transaction when nothing is in the way', async () => {
    const store = fakeStore(commits);
    const outcome = await registerCustomer(instore(), demoRetail(), { run: store.run, activityOf: store.activityOf });
    expect(store.plans).toHaveLength(1);
    expect(outcome).toStrictEqual({
      kind: 'created',
      customerId: customerIdOf(store.plans[0]),
      warnings: [EARLIER_WARNING],
      sideEffects: [],
    });
  });

  test('tries a create that conflicted twice again, each time with a fresh customer id, and creates it on the third', async () => {
    const store = fakeStore(conflicts, conflicts, commits);
    const outcome = await registerCustomer(instore(), demoRetail(), { run: store.run, activityOf: store.activityOf });
    expect(store.plans).toHaveLength(3);
    const ids = store.plans.map(customerIdOf);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(Number.isSafeInteger(id) && id > 0).toBe(true);
    expect(outcome).toStrictEqual({ kind: 'created', customerId: ids[2], warnings: [EARLIER_WARNING], sideEffects: [] });
  });

  test('tries a throttled create again', async () => {
    const store = fakeStore(throttled, commits);
    const outcome = await registerCustomer(instore(), demoRetail(), { run: store.run, activityOf: store.activityOf });
    expect(store.plans).toHaveLength(2);
    expect(outcome).toMatchObject({ kind: 'created', customerId: customerIdOf(store.plans[1]) });
  });

  test('draws a new customer id when the drawn one is taken, and creates the customer with it', async () => {
    const store = fakeStore(idTaken, commits);
    const outcome = await registerCustomer(instore(), demoRetail(), { run: store.run, activityOf: store.activityOf });
    expect(store.plans).toHaveLength(2);
    const [first, second] = store.plans.map(customerIdOf);
    expect(second).not.toBe(first);
    expect(outcome).toStrictEqual({ kind: 'created', customerId: second, warnings: [EARLIER_WARNING], sideEffects: [] });
  });

  test('draws a generated card number again when it is taken by another customer, and reports the new number', async () => {
    const org = demoRetail();
    const demoGen = series(org, 'DEMO-GEN');
    expect(demoGen).toMatchObject({ id: 501, generates: true });
    const toDraw: Card = {
      cardNumber: '',
      seriesId: demoGen.id,
      seriesCode: demoGen.code,
      statusLabel: 'ACTIVE',
      issuedDate: CREATED,
      generated: true,
    };
    const store = fakeStore(cardTakenBy(77), commits);
    const outcome = await registerCustomer(registration(profile('INSTORE', [MOBILE], { card: toDraw })), org, {
      run: store.run,
      activityOf: store.activityOf,
    });

    expect(store.plans).toHaveLength(2);
    const [first, second] = store.plans.map(cardNumberOf);
    expect(cardNumberMisfit(demoGen, first)).toBeUndefined();
    expect(cardNumberMisfit(demoGen, second)).toBeUndefined();
    expect(second).not.toBe(first);
    expect(itemKeys(store.plans[1])).toContainEqual(keys.identifier(ORG, 'card', second));
    expect(itemKeys(store.plans[1])).not.toContainEqual(keys.identifier(ORG, 'card', first));
    expect(outcome).toStrictEqual({
      kind: 'created',
      customerId: customerIdOf(store.plans[1]),
      warnings: [EARLIER_WARNING],
      sideEffects: [{ type: 'card', cardNumber: second, seriesId: 501, seriesCode: 'DEMO-GEN', statusLabel: 'ACTIVE' }],
    });
  });

  test('merges into the customer that owns an identifier when it has no profile in the requested source, with warning 8050', async () => {
    const store = fakeStore(ownedBy(42, ['WECHAT#wx-main'], MOBILE), commits);
    const outcome = await registerCustomer(instore(), demoRetail(), { run: store.run, activityOf: store.activityOf });

    expect(store.plans).toHaveLength(2);
    const merge = store.plans[1];
    expect(merge.roles).toStrictEqual([
      { kind: 'customerRoom', customerId: 42 },
      { kind: 'identifier', key: identifierKeyOf(MOBILE) },
      { kind: 'identifier', key: identifierKeyOf(EMAIL) },
      { kind: 'profile', customerId: 42, sourceAccount: 'INSTORE' },
    ]);
    expect(itemKeys(merge)).toStrictEqual([
      keys.customer(ORG, 42),
      keys.identifier(ORG, MOBILE.type, MOBILE.value),
      keys.identifier(ORG, EMAIL.type, EMAIL.value),
      keys.mergedProfile(ORG, 42, 'INSTORE'),
    ]);
    const [live, check, claim, added] = merge.input.TransactItems!;
    // The customer must be live, and its version is raised: an erase or change that read it before fails and reads again.
    expect(live.Update).toMatchObject({
      ConditionExpression: 'activity = :active',
      UpdateExpression: expect.stringMatching(/^SET version = if_not_exists\(version, :zero\) \+ :one, profileCount = /),
    });
    expect(check.Update).toMatchObject({
      ConditionExpression: 'customerId = :owner',
      ExpressionAttributeValues: { ':owner': 42, ':added': ['INSTORE'] },
    });
    expect(claim.Put!.Item).toMatchObject({
      entity: Entity.identifier,
      customerId: 42,
      customerSourceAccounts: ['WECHAT#wx-main', 'INSTORE'],
    });
    // The request's createDate is customer-level: the added profile is dated when it is added.
    const addedProfile = added.Put!.Item!.profile as Profile;
    expect(addedProfile.createDate).not.toBe(CREATED);
    expect(Number.isNaN(Date.parse(addedProfile.createDate))).toBe(false);

    expect(outcome).toStrictEqual({
      kind: 'merged',
      customerId: 42,
      warnings: [EARLIER_WARNING, { code: 8050, message: expect.stringContaining('42') }],
      sideEffects: [],
    });
  });

  test('warns 8200 in a merge for each customer-level part the request set, which the merge does not apply', async () => {
    const request = { ...instore(), customerLevelParts: ['extendedFields', 'loyaltyProgramEnrollments'] };
    const store = fakeStore(ownedBy(42, ['WECHAT#wx-main'], MOBILE), commits);
    const outcome = await registerCustomer(request, demoRetail(), { run: store.run, activityOf: store.activityOf });
    expect(outcome.kind === 'merged' && outcome.warnings.map(({ code, path }) => ({ code, path }))).toStrictEqual([
      { code: 8200, path: EARLIER_WARNING.path },
      { code: 8050, path: undefined },
      { code: 8200, path: '/extendedFields' },
      { code: 8200, path: '/loyaltyProgramEnrollments' },
    ]);
  });

  test('refuses with 8006 without merging when the owner’s identifier item lists the requested source', async () => {
    const store = fakeStore(ownedBy(42, ['INSTORE'], MOBILE));
    const outcome = await registerCustomer(instore(), demoRetail(), { run: store.run, activityOf: store.activityOf });
    expect(store.plans).toHaveLength(1);
    expect(outcome).toStrictEqual({
      kind: 'rejected',
      problems: [{ code: 8006, message: expect.stringContaining('42'), path: '/profiles/0' }],
      warnings: [EARLIER_WARNING],
    });
  });

  test('refuses with 8006 when a merge finds the customer already has a merged profile in the source', async () => {
    const profileTaken = cancelled((role) => (role.kind === 'profile' ? { Code: 'ConditionalCheckFailed' } : undefined));
    const store = fakeStore(ownedBy(42, ['WECHAT#wx-main'], MOBILE), profileTaken);
    const outcome = await registerCustomer(instore(), demoRetail(), { run: store.run, activityOf: store.activityOf });
    expect(store.plans).toHaveLength(2);
    expect(outcome).toMatchObject({ kind: 'rejected', problems: [{ code: 8006, path: '/profiles/0' }] });
  });

  test('refuses with 8006 when the merge’s identifier now belongs to a customer that has the requested source', async () => {
    // The create learns that 42 owns the mobile; the merge's check then finds it owned by 43,
    // whose identifier item lists INSTORE. The only known identifier leads to 43 alone, so the
    // rules see one owner whose source is taken: 8006, not a merge into 43.
    const registrationOfMobile = registration(profile('INSTORE', [MOBILE]));
    const store = fakeStore(ownedBy(42, ['WECHAT#wx-main'], MOBILE), ownedBy(43, ['INSTORE'], MOBILE));
    const outcome = await registerCustomer(registrationOfMobile, demoRetail(), { run: store.run, activityOf: store.activityOf });
    expect(store.plans).toHaveLength(2);
    expect(store.plans[1].input.TransactItems![1].Update).toMatchObject({ ExpressionAttributeValues: { ':owner': 42 } });
    expect(outcome).toStrictEqual({
      kind: 'rejected',
      problems: [{ code: 8006, message: expect.stringContaining('43'), path: '/profiles/0' }],
      warnings: [EARLIER_WARNING],
    });
  });

  test('answers 503 instead of 8006 when the customer the value belongs to is being erased, and writes nothing more', async () => {
    const store = fakeStore(ownedBy(43, ['INSTORE'], MOBILE));
    const asked: number[] = [];
    const activityOf = async (_org: number, id: number): Promise<Activity | undefined> => {
      asked.push(id);
      return 'ERASING';
    };
    const failure = await registerCustomer(registration(profile('INSTORE', [MOBILE])), demoRetail(), { run: store.run, activityOf }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(503);
    expect((failure as ApiError).problems[0].message).toMatch(/43.*being erased/);
    expect(asked).toEqual([43]);
    expect(store.plans).toHaveLength(1);
  });

  test('refuses with 8901 when the merge finds the customer item without room for the profile, and sends nothing more', async () => {
    const full = cancelled((role) =>
      role.kind === 'customerRoom'
        ? { Code: 'ConditionalCheckFailed', Item: marshall({ ...keys.customer(ORG, 42), activity: 'ACTIVE', profileCount: 3 }) }
        : undefined,
    );
    // The identifier items list one source account: the count on the customer item is the one that holds.
    const store = fakeStore(ownedBy(42, ['WECHAT#wx-main'], MOBILE), full);
    const org = { ...demoRetail(), identityGuards: { ...demoRetail().identityGuards, maxProfilesPerCustomer: 3 } };
    const outcome = await registerCustomer(instore(), org, { run: store.run, activityOf: store.activityOf });
    expect(store.plans).toHaveLength(2);
    expect(store.plans[1].input.TransactItems![0].Update!.ConditionExpression).toBe('activity = :active AND profileCount <= :room');
    expect(store.plans[1].input.TransactItems![0].Update!.ExpressionAttributeValues![':room']).toBe(2);
    expect(outcome).toMatchObject({
      kind: 'rejected',
      problems: [{ code: 8901, message: expect.stringMatching(/customer 42 \(3 profiles\)/) }],
    });
  });

  test('puts no condition on the profile count when the org sets no maximum', async () => {
    const store = fakeStore(ownedBy(42, ['WECHAT#wx-main'], MOBILE), commits);
    const org = { ...demoRetail(), identityGuards: { ...demoRetail().identityGuards, maxProfilesPerCustomer: undefined } };
    await registerCustomer(instore(), org, { run: store.run, activityOf: store.activityOf });
    expect(store.plans[1].input.TransactItems![0].Update!.ConditionExpression).toBe('activity = :active');
  });

  test('answers 503 when a merge finds its customer marked ERASING, rather than trying again', async () => {
    const erasing = cancelled((role) =>
      role.kind === 'customerRoom'
        ? { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', Item: marshall({ activity: 'ERASING' }) }
        : undefined,
    );
    const store = fakeStore(ownedBy(42, ['WECHAT#wx-main'], MOBILE), erasing);
    const failure = await registerCustomer(instore(), demoRetail(), { run: store.run, activityOf: store.activityOf }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((failure as ApiError).status).toBe(503);
    expect(store.plans).toHaveLength(2);
  });

  test('creates a new customer when the merge finds the known value gone (its customer erased meanwhile)', async () => {
    const gone = cancelled((role) =>
      role.kind === 'identifier' || role.kind === 'customerRoom'
        ? { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' }
        : undefined,
    );
    const store = fakeStore(ownedBy(42, ['WECHAT#wx-main'], MOBILE), gone, commits);
    const outcome = await registerCustomer(registration(profile('INSTORE', [MOBILE])), demoRetail(), {
      run: store.run,
      activityOf: store.activityOf,
    });
    expect(store.plans.map((plan) => plan.roles[0].kind)).toEqual(['customer', 'customerRoom', 'customer']);
    expect(outcome).toMatchObject({ kind: 'created' });
  });

  test('refuses with 8052 when, after the lost race, the identifiers of the request belong to two customers', async () => {
    // Both identifiers were 42's at the create; the merge finds the mobile moved to 43 while the
    // email is still 42's: two owners.
    const store = fakeStore(ownedBy(42, ['WECHAT#wx-main'], MOBILE, EMAIL), ownedBy(43, ['INSTORE'], MOBILE));
    const outcome = await registerCustomer(instore(), demoRetail(), { run: store.run, activityOf: store.activityOf });
    expect(store.plans).toHaveLength(2);
    expect(store.plans[1].roles.map((role) => role.kind)).toStrictEqual(['customerRoom', 'identifier', 'identifier', 'profile']);
    expect(outcome).toStrictEqual({
      kind: 'rejected',
      problems: [{ code: 8052, message: expect.stringMatching(/42.*43/) }],
      warnings: [EARLIER_WARNING],
    });
  });

  test('returns the idempotency record found in place instead of writing anything', async () => {
    const record = storedRecord();
    const store = fakeStore(recordInPlace(record));
    const claimRecord = jest.fn();
    const outcome = await registerCustomer(instore(), demoRetail(), {
      run: store.run,
      activityOf: store.activityOf,
      claimRecord,
      idempotency: idempotency(),
    });
    expect(store.plans).toHaveLength(1);
    expect(store.plans[0].roles.at(-1)).toEqual({ kind: 'idempotencyRecord' });
    expect(outcome).toStrictEqual({ kind: 'recorded', record });
    expect(claimRecord).not.toHaveBeenCalled();
  });

  test('claims, in each attempt, a record holding the response of that attempt’s customer', async () => {
    const store = fakeStore(conflicts, commits);
    const outcome = await registerCustomer(instore(), demoRetail(), {
      run: store.run,
      activityOf: store.activityOf,
      idempotency: idempotency(),
    });
    expect(store.plans).toHaveLength(2);
    for (const plan of store.plans) {
      const recordItem = plan.input.TransactItems!.at(-1)!.Put!.Item!;
      expect(recordItem).toMatchObject({
        ...keys.idempotency(ORG, RECORD_KEY.key),
        entity: Entity.idempotency,
        requestHash: RECORD_KEY.requestHash,
      });
      expect(recordItem.response).toStrictEqual({ statusCode: 200, body: JSON.stringify({ createdId: customerIdOf(plan) }) });
    }
    expect(outcome).toMatchObject({ kind: 'created', customerId: customerIdOf(store.plans[1]) });
  });

  test('claims a record holding the merged customer’s response in a merge', async () => {
    const store = fakeStore(ownedBy(42, ['WECHAT#wx-main'], MOBILE), commits);
    await registerCustomer(instore(), demoRetail(), { run: store.run, activityOf: store.activityOf, idempotency: idempotency() });
    expect(store.plans[1].roles.at(-1)).toEqual({ kind: 'idempotencyRecord' });
    expect(store.plans[1].input.TransactItems!.at(-1)!.Put!.Item!.response).toStrictEqual({ statusCode: 200, body: '{"createdId":42}' });
  });

  test('returns the record of a twin that got there first when the request is rejected with an idempotency key', async () => {
    const record = storedRecord();
    const claimRecord = jest.fn(async () => record);
    const store = fakeStore(ownedBy(42, ['INSTORE'], MOBILE));
    const outcome = await registerCustomer(instore(), demoRetail(), {
      run: store.run,
      activityOf: store.activityOf,
      claimRecord,
      idempotency: idempotency(),
    });
    expect(store.plans).toHaveLength(1);
    expect(claimRecord).toHaveBeenCalledTimes(1);
    expect(claimRecord).toHaveBeenCalledWith(RECORD_KEY, { statusCode: 409, body: JSON.stringify({ codes: [8006] }) }, [42]);
    expect(outcome).toStrictEqual({ kind: 'recorded', record });
  });

  test('does not replay a refusal’s record that names a customer since erased: drops it and runs the request again', async () => {
    const stale = { ...storedRecord(), names: [42] };
    const claimRecord = jest.fn(async () => stale);
    const dropRecord = jest.fn(async () => undefined);
    // The mobile was 42's when the refusal was recorded; 42 is erased now and the value free.
    const store = fakeStore(ownedBy(42, ['INSTORE'], MOBILE), commits);
    const outcome = await registerCustomer(instore(), demoRetail(), {
      run: store.run,
      activityOf: async (_org, id) => (id === 42 ? 'ERASED' : 'ACTIVE'),
      claimRecord,
      dropRecord,
      idempotency: idempotency(),
    });
    expect(dropRecord).toHaveBeenCalledWith(ORG, RECORD_KEY.key, stale);
    expect(outcome).toMatchObject({ kind: 'created' });
  });

  test('replays a refusal’s record while every customer it names is live', async () => {
    const record = { ...storedRecord(), names: [42] };
    const dropRecord = jest.fn(async () => undefined);
    const store = fakeStore(ownedBy(42, ['INSTORE'], MOBILE));
    const outcome = await registerCustomer(instore(), demoRetail(), {
      run: store.run,
      activityOf: store.activityOf,
      claimRecord: async () => record,
      dropRecord,
      idempotency: idempotency(),
    });
    expect(dropRecord).not.toHaveBeenCalled();
    expect(outcome).toStrictEqual({ kind: 'recorded', record });
  });

  test('rejects a request with an idempotency key after claiming its record for the rejection', async () => {
    const claimRecord = jest.fn(async () => undefined);
    const store = fakeStore(ownedBy(42, ['INSTORE'], MOBILE));
    const outcome = await registerCustomer(instore(), demoRetail(), {
      run: store.run,
      activityOf: store.activityOf,
      claimRecord,
      idempotency: idempotency(),
    });
    expect(claimRecord).toHaveBeenCalledWith(RECORD_KEY, { statusCode: 409, body: JSON.stringify({ codes: [8006] }) }, [42]);
    expect(outcome).toStrictEqual({
      kind: 'rejected',
      problems: [{ code: 8006, message: expect.any(String), path: '/profiles/0' }],
      warnings: [EARLIER_WARNING],
    });
  });

  test('claims no record for a rejection when the request has no idempotency key', async () => {
    const claimRecord = jest.fn(async () => storedRecord());
    const store = fakeStore(ownedBy(42, ['INSTORE'], MOBILE));
    const outcome = await registerCustomer(instore(), demoRetail(), { run: store.run, activityOf: store.activityOf, claimRecord });
    expect(claimRecord).not.toHaveBeenCalled();
    expect(outcome.kind).toBe('rejected');
  });

  test('takes a cancellation showing its own earlier write for the success of that write', async () => {
    // An earlier send of the same transaction was applied: its identifiers belong to the very
    // customer the plan creates.
    const ownCreate: Answer = (plan) =>
      cancelled((role) =>
        role.kind === 'customer'
          ? { Code: 'ConditionalCheckFailed' }
          : role.kind === 'identifier'
            ? identifierFailure(role.key, customerIdOf(plan), ['INSTORE'])
            : undefined,
      )(plan);
    const store = fakeStore(ownCreate);
    const outcome = await registerCustomer(instore(), demoRetail(), { run: store.run, activityOf: store.activityOf });
    expect(store.plans).toHaveLength(1);
    expect(outcome).toStrictEqual({
      kind: 'created',
      customerId: customerIdOf(store.plans[0]),
      warnings: [EARLIER_WARNING],
      sideEffects: [],
    });
  });

  test('sends each attempt as a transaction of its own, with a ClientRequestToken of its own', async () => {
    const store = fakeStore(conflicts, idTaken, commits);
    await registerCustomer(instore(), demoRetail(), { run: store.run, activityOf: store.activityOf });
    const tokens = store.plans.map((plan) => plan.input.ClientRequestToken);
    expect(new Set(tokens).size).toBe(3);
  });

  test('answers 503 naming the customer that may have been created when the transaction’s outcome is unknown', async () => {
    const store = fakeStore(() => ({ ok: false, unknown: true }));
    const failure = await registerCustomer(instore(), demoRetail(), {
      run: store.run,
      activityOf: store.activityOf,
      idempotency: idempotency(),
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(store.plans).toHaveLength(1);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(503);
    expect((failure as ApiError).message).toContain(String(customerIdOf(store.plans[0])));
    expect((failure as ApiError).message).toContain('Idempotency-Key');
  });

  test('gives up with a 503 after MAX_ATTEMPTS transactions that all conflicted', async () => {
    const store = fakeStore(...Array<Answer>(MAX_ATTEMPTS).fill(conflicts));
    const failure = await registerCustomer(instore(), demoRetail(), { run: store.run, activityOf: store.activityOf }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(503);
    expect((failure as ApiError).problems.map((p) => p.code)).toStrictEqual([503]);
    expect((failure as ApiError).headers).toMatchObject({ 'Retry-After': expect.any(String) });
    expect(store.plans).toHaveLength(MAX_ATTEMPTS);
    expect(new Set(store.plans.map(customerIdOf)).size).toBe(MAX_ATTEMPTS);
  });
});
