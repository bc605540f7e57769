import type { Customer } from '../../lib/customer';
import { ApiError } from '../../lib/errors';
import { applyIdentifierChange, readIdentifierChange } from '../../lib/lifecycle/identifierChange';
import { namedProfileIndex } from '../../lib/lifecycle/namedProfile';
import { applyUpdate, readUpdate, refuseUnchangeableParts } from '../../lib/lifecycle/update';
import { checkChangeIdentifierBody, checkUpdateCustomerBody } from '../../lib/schemas/validate';
import { demoRetail } from './demoOrg';
import { card, profile } from './registrations';

// The rules of SPEC section 11 as pure functions of the request and the customer as read: what
// an update and an identifier change make of a customer, without DynamoDB.

const NOW = '2024-07-01T08:00:00.000Z';
const MOBILE = { type: 'mobile' as const, value: '919876543210' };
const EMAIL = { type: 'email' as const, value: 'asha@example.com' };
const WECHAT = { type: 'wechat' as const, value: 'wx-asha' };

function customer(extra: Partial<Customer> = {}): Customer {
  return {
    orgId: 100,
    id: 42,
    loyaltyType: 'loyalty',
    profiles: [
      { ...profile('INSTORE', [MOBILE, EMAIL]), firstName: 'Asha', lastName: 'Rao', fields: { lang: 'kn', store: 'S1' } },
      profile('WECHAT', [WECHAT, MOBILE], { accountId: 'wx-main' }),
    ],
    extendedFields: { city: 'Pune', gender: 'Female' },
    enrollments: [{ programId: 1, tierNumber: 1, loyaltyPoints: 0 }],
    createDate: '2024-06-01T12:00:00.000Z',
    associatedWith: 'demo.till',
    endPointsEnabled: [],
    activity: 'ACTIVE',
    ...extra,
  };
}

const update = (body: unknown) => {
  refuseUnchangeableParts(body);
  const checked = checkUpdateCustomerBody(body);
  return readUpdate(checked.body, checked.warnings, demoRetail());
};
const identifierChange = (body: unknown) => {
  const checked = checkChangeIdentifierBody(body);
  return readIdentifierChange(checked.body, checked.warnings, demoRetail(), NOW);
};
const problemsOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error.problems.map(({ code, path }) => ({ code, path }));
    throw error;
  }
  throw new Error('expected the request to be refused');
};

describe('namedProfileIndex: the profile a change names', () => {
  test('is the first profile when the query names none, and the one of the source and account otherwise', () => {
    expect(namedProfileIndex(customer(), {})).toBe(0);
    expect(namedProfileIndex(customer(), { source: 'WECHAT', accountId: 'wx-main' })).toBe(1);
    expect(namedProfileIndex(customer(), { source: 'WECHAT' })).toBe(1);
  });

  test('is 8065 for a source or account the customer has no profile in, and 8003 for an unknown source', () => {
    expect((namedProfileIndex(customer(), { source: 'LINE', accountId: 'line-main' }) as ApiError).problems[0].code).toBe(8065);
    expect((namedProfileIndex(customer(), { source: 'WECHAT', accountId: 'wx-second' }) as ApiError).problems[0].code).toBe(8065);
    expect((namedProfileIndex(customer(), { source: 'FAX' }) as ApiError).problems[0].code).toBe(8003);
  });
});

