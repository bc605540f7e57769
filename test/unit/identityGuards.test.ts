import type { Identifier } from '../../lib/customer';
import { guardOf, isBlocked } from '../../lib/identityGuards';
import { normaliseIdentifier } from '../../lib/identifiers';
import { problemsOfOrgFile, type IdentityGuards, type OrgConfig, type OrgFile } from '../../lib/org';
import { MULTI_ACCOUNT_SOURCES, SOURCES, type IdentifierType } from '../../lib/vocabulary';
import { demoRetail } from './demoOrg';

// Identity guards (SPEC section 13): which normalised values may never become identifiers, by
// the defaults and by an org's own lists, and which guard configurations an org file may hold.

function orgWith(identityGuards?: IdentityGuards): OrgConfig {
  const org = demoRetail();
  return identityGuards === undefined ? org : { ...org, identityGuards };
}

/** Whether the org blocks a value, normalised first as a registration would (base country IN). */
function blocks(org: OrgConfig, type: IdentifierType, raw: string): boolean {
  const normalised = normaliseIdentifier(type, raw, org.baseCountry);
  if (!normalised.ok) throw new Error(`${type} ${raw} does not normalise: ${normalised.reason}`);
  return isBlocked(guardOf(org), { type, value: normalised.value });
}

const byDefault = orgWith();
const stored = (type: IdentifierType, value: string): Identifier => ({ type, value });

describe('the default guards', () => {
  describe('block placeholder mobiles, judged on the national number whatever the country code', () => {
    test.each(['9999999999', '8888888888', '7777777777', '6666666666', '+91 99999 99999', '919999999999'])(
      'an Indian number of one repeated digit: %s',
      (mobile) => {
        expect(blocks(byDefault, 'mobile', mobile)).toBe(true);
      },
    );

    test.each(['9876543210', '+91 98765 43210', '09876543210'])('a descending run: %s', (mobile) => {
      expect(blocks(byDefault, 'mobile', mobile)).toBe(true);
    });

    test.each([
      ['447777777777', 'a UK mobile of repeated digits'],
      ['6588888888', 'a Singapore mobile of repeated digits (8 digits)'],
      ['6598765432', 'a Singapore mobile that is a descending run'],
      ['6587654321', 'a descending run starting elsewhere'],
      ['911234567890', 'an ascending run wrapping from 9 to 0 (1234567890)'],
      ['390123456789', 'an ascending run from 0 (0123456789)'],
      ['390987654321', 'a descending run wrapping from 0 to 9 (0987654321)'],
      ['14444444444', 'a North American number of repeated digits'],
    ])('%s: %s', (value) => {
      expect(isBlocked(guardOf(byDefault), stored('mobile', value))).toBe(true);
    });

    test.each([
      ['9876501234', 'a run broken halfway'],
      ['9876543211', 'a run broken by its last digit'],
      ['9845011223', 'an ordinary number'],
      ['9123456789', 'a run after a different first digit'],
      ['+44 7987 654321', 'a UK number ending in a run'],
    ])('does not block %s, %s', (mobile) => {
      expect(blocks(byDefault, 'mobile', mobile)).toBe(false);
    });

    test('does not take the country code for part of the number: 91 followed by a run is judged on the run alone', () => {
      // 919876543210 is not itself a run (9, 1, 9, ...); its national number 9876543210 is.
      expect(isBlocked(guardOf(byDefault), stored('mobile', '919876543210'))).toBe(true);
      expect(isBlocked(guardOf(byDefault), stored('mobile', '919191919191'))).toBe(false);
    });
  });

  describe('block placeholder emails, matched as normalised (trimmed, lower case)', () => {
    test.each([
      'test@test.com',
      'na@na.com',
      'none@none.com',
      'null@null.com',
      'abc@abc.com',
      'xxx@xxx.com',
      'email@email.com',
      'test@example.com',
      'email@example.com',
    ])('%s', (email) => {
      expect(blocks(byDefault, 'email', email)).toBe(true);
    });

    test.each(['noemail@gmail.com', 'no-email@shop.in', 'no_email@x.com', 'no.email@x.com', 'nomail@x.com', 'NoEmail@Example.COM'])(
      'an address saying there is none: %s',
      (email) => {
        expect(blocks(byDefault, 'email', email)).toBe(true);
      },
    );

    test.each(['  TEST@Test.Com ', 'NA@NA.COM'])('in any case and with spaces around it: %j', (email) => {
      expect(blocks(byDefault, 'email', email)).toBe(true);
    });

    test.each(['asha@example.com', 'test.user@gmail.com', 'anna@na.com', 'noemailer@x.com', 'info@noemail.com', 'test@test.co.in'])(
      'but not a real address, nor a whole domain: %s',
      (email) => {
        expect(blocks(byDefault, 'email', email)).toBe(false);
      },
    );
  });

  test('leave other identifier types alone', () => {
    expect(blocks(byDefault, 'externalId', '9999999999')).toBe(false);
    expect(blocks(byDefault, 'wechat', 'test@test.com')).toBe(false);
  });

  test('never guard card numbers, whatever they look like', () => {
    expect(isBlocked(guardOf(byDefault), stored('card', '9999999999'))).toBe(false);
    const guarded = orgWith({ useDefaults: true, blocked: { externalId: { patterns: ['.'] } } });
    expect(isBlocked(guardOf(guarded), stored('card', '1234567890'))).toBe(false);
  });

  test('drop blocked values, and bound no customer’s profiles, unless the org says otherwise', () => {
    expect(guardOf(byDefault).onBlocked).toBe('drop');
    expect(guardOf(byDefault).maxProfilesPerCustomer).toBeUndefined();
    expect(guardOf(orgWith({ onBlocked: 'reject', maxProfilesPerCustomer: 3 }))).toMatchObject({
      onBlocked: 'reject',
      maxProfilesPerCustomer: 3,
    });
  });
});

