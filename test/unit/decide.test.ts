import { decideRegistration, type Decision, type KnownFacts } from '../../lib/registration/decide';
import type { Identifier, Registration } from '../../lib/customer';

import { card, profile, registration } from './registrations';

// The identity and merge rules of SPEC section 3 (rules 2 to 5, and 3009 for cards), as a
// function of the registration and of who already owns its identifiers.

const MOBILE: Identifier = { type: 'mobile', value: '919876543210' };
const EMAIL: Identifier = { type: 'email', value: 'asha@example.com' };
const EXTERNAL: Identifier = { type: 'externalId', value: 'EXT-1' };
const WECHAT_ID: Identifier = { type: 'wechat', value: 'wx-asha' };

const key = (i: Identifier) => `${i.type}#${i.value}`;

function facts(owned: [Identifier, number][], ownerSourceAccounts?: string[]): KnownFacts {
  const result: KnownFacts = { owners: new Map(owned.map(([identifier, owner]) => [key(identifier), owner])) };
  return ownerSourceAccounts ? { ...result, ownerSourceAccounts: new Set(ownerSourceAccounts) } : result;
}

/** Codes and paths of a rejection, in a stable order. */
function rejection(decision: Decision): { code: number; path?: string }[] {
  if (decision.kind !== 'reject') throw new Error(`expected a rejection, got ${decision.kind}`);
  return decision.problems
    .map(({ code, path }) => (path === undefined ? { code } : { code, path }))
    .sort((a, b) => a.code - b.code || String(a.path).localeCompare(String(b.path)));
}

