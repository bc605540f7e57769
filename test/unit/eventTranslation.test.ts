import { marshall } from '@aws-sdk/util-dynamodb';
import type { CommChannel, Origin, Profile } from '../../lib/customer';
import { EVENT_TYPES, type CustomerEvent } from '../../lib/events/event';
import { eventsOf } from '../../lib/events/translate';
import { keys } from '../../lib/store/keys';
import { erasureParts, planErasure } from '../../lib/store/changePlans';
import { planCreateCustomer, planMergeProfiles } from '../../lib/store/plans';
import { changeOf, type CustomerChange, type StoredCustomer, type StreamRecord } from '../../lib/store/stream';
import { card, profile, registration } from './registrations';

// SPEC section 10: a change of a customer's items, read from the table's stream, becomes the
// events it means. `changeOf` decodes a stream record (DynamoDB's attribute-value form, as Lambda
// hands it over); `eventsOf` is the rule, a pure function over the change.

const ORG = 100;
const CUSTOMER = 4242;
const AT = new Date('2024-06-01T12:00:05.000Z');
const AT_SECONDS = AT.getTime() / 1000;
/**
 * When the writes of these tests record they were made (`changedAt`): to the millisecond, and
 * before the stream's own time for their records, which is rounded.
 */
const WRITTEN_AT = '2024-06-01T12:00:04.871Z';
// At load: items are built by the plans in describe blocks too.
jest.spyOn(Date, 'now').mockReturnValue(Date.parse(WRITTEN_AT));

// Values that are personal data: none of them may appear in any event.
const PERSONAL = {
  firstName: 'Asha',
  lastName: 'Rao',
  mobile: '919876543210',
  email: 'asha.rao@example.com',
  wechat: 'wx-asha-7731',
  cardNumber: 'DEMO012345678903',
  field: 'Bengaluru',
  extended: 'Kannada',
};

const MOBILE = { type: 'mobile' as const, value: PERSONAL.mobile };
const EMAIL = { type: 'email' as const, value: PERSONAL.email };
const WECHAT = { type: 'wechat' as const, value: PERSONAL.wechat };

function named(p: Profile, extra: Partial<Profile> = {}): Profile {
  return { ...p, firstName: PERSONAL.firstName, lastName: PERSONAL.lastName, fields: { city: PERSONAL.field }, ...extra };
}

const instore = (extra: Partial<Profile> = {}) => named(profile('INSTORE', [MOBILE, EMAIL]), extra);
const wechat = (accountId = 'wx-main', extra: Partial<Profile> = {}) => named(profile('WECHAT', [WECHAT], { accountId }), extra);

function channel(type: 'mobile' | 'email', value: string, extra: Partial<CommChannel> = {}): CommChannel {
  return { type, value, primary: true, verified: false, subscribed: true, ...extra };
}

/** The customer item a registration writes, as planCreateCustomer builds it. */
function stored(profiles: Profile[], extra: Partial<StoredCustomer> = {}): StoredCustomer {
  const { origin, ...rest } = extra;
  const plan = planCreateCustomer({ ...registration(...profiles), ...(origin ? { origin } : {}) }, CUSTOMER);
  const item = plan.input.TransactItems![0].Put!.Item as Record<string, unknown>;
  const { pk: _pk, sk: _sk, entity: _entity, ...customer } = item;
  return { ...(customer as unknown as StoredCustomer), extendedFields: { language: PERSONAL.extended }, ...rest };
}

const customerInsert = (after: StoredCustomer, extra: Partial<CustomerChange> = {}): CustomerChange =>
  ({
    kind: 'customer',
    change: 'insert',
    orgId: ORG,
    customerId: CUSTOMER,
    after,
    at: AT,
    recordId: 'record-1',
    ...extra,
  }) as CustomerChange;

const customerModify = (before: StoredCustomer, after: StoredCustomer, extra: Partial<CustomerChange> = {}): CustomerChange =>
  ({
    kind: 'customer',
    change: 'modify',
    orgId: ORG,
    customerId: CUSTOMER,
    before,
    after,
    at: AT,
    recordId: 'record-2',
    ...extra,
  }) as CustomerChange;

const profileChange = (
  change: 'insert' | 'modify' | 'remove',
  p: Profile,
  extra: { origin?: Origin; customerId?: number; orgId?: number; recordId?: string } = {},
): CustomerChange => ({
  kind: 'profile',
  change,
  orgId: extra.orgId ?? ORG,
  customerId: extra.customerId ?? CUSTOMER,
  sourceAccount: p.accountId ? `${p.source}#${p.accountId}` : p.source,
  profile: p,
  ...(extra.origin ? { origin: extra.origin } : {}),
  at: AT,
  recordId: extra.recordId ?? 'record-3',
});

/** Type, source accounts and identifier types of each event: what a test of the rule looks at. */
const summary = (events: CustomerEvent[]) =>
  events.map((e) => ({ type: e.type, sourceAccounts: e.data.sourceAccounts, identifierTypes: e.data.identifierTypes }));