describe('an org’s own blocked values', () => {
  const org = orgWith({
    blocked: {
      externalId: { values: ['WALK-IN'], patterns: ['^0+$'] },
      mobile: { values: ['+91 91234 56789'] },
      email: { values: ['Front.Desk@Shop.com'], patterns: ['@shop\\.com$'] },
    },
  });

  test('block exact values, compared after normalising both the listed value and the identifier', () => {
    expect(blocks(org, 'externalId', ' WALK-IN ')).toBe(true);
    expect(blocks(org, 'externalId', 'walk-in')).toBe(false);
    expect(blocks(org, 'mobile', '9123456789')).toBe(true);
    expect(blocks(org, 'mobile', '919123456789')).toBe(true);
    expect(blocks(org, 'email', 'FRONT.DESK@shop.com')).toBe(true);
  });

  test('block values a pattern finds in the normalised value', () => {
    expect(blocks(org, 'externalId', '0000')).toBe(true);
    expect(blocks(org, 'externalId', '1000')).toBe(false);
    expect(blocks(org, 'email', 'Till.3@SHOP.com')).toBe(true);
    expect(blocks(org, 'email', 'asha@shop.company.in')).toBe(false);
  });

  test('replace the defaults of the types they list, and keep the defaults of the others', () => {
    expect(blocks(org, 'mobile', '9999999999')).toBe(false);
    expect(blocks(org, 'email', 'test@test.com')).toBe(false);
    const externalOnly = orgWith({ blocked: { externalId: { values: ['WALK-IN'] } } });
    expect(blocks(externalOnly, 'mobile', '9999999999')).toBe(true);
    expect(blocks(externalOnly, 'email', 'noemail@x.com')).toBe(true);
  });

  test('add to the defaults with useDefaults: true', () => {
    const both = orgWith({ useDefaults: true, blocked: { mobile: { values: ['9123456789'] } } });
    expect(blocks(both, 'mobile', '9123456789')).toBe(true);
    expect(blocks(both, 'mobile', '9999999999')).toBe(true);
  });

  test('are all there is with useDefaults: false', () => {
    const none = orgWith({ useDefaults: false });
    expect(blocks(none, 'mobile', '9999999999')).toBe(false);
    expect(blocks(none, 'email', 'test@test.com')).toBe(false);
    const own = orgWith({ useDefaults: false, blocked: { externalId: { values: ['WALK-IN'] } } });
    expect(blocks(own, 'externalId', 'WALK-IN')).toBe(true);
    expect(blocks(own, 'mobile', '9999999999')).toBe(false);
  });
});