describe('decideRegistration', () => {
  describe('when no identifier of the request is known', () => {
    test('creates a new customer', () => {
      expect(decideRegistration(registration(profile('INSTORE', [MOBILE, EMAIL])), facts([]))).toEqual({ kind: 'create' });
    });

    test('creates a new customer with several profiles and a new card', () => {
      const request = registration(
        profile('INSTORE', [MOBILE], { card: card('DEMO012345678903') }),
        profile('WECHAT', [WECHAT_ID], { accountId: 'wx-main' }),
      );
      expect(decideRegistration(request, facts([], ['WECHAT#wx-main']))).toEqual({ kind: 'create' });
    });

    test('creates a new customer when only an identifier of another type has the same value', () => {
      const taken: Identifier = { type: 'externalId', value: '919876543210' };
      expect(decideRegistration(registration(profile('INSTORE', [MOBILE])), facts([[taken, 7]]))).toEqual({ kind: 'create' });
    });

    test('creates a new customer with a card still to be generated, which cannot be known', () => {
      const request = registration(profile('INSTORE', [MOBILE], { card: card('', true) }));
      expect(decideRegistration(request, facts([[{ type: 'card', value: '' }, 7]]))).toEqual({ kind: 'create' });
    });
  });

  describe('when all known identifiers belong to one customer', () => {
    test('merges into that customer when it has no profile in the requested source', () => {
      const decision = decideRegistration(registration(profile('WEBSITE', [MOBILE, EMAIL])), facts([[MOBILE, 42]], ['INSTORE']));
      expect(decision).toEqual({ kind: 'merge', customerId: 42, known: [MOBILE], unknown: [EMAIL] });
    });

    test('merges when every identifier is known and belongs to that customer', () => {
      const decision = decideRegistration(
        registration(profile('WEBSITE', [MOBILE, EMAIL])),
        facts(
          [
            [MOBILE, 42],
            [EMAIL, 42],
          ],
          ['INSTORE'],
        ),
      );
      expect(decision).toEqual({ kind: 'merge', customerId: 42, known: [MOBILE, EMAIL], unknown: [] });
    });

    test('attempts the merge when the customer’s source accounts are not known yet', () => {
      const decision = decideRegistration(registration(profile('INSTORE', [MOBILE])), facts([[MOBILE, 42]]));
      expect(decision).toEqual({ kind: 'merge', customerId: 42, known: [MOBILE], unknown: [] });
    });

    test('merges into another account of a multi-account source', () => {
      const request = registration(profile('WECHAT', [MOBILE, WECHAT_ID], { accountId: 'wx-second' }));
      const decision = decideRegistration(request, facts([[MOBILE, 42]], ['WECHAT#wx-main']));
      expect(decision).toEqual({ kind: 'merge', customerId: 42, known: [MOBILE], unknown: [WECHAT_ID] });
    });

    test('lists the new identifiers and the new card of every profile as unknown, to attach them', () => {
      const newCard = card('DEMO012345678903');
      const request = registration(
        profile('WEBSITE', [MOBILE, EMAIL], { card: newCard }),
        profile('WECHAT', [WECHAT_ID, EXTERNAL], { accountId: 'wx-main' }),
      );
      const decision = decideRegistration(request, facts([[MOBILE, 42]], ['INSTORE']));
      expect(decision).toEqual({
        kind: 'merge',
        customerId: 42,
        known: [MOBILE],
        unknown: [EMAIL, { type: 'card', value: 'DEMO012345678903' }, WECHAT_ID, EXTERNAL],
      });
    });

    test('lists an identifier sent in several profiles once, known or unknown', () => {
      const request = registration(
        profile('WEBSITE', [MOBILE, EMAIL]),
        profile('ECOMMERCE', [MOBILE, EMAIL]),
        profile('FACEBOOK', [{ ...MOBILE }, EXTERNAL], { accountId: 'fb-main' }),
      );
      const decision = decideRegistration(request, facts([[MOBILE, 42]], ['INSTORE']));
      expect(decision).toEqual({ kind: 'merge', customerId: 42, known: [MOBILE], unknown: [EMAIL, EXTERNAL] });
    });

    test('refuses with 8006 when the customer already has a profile in the requested source', () => {
      const decision = decideRegistration(registration(profile('INSTORE', [MOBILE, EMAIL])), facts([[MOBILE, 42]], ['INSTORE']));
      expect(rejection(decision)).toEqual([{ code: 8006, path: '/profiles/0' }]);
    });

    test('refuses with 8006 when the customer already has a profile in the requested account', () => {
      const request = registration(profile('WECHAT', [WECHAT_ID], { accountId: 'wx-main' }));
      const decision = decideRegistration(request, facts([[WECHAT_ID, 42]], ['INSTORE', 'WECHAT#wx-main']));
      expect(rejection(decision)).toEqual([{ code: 8006, path: '/profiles/0' }]);
    });

    test('refuses with 8006 naming only the profile whose source is taken when several profiles are sent', () => {
      const request = registration(
        profile('WEBSITE', [MOBILE]),
        profile('INSTORE', [EMAIL]),
        profile('WECHAT', [WECHAT_ID], { accountId: 'wx-second' }),
      );
      const decision = decideRegistration(request, facts([[MOBILE, 42]], ['INSTORE', 'WECHAT#wx-main']));
      expect(rejection(decision)).toEqual([{ code: 8006, path: '/profiles/1' }]);
    });

    test('refuses with one 8006 for each profile whose source is taken', () => {
      const request = registration(
        profile('INSTORE', [MOBILE]),
        profile('WEBSITE', [EMAIL]),
        profile('WECHAT', [WECHAT_ID], { accountId: 'wx-main' }),
      );
      const decision = decideRegistration(request, facts([[MOBILE, 42]], ['INSTORE', 'WECHAT#wx-main']));
      expect(rejection(decision)).toEqual([
        { code: 8006, path: '/profiles/0' },
        { code: 8006, path: '/profiles/2' },
      ]);
    });

    test('names the existing customer and the taken source in the 8006 message', () => {
      const request = registration(profile('WECHAT', [WECHAT_ID], { accountId: 'wx-main' }));
      const decision = decideRegistration(request, facts([[WECHAT_ID, 42]], ['WECHAT#wx-main']));
      expect(decision.kind === 'reject' && decision.problems[0].message).toEqual(expect.stringContaining('42'));
      expect(decision.kind === 'reject' && decision.problems[0].message).toEqual(expect.stringContaining('wx-main'));
    });
  });

  describe('when the known identifiers belong to two or more customers', () => {
    test('refuses with 8052', () => {
      const decision = decideRegistration(
        registration(profile('INSTORE', [MOBILE, EMAIL])),
        facts([
          [MOBILE, 42],
          [EMAIL, 43],
        ]),
      );
      expect(rejection(decision)).toEqual([{ code: 8052 }]);
    });

    test('refuses with 8052 when identifiers of different profiles lead to different customers', () => {
      const request = registration(profile('INSTORE', [MOBILE]), profile('WECHAT', [WECHAT_ID], { accountId: 'wx-main' }));
      const decision = decideRegistration(
        request,
        facts([
          [MOBILE, 42],
          [WECHAT_ID, 43],
        ]),
      );
      expect(rejection(decision)).toEqual([{ code: 8052 }]);
    });

    test('refuses with one 8052 naming every customer when three customers are involved', () => {
      const request = registration(profile('INSTORE', [MOBILE, EMAIL, EXTERNAL]));
      const decision = decideRegistration(
        request,
        facts([
          [MOBILE, 42],
          [EMAIL, 43],
          [EXTERNAL, 44],
        ]),
      );
      expect(rejection(decision)).toEqual([{ code: 8052 }]);
      const message = decision.kind === 'reject' ? decision.problems[0].message : '';
      for (const id of ['42', '43', '44']) expect(message).toContain(id);
    });

    test('refuses with 8052 only, not 8006, even when a source of the request is taken', () => {
      const decision = decideRegistration(
        registration(profile('INSTORE', [MOBILE, EMAIL])),
        facts(
          [
            [MOBILE, 42],
            [EMAIL, 43],
          ],
          ['INSTORE'],
        ),
      );
      expect(rejection(decision)).toEqual([{ code: 8052 }]);
    });

    test('refuses with 8052 when some identifiers are new and the known ones are split', () => {
      const request = registration(profile('INSTORE', [MOBILE, EMAIL, EXTERNAL]));
      const decision = decideRegistration(
        request,
        facts([
          [MOBILE, 42],
          [EXTERNAL, 43],
        ]),
      );
      expect(rejection(decision)).toEqual([{ code: 8052 }]);
    });
  });

  describe('when the card number of the request is already issued', () => {
    const issued = card('DEMO012345678903');
    const issuedKey: Identifier = { type: 'card', value: 'DEMO012345678903' };

    test('refuses with 3009 at the profile of the card when nothing else is known', () => {
      const request = registration(profile('WEBSITE', [EMAIL]), profile('INSTORE', [MOBILE], { card: issued }));
      expect(rejection(decideRegistration(request, facts([[issuedKey, 42]])))).toEqual([{ code: 3009, path: '/profiles/1' }]);
    });

    test('refuses with 3009 rather than merging, even into the customer who holds the card', () => {
      const request = registration(profile('WEBSITE', [MOBILE], { card: issued }));
      const decision = decideRegistration(
        request,
        facts(
          [
            [MOBILE, 42],
            [issuedKey, 42],
          ],
          ['INSTORE'],
        ),
      );
      expect(rejection(decision)).toEqual([{ code: 3009, path: '/profiles/0' }]);
    });

    test('refuses with 3009 rather than merging into another customer', () => {
      const request = registration(profile('WEBSITE', [MOBILE], { card: issued }));
      const decision = decideRegistration(
        request,
        facts(
          [
            [MOBILE, 42],
            [issuedKey, 99],
          ],
          ['INSTORE'],
        ),
      );
      expect(rejection(decision)).toEqual([{ code: 3009, path: '/profiles/0' }]);
    });

    test('refuses with both 3009 and 8006 when the source is taken too', () => {
      const request = registration(profile('INSTORE', [MOBILE], { card: issued }));
      const decision = decideRegistration(
        request,
        facts(
          [
            [MOBILE, 42],
            [issuedKey, 42],
          ],
          ['INSTORE'],
        ),
      );
      expect(rejection(decision)).toEqual([
        { code: 3009, path: '/profiles/0' },
        { code: 8006, path: '/profiles/0' },
      ]);
    });

    test('refuses with both 3009 and 8052 when the other identifiers are split between customers', () => {
      const request = registration(profile('INSTORE', [MOBILE, EMAIL], { card: issued }));
      const decision = decideRegistration(
        request,
        facts([
          [MOBILE, 42],
          [EMAIL, 43],
          [issuedKey, 44],
        ]),
      );
      expect(rejection(decision)).toEqual([{ code: 3009, path: '/profiles/0' }, { code: 8052 }]);
    });

    test('points at the card by its path, and keeps the number out of the 3009 message (a recorded refusal outlives an erase of its holder)', () => {
      const request = registration(profile('INSTORE', [MOBILE], { card: issued }));
      const decision = decideRegistration(request, facts([[issuedKey, 42]]));
      expect(decision.kind === 'reject' && decision.problems[0]).toMatchObject({ code: 3009, path: '/profiles/0' });
      expect(decision.kind === 'reject' && decision.problems[0].message).not.toContain('DEMO012345678903');
    });
  });

  describe('when the org allows at most three profiles per customer (maxProfilesPerCustomer, SPEC section 13)', () => {
    const atMostThree = { maxProfilesPerCustomer: 3 };

    test('merges a profile that brings the customer to three', () => {
      const decision = decideRegistration(
        registration(profile('WEBSITE', [MOBILE])),
        facts([[MOBILE, 42]], ['INSTORE', 'ECOMMERCE']),
        atMostThree,
      );
      expect(decision).toEqual({ kind: 'merge', customerId: 42, known: [MOBILE], unknown: [] });
    });

    test('refuses with 8901 a merge that would give the customer a fourth profile', () => {
      const decision = decideRegistration(
        registration(profile('WEBSITE', [MOBILE])),
        facts([[MOBILE, 42]], ['INSTORE', 'ECOMMERCE', 'WECHAT#wx-main']),
        atMostThree,
      );
      expect(rejection(decision)).toEqual([{ code: 8901 }]);
    });

    test('counts every new profile of the request', () => {
      const request = registration(profile('WEBSITE', [MOBILE]), profile('ECOMMERCE', [EMAIL]), profile('JD', [EXTERNAL]));
      expect(rejection(decideRegistration(request, facts([[MOBILE, 42]], ['INSTORE']), atMostThree))).toEqual([{ code: 8901 }]);
    });

    test('does not count a profile refused with 8006 as a new one', () => {
      const request = registration(profile('INSTORE', [MOBILE]), profile('WEBSITE', [EMAIL]));
      const decision = decideRegistration(request, facts([[MOBILE, 42]], ['INSTORE', 'ECOMMERCE']), atMostThree);
      expect(rejection(decision)).toEqual([{ code: 8006, path: '/profiles/0' }]);
    });

    test('judges the new profiles alone when the customer’s source accounts are not known yet', () => {
      const two = registration(profile('WEBSITE', [MOBILE]), profile('ECOMMERCE', [EMAIL]));
      expect(decideRegistration(two, facts([[MOBILE, 42]]), atMostThree).kind).toBe('merge');
      const four = registration(profile('WEBSITE', [MOBILE]), profile('ECOMMERCE', [EMAIL]), profile('JD', []), profile('TMALL', []));
      expect(rejection(decideRegistration(four, facts([[MOBILE, 42]]), atMostThree))).toEqual([{ code: 8901 }]);
    });

    test('refuses with 8901 a new customer sent with more profiles than that', () => {
      const request = registration(
        profile('INSTORE', [MOBILE]),
        profile('WEBSITE', [EMAIL]),
        profile('ECOMMERCE', [EXTERNAL]),
        profile('WECHAT', [WECHAT_ID], { accountId: 'wx-main' }),
      );
      expect(rejection(decideRegistration(request, facts([]), atMostThree))).toEqual([{ code: 8901 }]);
      expect(decideRegistration(request, facts([]))).toEqual({ kind: 'create' });
    });

    test('names the customer, the count and the bound in the 8901 message', () => {
      const decision = decideRegistration(
        registration(profile('WEBSITE', [MOBILE])),
        facts([[MOBILE, 42]], ['INSTORE', 'ECOMMERCE', 'JD']),
        atMostThree,
      );
      const message = decision.kind === 'reject' ? decision.problems[0].message : '';
      expect(message).toContain('customer 42');
      expect(message).toContain('4 profiles');
      expect(message).toContain('at most 3');
    });

    test('lets the other rules speak first: 8052 is not also 8901', () => {
      const request = registration(profile('WEBSITE', [MOBILE, EMAIL]), profile('ECOMMERCE', []), profile('JD', []), profile('TMALL', []));
      const decision = decideRegistration(
        request,
        facts([
          [MOBILE, 42],
          [EMAIL, 43],
        ]),
        atMostThree,
      );
      expect(rejection(decision)).toEqual([{ code: 8052 }]);
    });
  });

  test('gives every rejection at least one problem to report', () => {
    const cases: [Registration, KnownFacts][] = [
      [registration(profile('INSTORE', [MOBILE])), facts([[MOBILE, 1]], ['INSTORE'])],
      [
        registration(profile('INSTORE', [MOBILE, EMAIL])),
        facts([
          [MOBILE, 1],
          [EMAIL, 2],
        ]),
      ],
      [
        registration(profile('INSTORE', [MOBILE], { card: card('DEMO012345678903') })),
        facts([[{ type: 'card', value: 'DEMO012345678903' }, 1]]),
      ],
    ];
    for (const [request, known] of cases) {
      const decision = decideRegistration(request, known);
      expect(decision.kind).toBe('reject');
      expect(decision.kind === 'reject' && decision.problems.length).toBeGreaterThan(0);
    }
  });
});