function expectNoPersonalData(events: CustomerEvent[]): void {
  const text = JSON.stringify(events);
  for (const value of Object.values(PERSONAL)) expect(text).not.toContain(value);
  // The local part alone, and the national mobile number, are personal too.
  expect(text).not.toContain('asha');
  expect(text).not.toContain(PERSONAL.mobile.slice(2));
}

// ---- Stream records, in the attribute-value form Lambda delivers ----

function record(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  key: { pk: string; sk: string },
  images: { newImage?: Record<string, unknown>; oldImage?: Record<string, unknown> },
  extra: { eventID?: string; sequenceNumber?: string; seconds?: number } = {},
): StreamRecord {
  const toAttributes = (item: Record<string, unknown>) => marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: true });
  return {
    eventID: extra.eventID ?? `event-${Math.random()}`,
    eventName,
    dynamodb: {
      ApproximateCreationDateTime: extra.seconds ?? AT_SECONDS,
      Keys: marshall(key),
      ...(images.newImage ? { NewImage: toAttributes({ ...key, ...images.newImage }) } : {}),
      ...(images.oldImage ? { OldImage: toAttributes({ ...key, ...images.oldImage }) } : {}),
      SequenceNumber: extra.sequenceNumber ?? '100000000000000000001',
    },
  };
}

/** The customer item of a registration, as its transaction puts it. */
function customerItem(profiles: Profile[], origin?: Origin): Record<string, unknown> {
  const plan = planCreateCustomer({ ...registration(...profiles), ...(origin ? { origin } : {}) }, CUSTOMER);
  return plan.input.TransactItems![0].Put!.Item as Record<string, unknown>;
}

/** The merged profile item a merge writes, as its transaction puts it. */
function profileItem(p: Profile, origin?: Origin): Record<string, unknown> {
  const plan = planMergeProfiles(ORG, {
    customerId: CUSTOMER,
    knownSourceAccounts: ['INSTORE'],
    profiles: [p],
    known: [],
    unknown: [],
    ...(origin ? { origin } : {}),
  });
  return plan.input.TransactItems!.at(-1)!.Put!.Item as Record<string, unknown>;
}

const keyOf = (item: Record<string, unknown>) => ({ pk: String(item.pk), sk: String(item.sk) });

/** The customer item after a merge of `profiles` into it, as the merge's first item sets it. */
function afterMerge(before: StoredCustomer, profiles: Profile[], origin?: Origin): StoredCustomer {
  const plan = planMergeProfiles(ORG, {
    customerId: CUSTOMER,
    knownSourceAccounts: [],
    profiles,
    known: [],
    unknown: [],
    ...(origin ? { origin } : {}),
  });
  const values = plan.input.TransactItems![0].Update!.ExpressionAttributeValues!;
  return {
    ...before,
    version: (before.version ?? 0) + values[':one'],
    profileCount: (before.profileCount ?? 0) + values[':added'],
    changedAt: values[':at'],
    lastMerge: values[':merge'],
  };
}

/** A merge of `profiles` into a customer registered in store, as the customer item's record tells it. */
function merge(profiles: Profile[], origin?: Origin, before: StoredCustomer = stored([instore()])): CustomerChange {
  return customerModify(before, afterMerge(before, profiles, origin));
}

/** The tombstone an erase of `before` writes, as its first item sets it. */
function erasedFrom(before: StoredCustomer): StoredCustomer {
  const customer = { ...before, version: before.version ?? 0, profilesOnItem: before.profiles.length };
  const values = planErasure(customer, erasureParts(customer), WRITTEN_AT).input.TransactItems![0].Update!.ExpressionAttributeValues!;
  return {
    ...before,
    activity: 'ERASED',
    profiles: [],
    extendedFields: {},
    erased: values[':erasedParts'],
    changedAt: values[':erasedAt'],
    version: values[':next'],
  };
}