describe('an update', () => {
  test('merges fields key by key, removes the keys sent as null or "", and keeps the rest', () => {
    const applied = applyUpdate(
      customer(),
      0,
      update({ profiles: [{ fields: { lang: 'ml', store: null, tier: 'x' } }] }),
      demoRetail(),
      'store2.till',
      NOW,
    );
    expect(applied.kind === 'changed' && applied.after.profiles[0].fields).toEqual({ lang: 'ml', tier: 'x' });
    const removed = applyUpdate(customer(), 0, update({ profiles: [{ fields: { lang: '' } }] }), demoRetail(), 'store2.till', NOW);
    expect(removed.kind === 'changed' && removed.after.profiles[0].fields).toEqual({ store: 'S1' });
  });

  test('changes names, removes one sent empty, and dates and signs the profile it changed only', () => {
    const applied = applyUpdate(
      customer(),
      0,
      update({ profiles: [{ firstName: ' Asha M ', lastName: '' }] }),
      demoRetail(),
      'store2.till',
      NOW,
    );
    if (applied.kind !== 'changed') throw new Error('expected a change');
    expect(applied.after.profiles[0]).toMatchObject({ firstName: 'Asha M', modifiedDate: NOW, modifiedBy: 'store2.till' });
    expect(applied.after.profiles[0]).not.toHaveProperty('lastName');
    expect(applied.after.profiles[1]).not.toHaveProperty('modifiedDate');
  });

  test('replaces the stored comm channel of a type and keeps the others', () => {
    const stored = customer();
    stored.profiles[0].commChannels = [
      { type: 'email', value: 'old@example.com', primary: true, verified: true, subscribed: true },
      { type: 'mobile', value: '919876543210', primary: true, verified: false, subscribed: true },
    ];
    const applied = applyUpdate(
      stored,
      0,
      update({ profiles: [{ commChannels: [{ type: 'email', value: 'new@example.com' }] }] }),
      demoRetail(),
      'demo.till',
      NOW,
    );
    expect(applied.kind === 'changed' && applied.after.profiles[0].commChannels.map((c) => `${c.type}:${c.value}`)).toEqual([
      'email:new@example.com',
      'mobile:919876543210',
    ]);
  });

  test('merges extended fields, removes those sent as null, and refuses one the org has not enabled (91015)', () => {
    const applied = applyUpdate(customer(), 0, update({ extendedFields: { city: 'Kochi', gender: null } }), demoRetail(), 'demo.till', NOW);
    expect(applied.kind === 'changed' && applied.after.extendedFields).toEqual({ city: 'Kochi' });
    expect(problemsOf(() => update({ extendedFields: { shoe_size: '9' } }))).toEqual([{ code: 91015, path: '/extendedFields/shoe_size' }]);
  });

  test('makes a non_loyalty customer loyalty, enrolled in the default program at tier 1', () => {
    const applied = applyUpdate(
      customer({ loyaltyType: 'non_loyalty', enrollments: [] }),
      0,
      update({ loyaltyType: 'loyalty' }),
      demoRetail(),
      'demo.till',
      NOW,
    );
    expect(applied.kind === 'changed' && [applied.after.loyaltyType, applied.after.enrollments]).toEqual([
      'loyalty',
      [{ programId: 1, tierNumber: 1, loyaltyPoints: 0 }],
    ]);
  });

  test('refuses to make a loyalty customer non_loyalty (8018)', () => {
    const applied = applyUpdate(customer(), 0, update({ loyaltyType: 'non_loyalty' }), demoRetail(), 'demo.till', NOW);
    expect(applied).toMatchObject({ kind: 'rejected', problems: [{ code: 8018, path: '/loyaltyType' }] });
  });

  test('refuses identifiers, source and accountId in the body with 400, each with its path', () => {
    expect(problemsOf(() => update({ profiles: [{ identifiers: [], source: 'INSTORE', accountId: 'x' }] }))).toEqual([
      { code: 400, path: '/profiles/0/source' },
      { code: 400, path: '/profiles/0/accountId' },
      { code: 400, path: '/profiles/0/identifiers' },
    ]);
  });

  test('warns of an unknown key and goes on', () => {
    expect(update({ profiles: [{ nickname: 'A' }] }).warnings).toEqual([
      expect.objectContaining({ code: 8200, path: '/profiles/0/nickname' }),
    ]);
  });
});