describe('guardOf', () => {
  test('compiles a guard once per configuration object', () => {
    const org = orgWith({ blocked: { externalId: { patterns: ['^0+$'] } } });
    expect(guardOf(org)).toBe(guardOf(org));
    expect(guardOf({ ...org })).not.toBe(guardOf(org));
  });
});

describe('an org file’s identity guards', () => {
  const file = (identityGuards: unknown): OrgFile => {
    const org = demoRetail();
    return { ...org, tills: org.tills.map((username) => ({ username, password: 'x' })), identityGuards: identityGuards as IdentityGuards };
  };
  const problems = (identityGuards: unknown) => problemsOfOrgFile(file(identityGuards), SOURCES, MULTI_ACCOUNT_SOURCES);

  test('may set every option', () => {
    expect(
      problems({
        useDefaults: true,
        onBlocked: 'reject',
        maxProfilesPerCustomer: 3,
        blocked: { mobile: { values: ['9123456789'], patterns: ['^91(0{10})$'] }, externalId: { values: ['WALK-IN'] } },
      }),
    ).toEqual([]);
    expect(problems({})).toEqual([]);
  });

  test.each([
    ['a pattern that does not compile', { blocked: { externalId: { patterns: ['(unclosed'] } } }, /not a valid regular expression/],
    ['an absurdly long pattern', { blocked: { externalId: { patterns: [`^${'a'.repeat(200)}$`] } } }, /longer than 200 characters/],
    ['an empty pattern, which would block everything', { blocked: { email: { patterns: [''] } } }, /is empty/],
    ['patterns that are not a list of strings', { blocked: { email: { patterns: '^x' } } }, /list of strings/],
    ['a mobile that is not a valid mobile', { blocked: { mobile: { values: ['12345'] } } }, /"12345" is not a valid mobile number/],
    ['an email that is not an email', { blocked: { email: { values: ['nobody'] } } }, /not a valid email/],
    ['card numbers, which are not guarded', { blocked: { card: { values: ['1234'] } } }, /card numbers are not guarded/],
    ['an unknown identifier type', { blocked: { phone: { values: ['1234'] } } }, /unknown identifier type phone/],
    ['an unknown key in a type’s lists', { blocked: { email: { value: ['x@y.com'] } } }, /must be \{values, patterns\}/],
    ['an unknown option, which would silently do nothing', { maxProfiles: 3 }, /unknown key maxProfiles/],
    ['onBlocked other than drop or reject', { onBlocked: 'warn' }, /onBlocked must be drop or reject/],
    ['maxProfilesPerCustomer of 0', { maxProfilesPerCustomer: 0 }, /maxProfilesPerCustomer must be a positive integer/],
    ['maxProfilesPerCustomer of 2.5', { maxProfilesPerCustomer: 2.5 }, /maxProfilesPerCustomer must be a positive integer/],
    ['useDefaults that is not a boolean', { useDefaults: 'no' }, /useDefaults must be true or false/],
    ['identityGuards that is not an object', ['reject'], /identityGuards must be an object/],
  ])('are refused with %s', (_label, guards, message) => {
    expect(problems(guards).join('; ')).toMatch(message);
  });
});