describe('changeOf: reading a stream record as a change of a customer', () => {
  test('reads a new customer item as the customer inserted, with its org, id, image, time and record id', () => {
    const item = customerItem([instore()]);
    const change = changeOf(record('INSERT', keyOf(item), { newImage: item }, { eventID: 'evt-source-1' }));
    expect(change).toMatchObject({ kind: 'customer', change: 'insert', orgId: ORG, customerId: CUSTOMER, recordId: 'evt-source-1' });
    expect(change?.at).toEqual(AT);
    expect(change?.kind === 'customer' && change.after).toMatchObject({ id: CUSTOMER, activity: 'ACTIVE', profiles: [instore()] });
    expect(change?.kind === 'customer' && change.before).toBeUndefined();
  });

  test('reads a changed customer item with both images and a removed one with its old image', () => {
    const item = customerItem([instore()]);
    const changed = { ...item, activity: 'ERASED' };
    const modified = changeOf(record('MODIFY', keyOf(item), { oldImage: item, newImage: changed }));
    expect(modified).toMatchObject({ kind: 'customer', change: 'modify', before: { activity: 'ACTIVE' }, after: { activity: 'ERASED' } });
    const removed = changeOf(record('REMOVE', keyOf(item), { oldImage: item }));
    expect(removed).toMatchObject({ kind: 'customer', change: 'remove', before: { id: CUSTOMER } });
    expect(removed?.kind === 'customer' && removed.after).toBeUndefined();
  });

  test("keeps the customer item's origin, and has none when the item has none", () => {
    const bulk = customerItem([instore()], 'bulk');
    expect(changeOf(record('INSERT', keyOf(bulk), { newImage: bulk }))).toMatchObject({ after: { origin: 'bulk' } });
    const api = customerItem([instore()]);
    const change = changeOf(record('INSERT', keyOf(api), { newImage: api }));
    expect(change?.kind === 'customer' && change.after && 'origin' in change.after).toBe(false);
  });

  test('reads a merged profile item as a profile of its source account, with the origin of the merge', () => {
    const item = profileItem(wechat('wx-second'), 'import');
    expect(keyOf(item)).toEqual(keys.mergedProfile(ORG, CUSTOMER, 'WECHAT#wx-second'));
    const change = changeOf(record('INSERT', keyOf(item), { newImage: item }));
    expect(change).toEqual({
      kind: 'profile',
      change: 'insert',
      orgId: ORG,
      customerId: CUSTOMER,
      sourceAccount: 'WECHAT#wx-second',
      profile: wechat('wx-second'),
      origin: 'import',
      at: AT,
      recordId: expect.any(String),
    });
    const api = profileItem(profile('WEBSITE', [EMAIL]));
    expect(changeOf(record('INSERT', keyOf(api), { newImage: api }))).not.toHaveProperty('origin');
  });

  test('reads a removed merged profile from its old image', () => {
    const item = profileItem(wechat('wx-second'));
    expect(changeOf(record('REMOVE', keyOf(item), { oldImage: item }))).toMatchObject({
      kind: 'profile',
      change: 'remove',
      sourceAccount: 'WECHAT#wx-second',
    });
  });

  test('takes the record id from eventID, else from the sequence number', () => {
    const item = customerItem([instore()]);
    const withoutId = record('INSERT', keyOf(item), { newImage: item }, { sequenceNumber: '777' });
    delete withoutId.eventID;
    expect(changeOf(withoutId)?.recordId).toBe('777');
  });

  test.each([
    ['an org configuration', keys.org(ORG), { entity: 'org', config: { orgId: ORG } }],
    ['a till', keys.till('demo.till'), { entity: 'till', username: 'demo.till', orgId: ORG }],
    ['an identifier', keys.identifier(ORG, 'mobile', PERSONAL.mobile), { entity: 'identifier', customerId: CUSTOMER }],
    ['a rate window', keys.rateWindow(ORG, 1717243200), { entity: 'rateWindow', count: 3 }],
    ['an idempotency record', keys.idempotency(ORG, 'key-1'), { entity: 'idempotency', expiresAt: 1717243200 }],
    [
      'an idempotency record whose key looks like a customer partition',
      keys.idempotency(ORG, `x#CUSTOMER#${CUSTOMER}`),
      { entity: 'idempotency' },
    ],
  ])('answers nothing for %s, written, changed or expired', (_what, key, item) => {
    expect(changeOf(record('INSERT', key, { newImage: item }))).toBeUndefined();
    expect(changeOf(record('MODIFY', key, { oldImage: item, newImage: item }))).toBeUndefined();
    expect(changeOf(record('REMOVE', key, { oldImage: item }))).toBeUndefined();
  });

  test('answers nothing for a record without keys, or an item of a customer partition that is neither customer nor profile', () => {
    expect(changeOf({ eventID: 'x', eventName: 'INSERT', dynamodb: {} })).toBeUndefined();
    expect(changeOf({ eventID: 'x', eventName: 'INSERT' })).toBeUndefined();
    const partition = keys.customerPartition(ORG, CUSTOMER);
    expect(changeOf(record('INSERT', { pk: partition, sk: 'SOMETHING' }, { newImage: { entity: 'other' } }))).toBeUndefined();
    expect(changeOf(record('INSERT', { pk: partition, sk: 'PROFILE#INSTORE' }, { newImage: { entity: 'other' } }))).toBeUndefined();
  });
});

describe("changeOf: a record as DynamoDB Local's stream gives it through the SDK (npm start)", () => {
  // serverless-offline-dynamodb-streams hands the publisher GetRecords' answer as the SDK reads
  // it: the creation time is a Date, and DynamoDB Local writes an empty map as `{}`.
  function readLocally(item: Record<string, unknown>): StreamRecord {
    const lambda = record('INSERT', keyOf(item), { newImage: item });
    const image = lambda.dynamodb!.NewImage as Record<string, unknown>;
    const profiles = (image.profiles as { L: { M: Record<string, unknown> }[] }).L;
    profiles[0].M.fields = {};
    image.extendedFields = {};
    return { ...lambda, dynamodb: { ...lambda.dynamodb, ApproximateCreationDateTime: AT as never, NewImage: image } };
  }

  test('reads a customer item whose empty maps are written as {}, with its time from a Date', () => {
    const item = customerItem([profile('INSTORE', [MOBILE])]);
    const change = changeOf(readLocally(item));
    expect(change).toMatchObject({ kind: 'customer', change: 'insert', customerId: CUSTOMER, after: { extendedFields: {} } });
    expect(change?.kind === 'customer' && change.after?.profiles[0].fields).toEqual({});
    expect(change?.at).toEqual(AT);
    expect(eventsOf(change!)[0].occurredAt).toBe(WRITTEN_AT);
  });

  test('reads the time given as an ISO string (a record that went through JSON)', () => {
    const item = customerItem([profile('INSTORE', [MOBILE])]);
    const viaJson = JSON.parse(JSON.stringify(readLocally(item))) as StreamRecord;
    expect(changeOf(viaJson)?.at).toEqual(AT);
  });
});