describe('an identifier change', () => {
  test('replaces a value: the new one is claimed, the old one released when no other profile lists it', () => {
    const applied = applyIdentifierChange(
      customer(),
      0,
      identifierChange({ remove: [{ type: 'email', value: 'asha@example.com' }], add: [{ type: 'email', value: 'Asha.New@Example.com' }] }),
      'demo.till',
      NOW,
    );
    if (applied.kind !== 'changed') throw new Error('expected a change');
    expect(applied.claim.map((c) => c.identifier)).toEqual([{ type: 'email', value: 'asha.new@example.com' }]);
    expect(applied.release).toEqual([EMAIL]);
    expect(applied.after.profiles[0].identifiers).toEqual([MOBILE, { type: 'email', value: 'asha.new@example.com' }]);
    expect(applied.after.profiles[0]).toMatchObject({ modifiedDate: NOW, modifiedBy: 'demo.till' });
  });

  test('keeps a value another profile of the customer still lists: removed from the profile, not released', () => {
    const applied = applyIdentifierChange(
      customer(),
      0,
      identifierChange({ remove: [{ type: 'mobile', value: '9876543210' }], add: [{ type: 'externalId', value: 'E-1' }] }),
      'demo.till',
      NOW,
    );
    expect(applied.kind === 'changed' && [applied.after.profiles[0].identifiers, applied.release]).toEqual([
      [EMAIL, { type: 'externalId', value: 'E-1' }],
      [],
    ]);
  });

  test('warns of a value the customer holds already, and of a removal of a value the profile does not have', () => {
    const applied = applyIdentifierChange(
      customer(),
      0,
      identifierChange({ add: [{ type: 'wechat', value: 'wx-asha' }], remove: [{ type: 'externalId', value: 'nope' }] }),
      'demo.till',
      NOW,
    );
    expect(applied).toMatchObject({
      kind: 'changed',
      claim: [],
      release: [],
      warnings: [expect.objectContaining({ code: 8200, path: '/remove/0' }), expect.objectContaining({ code: 8200, path: '/add/0' })],
    });
  });

  test('refuses a second value of a type without the first removed (400), and leaving the profile without identifiers (8005)', () => {
    expect(
      applyIdentifierChange(customer(), 0, identifierChange({ add: [{ type: 'mobile', value: '9876500000' }] }), 'demo.till', NOW),
    ).toMatchObject({
      kind: 'rejected',
      problems: [{ code: 400, path: '/add/0' }],
    });
    const removeAll = identifierChange({
      remove: [
        { type: 'mobile', value: '919876543210' },
        { type: 'email', value: 'asha@example.com' },
      ],
    });
    expect(applyIdentifierChange(customer(), 0, removeAll, 'demo.till', NOW)).toMatchObject({
      kind: 'rejected',
      problems: [{ code: 8005 }],
    });
  });

  test('links a card to a profile without one, and refuses a second card', () => {
    const change = identifierChange({ add: [{ type: 'card', value: 'DEMO000000000018', seriesId: 501, statusLabel: 'ACTIVE' }] });
    const linked = applyIdentifierChange(customer(), 0, change, 'demo.till', NOW);
    expect(linked.kind === 'changed' && linked.claim.map((c) => c.identifier)).toEqual([{ type: 'card', value: 'DEMO000000000018' }]);
    const carded = customer();
    carded.profiles[0].card = card('DEMO000000000026');
    expect(applyIdentifierChange(carded, 0, change, 'demo.till', NOW)).toMatchObject({ kind: 'rejected', problems: [{ code: 3035 }] });
  });

  test('reads values as registration does: normalised, a placeholder dropped with a warning, an invalid mobile 8014', () => {
    expect(identifierChange({ add: [{ type: 'mobile', value: '+91 98450-11223' }] }).add[0].identifier).toEqual({
      type: 'mobile',
      value: '919845011223',
    });
    expect(identifierChange({ add: [{ type: 'mobile', value: '9999999999' }] })).toMatchObject({
      add: [],
      warnings: [expect.objectContaining({ code: 8200, path: '/add/0/value' })],
    });
    expect(problemsOf(() => identifierChange({ add: [{ type: 'mobile', value: '12' }] }))).toEqual([{ code: 8014, path: '/add/0/value' }]);
    expect(problemsOf(() => identifierChange({}))).toEqual([{ code: 400, path: '/add' }]);
  });
});