describe('eventsOf: a new customer', () => {
  test('is one customer.created naming every source account and identifier type of its profiles', () => {
    const events = eventsOf(customerInsert(stored([instore(), wechat()])));
    expect(summary(events)).toEqual([
      { type: 'customer.created', sourceAccounts: ['INSTORE', 'WECHAT#wx-main'], identifierTypes: ['email', 'mobile', 'wechat'] },
    ]);
  });

  test('names an identifier type once when several profiles share it', () => {
    const shared = named(profile('FACEBOOK', [MOBILE], { accountId: 'fb-main' }));
    expect(eventsOf(customerInsert(stored([instore(), shared])))[0].data.identifierTypes).toEqual(['email', 'mobile']);
  });

  test("counts a profile's card as an identifier of type card", () => {
    const withCard = instore({ card: card(PERSONAL.cardNumber) });
    expect(eventsOf(customerInsert(stored([withCard])))[0].data.identifierTypes).toEqual(['card', 'email', 'mobile']);
  });

  test('names no card when the card has no number', () => {
    const withCard = instore({ card: card('', true) });
    expect(eventsOf(customerInsert(stored([withCard])))[0].data.identifierTypes).toEqual(['email', 'mobile']);
  });

  test('has origin api when the customer item has none, and keeps bulk and import', () => {
    expect(eventsOf(customerInsert(stored([instore()])))[0].origin).toBe('api');
    expect(eventsOf(customerInsert(stored([instore()], { origin: 'bulk' })))[0].origin).toBe('bulk');
    expect(eventsOf(customerInsert(stored([instore()], { origin: 'import' })))[0].origin).toBe('import');
  });

  test('occurred when the write recorded it on the item, to the millisecond, not at the stream record’s rounded time', () => {
    const item = customerItem([instore()]);
    const change = changeOf(record('INSERT', keyOf(item), { newImage: item }, { seconds: 1717243260 }))!;
    expect(eventsOf(change)[0].occurredAt).toBe(WRITTEN_AT);
  });

  test('falls back to the stream record’s time for an item written before the time was recorded', () => {
    const { changedAt: _changedAt, ...item } = customerItem([instore()]);
    const change = changeOf(record('INSERT', keyOf(item as { pk: string; sk: string }), { newImage: item }, { seconds: 1717243205 }))!;
    expect(eventsOf(change)[0].occurredAt).toBe('2024-06-01T12:00:05.000Z');
  });

  test('carries version 1, the org, the customer, its first sequence and nothing more in its envelope', () => {
    const [event] = eventsOf(customerInsert(stored([instore()])));
    expect(event).toEqual({
      id: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
      type: 'customer.created',
      version: 1,
      orgId: ORG,
      customerId: CUSTOMER,
      occurredAt: WRITTEN_AT,
      origin: 'api',
      sequence: 1,
      data: { sourceAccounts: ['INSTORE'], identifierTypes: ['email', 'mobile'] },
    });
  });

  test('carries no name, identifier value, card number, field or channel value', () => {
    const full = instore({
      card: card(PERSONAL.cardNumber),
      commChannels: [channel('mobile', PERSONAL.mobile), channel('email', PERSONAL.email)],
    });
    const events = eventsOf(customerInsert(stored([full, wechat()])));
    expect(events).toHaveLength(1);
    expectNoPersonalData(events);
  });

  test('is nothing when a customer item is removed (an erase leaves a tombstone instead)', () => {
    const item = stored([instore()]);
    expect(eventsOf({ ...customerInsert(item), change: 'remove', before: item, after: undefined } as CustomerChange)).toEqual([]);
  });

  test('is nothing for an insert without its new image', () => {
    expect(eventsOf(customerInsert(undefined as unknown as StoredCustomer))).toEqual([]);
  });
});

describe('eventsOf: a profile added to an existing customer', () => {
  test('is one customer.merged for its source account with the identifier types of that profile, from the customer item', () => {
    const events = eventsOf(merge([wechat('wx-second', { card: card(PERSONAL.cardNumber) })]));
    expect(summary(events)).toEqual([
      { type: 'customer.merged', sourceAccounts: ['WECHAT#wx-second'], identifierTypes: ['card', 'wechat'] },
    ]);
    expect(events[0]).toMatchObject({ version: 1, orgId: ORG, customerId: CUSTOMER, occurredAt: WRITTEN_AT, sequence: 2 });
  });

  test('is one customer.merged naming every profile one merge added', () => {
    const events = eventsOf(merge([wechat('wx-second'), named(profile('WEBSITE', [EMAIL]))]));
    expect(summary(events)).toEqual([
      { type: 'customer.merged', sourceAccounts: ['WECHAT#wx-second', 'WEBSITE'], identifierTypes: ['email', 'wechat'] },
    ]);
  });

  test('names a single-account source without an account', () => {
    const events = eventsOf(merge([named(profile('WEBSITE', [EMAIL]))]));
    expect(summary(events)).toEqual([{ type: 'customer.merged', sourceAccounts: ['WEBSITE'], identifierTypes: ['email'] }]);
  });

  test('has the origin of the merge, api when it has none, whatever created the customer', () => {
    const byBulk = stored([instore()], { origin: 'bulk' });
    expect(eventsOf(merge([wechat()], undefined, byBulk))[0].origin).toBe('api');
    expect(eventsOf(merge([wechat()], 'bulk'))[0].origin).toBe('bulk');
    expect(eventsOf(merge([wechat()], 'import'))[0].origin).toBe('import');
  });

  test('carries no name or identifier value', () => {
    expectNoPersonalData(eventsOf(merge([wechat('wx-second', { card: card(PERSONAL.cardNumber) })])));
  });

  test('is nothing from the merged profile item itself, added, changed without its old image, or removed', () => {
    expect(eventsOf(profileChange('insert', wechat()))).toEqual([]);
    expect(eventsOf(profileChange('modify', wechat()))).toEqual([]);
    expect(eventsOf(profileChange('remove', wechat()))).toEqual([]);
  });

  test('is what the stream record of a merge’s customer item says', () => {
    const item = customerItem([instore()]);
    const merged = { ...item, ...afterMerge(item as unknown as StoredCustomer, [wechat('wx-second')], 'bulk') };
    const events = eventsOf(changeOf(record('MODIFY', keyOf(item), { oldImage: item, newImage: merged }))!);
    expect(events).toMatchObject([
      { type: 'customer.merged', origin: 'bulk', sequence: 2, occurredAt: WRITTEN_AT, data: { sourceAccounts: ['WECHAT#wx-second'] } },
    ]);
  });

  test('of two merges in a row carry increasing sequences', () => {
    const once = afterMerge(stored([instore()]), [wechat('wx-second')]);
    const twice = afterMerge(once, [named(profile('WEBSITE', [EMAIL]))]);
    const sequences = [...eventsOf(customerModify(stored([instore()]), once)), ...eventsOf(customerModify(once, twice))].map(
      (e) => e.sequence,
    );
    expect(sequences).toEqual([2, 3]);
  });
});

describe('eventsOf: a merged profile changed through an update or an identifier change', () => {
  const modified = (before: Profile, after: Profile, version = 7): CustomerChange => ({
    ...(profileChange('modify', after) as CustomerChange & { kind: 'profile' }),
    previous: before,
    version,
  });
  const OTHER_WECHAT = { type: 'wechat' as const, value: 'wx-asha-9999' };

  test('with an identifier replaced is customer.identifiers_changed for its source account and type', () => {
    const events = eventsOf(modified(wechat(), wechat('wx-main', { identifiers: [OTHER_WECHAT] })));
    expect(summary(events)).toEqual([
      { type: 'customer.identifiers_changed', sourceAccounts: ['WECHAT#wx-main'], identifierTypes: ['wechat'] },
    ]);
  });

  test('with names or fields changed is customer.updated for its source account', () => {
    const events = eventsOf(modified(wechat(), wechat('wx-main', { lastName: 'Menon' })));
    expect(summary(events)).toEqual([{ type: 'customer.updated', sourceAccounts: ['WECHAT#wx-main'], identifierTypes: [] }]);
  });

  test('with only its modification date changed is nothing', () => {
    expect(
      eventsOf(modified(wechat(), wechat('wx-main', { modifiedDate: '2024-06-02T00:00:00.000Z', modifiedBy: 'store2.till' }))),
    ).toEqual([]);
  });

  test('carries no name or identifier value, and an id that depends on the version written', () => {
    const change = modified(wechat(), wechat('wx-main', { identifiers: [OTHER_WECHAT], lastName: 'Menon' }));
    const events = eventsOf(change);
    expect(events.map((e) => e.type)).toEqual(['customer.identifiers_changed', 'customer.updated']);
    expectNoPersonalData(events);
    expect(events.map((e) => e.id)).toEqual(eventsOf(change).map((e) => e.id));
    expect(eventsOf({ ...change, version: 8 } as CustomerChange)[0].id).not.toBe(events[0].id);
  });

  test('decoded from the profile item’s stream record, with both images and the version and time on the item', () => {
    const before = profileItem(wechat('wx-second'));
    const after = { ...before, profile: wechat('wx-second', { identifiers: [OTHER_WECHAT] }), version: 3, changedAt: WRITTEN_AT };
    const change = changeOf(record('MODIFY', keyOf(before), { oldImage: before, newImage: after }))!;
    expect(change).toMatchObject({
      kind: 'profile',
      change: 'modify',
      version: 3,
      changedAt: WRITTEN_AT,
      previous: { identifiers: [WECHAT] },
    });
    expect(summary(eventsOf(change))).toEqual([
      { type: 'customer.identifiers_changed', sourceAccounts: ['WECHAT#wx-second'], identifierTypes: ['wechat'] },
    ]);
    expect(eventsOf(change)[0]).toMatchObject({ sequence: 3, occurredAt: WRITTEN_AT });
  });
});

describe('eventsOf: an erased customer', () => {
  const before = stored([instore(), wechat()], { origin: 'bulk' });
  const tombstone = erasedFrom(before);

  test('is one customer.erased when the customer item becomes a tombstone, naming the source accounts and identifier types it removed', () => {
    const events = eventsOf(customerModify(before, tombstone));
    expect(events).toEqual([
      {
        id: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
        type: 'customer.erased',
        version: 1,
        orgId: ORG,
        customerId: CUSTOMER,
        occurredAt: WRITTEN_AT,
        // An erase is the API's, whatever the customer was created by.
        origin: 'api',
        sequence: 2,
        data: { sourceAccounts: ['INSTORE', 'WECHAT#wx-main'], identifierTypes: ['email', 'mobile', 'wechat'] },
      },
    ]);
    expectNoPersonalData(events);
  });

  test('is only customer.erased, although the profiles and fields went with it', () => {
    expect(eventsOf(customerModify(before, tombstone)).map((e) => e.type)).toEqual(['customer.erased']);
  });

  test('is nothing when an already erased customer item changes again', () => {
    expect(eventsOf(customerModify(tombstone, { ...tombstone, loyaltyType: 'non_loyalty' }))).toEqual([]);
    expect(eventsOf(customerModify(tombstone, tombstone))).toEqual([]);
  });
});

describe('eventsOf: a changed customer', () => {
  const before = stored([instore(), wechat()]);
  const withProfiles = (...profiles: Profile[]): StoredCustomer => ({ ...before, profiles });

  test('with an identifier added is customer.identifiers_changed for that source account and type', () => {
    const after = withProfiles(instore({ identifiers: [MOBILE, EMAIL, { type: 'externalId', value: 'EXT-9' }] }), wechat());
    expect(summary(eventsOf(customerModify(before, after)))).toEqual([
      { type: 'customer.identifiers_changed', sourceAccounts: ['INSTORE'], identifierTypes: ['externalId'] },
    ]);
  });

  test('with an identifier removed is customer.identifiers_changed for that source account and type', () => {
    const after = withProfiles(instore({ identifiers: [MOBILE] }), wechat());
    expect(summary(eventsOf(customerModify(before, after)))).toEqual([
      { type: 'customer.identifiers_changed', sourceAccounts: ['INSTORE'], identifierTypes: ['email'] },
    ]);
  });

  test('with an identifier replaced by another value is customer.identifiers_changed for its type', () => {
    const after = withProfiles(instore({ identifiers: [{ type: 'mobile', value: '919000000001' }, EMAIL] }), wechat());
    expect(summary(eventsOf(customerModify(before, after)))).toEqual([
      { type: 'customer.identifiers_changed', sourceAccounts: ['INSTORE'], identifierTypes: ['mobile'] },
    ]);
  });

  test('with a card issued or replaced is customer.identifiers_changed of type card', () => {
    const issued = withProfiles(instore({ card: card(PERSONAL.cardNumber) }), wechat());
    expect(summary(eventsOf(customerModify(before, issued)))).toEqual([
      { type: 'customer.identifiers_changed', sourceAccounts: ['INSTORE'], identifierTypes: ['card'] },
    ]);
    const replaced = withProfiles(instore({ card: card('DEMO000000000017') }), wechat());
    expect(summary(eventsOf(customerModify(issued, replaced)))).toEqual([
      { type: 'customer.identifiers_changed', sourceAccounts: ['INSTORE'], identifierTypes: ['card'] },
    ]);
  });

  test('with identifiers changed in two profiles names both source accounts', () => {
    const after = withProfiles(
      instore({ identifiers: [MOBILE] }),
      wechat('wx-main', { identifiers: [{ type: 'wechat', value: 'wx-new' }] }),
    );
    expect(summary(eventsOf(customerModify(before, after)))).toEqual([
      { type: 'customer.identifiers_changed', sourceAccounts: ['INSTORE', 'WECHAT#wx-main'], identifierTypes: ['email', 'wechat'] },
    ]);
  });

  test('with an identifier removed from one profile while another profile keeps the same value names its type', () => {
    // INSTORE and FACEBOOK share the mobile (one identifier of the org); FACEBOOK drops it.
    const facebook = named(profile('FACEBOOK', [MOBILE, { type: 'fbId', value: 'fb-77' }], { accountId: 'fb-main' }));
    const shared = withProfiles(instore(), facebook);
    const after = withProfiles(instore(), { ...facebook, identifiers: [{ type: 'fbId', value: 'fb-77' }] });
    expect(summary(eventsOf(customerModify(shared, after)))).toEqual([
      { type: 'customer.identifiers_changed', sourceAccounts: ['FACEBOOK#fb-main'], identifierTypes: ['mobile'] },
    ]);
  });

  test('with an identifier moved from one profile to another names both source accounts and its type', () => {
    const after = withProfiles(instore({ identifiers: [MOBILE] }), wechat('wx-main', { identifiers: [WECHAT, EMAIL] }));
    expect(summary(eventsOf(customerModify(before, after)))).toEqual([
      { type: 'customer.identifiers_changed', sourceAccounts: ['INSTORE', 'WECHAT#wx-main'], identifierTypes: ['email'] },
    ]);
  });

  test('with the same identifiers in another order is nothing', () => {
    const after = withProfiles(instore({ identifiers: [EMAIL, MOBILE] }), wechat());
    expect(eventsOf(customerModify(before, after))).toEqual([]);
  });

  test.each([
    ['a first name changed', { firstName: 'Ashwini' }],
    ['a last name changed', { lastName: 'Iyer' }],
    ['a last name removed', { lastName: undefined }],
    ['a field changed', { fields: { city: 'Mysuru' } }],
    ['a comm channel changed', { commChannels: [channel('email', PERSONAL.email, { subscribed: false })] }],
  ])('with %s is customer.updated for that source account', (_what, change) => {
    const after = withProfiles(instore(change as Partial<Profile>), wechat());
    expect(summary(eventsOf(customerModify(before, after)))).toEqual([
      { type: 'customer.updated', sourceAccounts: ['INSTORE'], identifierTypes: [] },
    ]);
  });

  test('with extended fields or the loyalty type changed is customer.updated of the customer, with no source account', () => {
    const extended = { ...before, extendedFields: { language: 'Tamil' } };
    expect(summary(eventsOf(customerModify(before, extended)))).toEqual([
      { type: 'customer.updated', sourceAccounts: [], identifierTypes: [] },
    ]);
    const loyalty: StoredCustomer = { ...before, loyaltyType: 'non_loyalty' };
    expect(summary(eventsOf(customerModify(before, loyalty)))).toEqual([
      { type: 'customer.updated', sourceAccounts: [], identifierTypes: [] },
    ]);
  });

  test('with extended fields in another key order is nothing', () => {
    const one = { ...before, extendedFields: { language: 'Kannada', gender: 'F' } };
    const other = { ...before, extendedFields: { gender: 'F', language: 'Kannada' } };
    expect(eventsOf(customerModify(one, other))).toEqual([]);
  });

  test('with identifiers and details changed at once is customer.identifiers_changed, then customer.updated', () => {
    const after = withProfiles(instore({ identifiers: [MOBILE], firstName: 'Ashwini' }), wechat());
    const events = eventsOf(customerModify(before, after));
    expect(summary(events)).toEqual([
      { type: 'customer.identifiers_changed', sourceAccounts: ['INSTORE'], identifierTypes: ['email'] },
      { type: 'customer.updated', sourceAccounts: ['INSTORE'], identifierTypes: [] },
    ]);
    expect(events[0].id).not.toBe(events[1].id);
  });

  test('with nothing an event tells about changed is nothing', () => {
    expect(eventsOf(customerModify(before, { ...before }))).toEqual([]);
    expect(eventsOf(customerModify(before, { ...before, enrollments: [{ programId: 1, tierNumber: 2, loyaltyPoints: 500 }] }))).toEqual([]);
    expect(eventsOf(customerModify(before, { ...before, version: 7 }))).toEqual([]);
  });

  test('is nothing without both images', () => {
    expect(eventsOf(customerModify(before, undefined as unknown as StoredCustomer))).toEqual([]);
    expect(eventsOf(customerModify(undefined as unknown as StoredCustomer, before))).toEqual([]);
  });

  test('occurred when the write recorded it, and carries no name or identifier value', () => {
    const after = withProfiles(instore({ identifiers: [MOBILE], firstName: 'Ashwini', card: card(PERSONAL.cardNumber) }), wechat());
    const events = eventsOf(customerModify(before, { ...after, extendedFields: { language: 'Tamil' } }));
    expect(events).toHaveLength(2);
    for (const event of events)
      expect(event).toMatchObject({ version: 1, orgId: ORG, customerId: CUSTOMER, occurredAt: WRITTEN_AT, origin: 'api' });
    expectNoPersonalData(events);
    expect(JSON.stringify(events)).not.toContain('Ashwini');
    expect(JSON.stringify(events)).not.toContain('Tamil');
  });

  test('decoded from a stream record of the customer item', () => {
    const item = customerItem([instore()]);
    const changed = { ...item, profiles: [instore({ identifiers: [MOBILE] })] };
    const events = eventsOf(changeOf(record('MODIFY', keyOf(item), { oldImage: item, newImage: changed }))!);
    expect(summary(events)).toEqual([{ type: 'customer.identifiers_changed', sourceAccounts: ['INSTORE'], identifierTypes: ['email'] }]);
  });
});

describe('event ids', () => {
  const before = stored([instore()]);
  const renamed = { ...before, profiles: [instore({ firstName: 'Ashwini' })] };
  const idsOf = (change: CustomerChange) => eventsOf(change).map((e) => e.id);

  test('are evt_ and 32 hex digits, for every event type', () => {
    const events = [
      ...eventsOf(customerInsert(before)),
      ...eventsOf(merge([wechat()])),
      ...eventsOf(customerModify(before, { ...renamed, profiles: [instore({ firstName: 'Ashwini', identifiers: [MOBILE] })] })),
      ...eventsOf(customerModify(before, { ...before, activity: 'ERASED' })),
      ...eventsOf(
        customerModify(before, {
          ...before,
          lastUnmerge: { profile: { source: 'INSTORE', accountId: null }, from: before.id, to: 5, kept: [], moved: [MOBILE] },
        }),
      ),
    ];
    expect(events.map((e) => e.type).sort()).toEqual([...EVENT_TYPES].sort());
    for (const event of events) expect(event.id).toMatch(/^evt_[0-9a-f]{32}$/);
  });

  test('are the same when the same change is read twice', () => {
    expect(idsOf(customerInsert(before))).toEqual(idsOf(customerInsert(before)));
    expect(idsOf(merge([wechat()]))).toEqual(idsOf(merge([wechat()])));
    expect(idsOf(customerModify(before, renamed))).toEqual(idsOf(customerModify(before, renamed)));
    expect(idsOf(customerModify(before, { ...before, activity: 'ERASED' }))).toEqual(
      idsOf(customerModify(before, { ...before, activity: 'ERASED' })),
    );
  });

  test('are the same when the stream delivers one record twice', () => {
    const item = customerItem([instore()]);
    const changed = { ...item, profiles: [instore({ firstName: 'Ashwini', identifiers: [MOBILE] })] };
    const modification = record('MODIFY', keyOf(item), { oldImage: item, newImage: changed }, { eventID: 'stream-record-9' });
    const first = idsOf(changeOf(modification)!);
    expect(first).toHaveLength(2);
    expect(idsOf(changeOf(structuredClone(modification))!)).toEqual(first);
    const merged = { ...item, ...afterMerge(item as unknown as StoredCustomer, [wechat('wx-second')]) };
    const mergeRecord = record('MODIFY', keyOf(item), { oldImage: item, newImage: merged }, { eventID: 'stream-record-10' });
    expect(idsOf(changeOf(mergeRecord)!)).toHaveLength(1);
    expect(idsOf(changeOf(mergeRecord)!)).toEqual(idsOf(changeOf(structuredClone(mergeRecord))!));
  });

  test("of a customer's creation do not depend on the stream record that carried it", () => {
    expect(idsOf(customerInsert(before, { recordId: 'a' }))).toEqual(idsOf(customerInsert(before, { recordId: 'b' })));
  });

  test('differ between customers and between orgs', () => {
    const ids = [
      idsOf(customerInsert(before)),
      idsOf(customerInsert(before, { customerId: CUSTOMER + 1 })),
      idsOf(customerInsert(before, { orgId: ORG + 1 })),
      idsOf(merge([wechat()])),
      idsOf({ ...merge([wechat()]), customerId: CUSTOMER + 1 } as CustomerChange),
      idsOf({ ...merge([wechat()]), orgId: ORG + 1 } as CustomerChange),
    ].flat();
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('differ between event types of one customer and between the events of one change', () => {
    const both = eventsOf(customerModify(before, { ...renamed, profiles: [instore({ firstName: 'Ashwini', identifiers: [MOBILE] })] }));
    const ids = [
      ...idsOf(customerInsert(before)),
      ...both.map((e) => e.id),
      ...idsOf(customerModify(before, { ...before, activity: 'ERASED' })),
    ];
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
  });

  test('differ between merges into one customer, each at its own version', () => {
    const once = afterMerge(before, [wechat('wx-second')]);
    const twice = afterMerge(once, [wechat('wx-third')]);
    const thrice = afterMerge(twice, [named(profile('WEBSITE', [EMAIL]))]);
    const ids = [idsOf(customerModify(before, once)), idsOf(customerModify(once, twice)), idsOf(customerModify(twice, thrice))].flat();
    expect(new Set(ids).size).toBe(3);
  });

  test('differ between versions of the customer item, whichever record carries them', () => {
    const v1 = { ...before, version: 1 };
    const v2 = { ...renamed, version: 2 };
    const v3 = { ...v2, profiles: [instore({ firstName: 'Asha M' })], version: 3 };
    expect(idsOf(customerModify(v1, v2, { recordId: 'a' }))).toEqual(idsOf(customerModify(v1, v2, { recordId: 'b' })));
    expect(idsOf(customerModify(v1, v2))).not.toEqual(idsOf(customerModify(v2, v3)));
  });

  test('differ between modifications carried by different stream records when the item has no version', () => {
    const unversioned = { ...renamed, version: undefined };
    expect(idsOf(customerModify(before, unversioned, { recordId: 'a' }))).not.toEqual(
      idsOf(customerModify(before, unversioned, { recordId: 'b' })),
    );
  });
});
