import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { problemsOfOrgFile, type OrgFile } from '../../lib/org';
import { MULTI_ACCOUNT_SOURCES, SOURCES } from '../../lib/vocabulary';

const demo = (): OrgFile[] => JSON.parse(readFileSync(join(__dirname, '..', '..', 'config', 'orgs', 'demo.json'), 'utf8'));
const problems = (file: OrgFile) => problemsOfOrgFile(file, SOURCES, MULTI_ACCOUNT_SOURCES);

describe('an org configuration file', () => {
  test('the demo orgs are valid', () => {
    for (const org of demo()) expect(problems(org)).toEqual([]);
  });

  test.each([
    ['a rate limit of 0', (o: OrgFile) => ({ ...o, rateLimitPerMinute: 0 }), /rateLimitPerMinute/],
    ['an unknown source', (o: OrgFile) => ({ ...o, sources: { ...o.sources, MYSPACE: { accounts: [] } } }), /unknown source MYSPACE/],
    [
      'a multi-account source without accounts',
      (o: OrgFile) => ({ ...o, sources: { ...o.sources, WECHAT: { accounts: [] } } }),
      /WECHAT needs/,
    ],
    ['no tills', (o: OrgFile) => ({ ...o, tills: [] }), /no tills/],
    ['a till name with a colon', (o: OrgFile) => ({ ...o, tills: [{ username: 'a:b', password: 'x' }] }), /till username/],
    [
      'an enum field without values',
      (o: OrgFile) => ({ ...o, extendedFields: [{ name: 'x', label: 'X', dataType: 'CUSTOM_ENUM' as const }] }),
      /enumValues/,
    ],
    [
      'a card series with more digits at least than at most',
      (o: OrgFile) => ({
        ...o,
        cardSeries: [{ id: 1, code: 'C', generates: true, prefix: '', minDigits: 9, maxDigits: 8, checkDigit: 'none' as const }],
      }),
      /card series 1/,
    ],
    [
      'two default programs',
      (o: OrgFile) => ({ ...o, programs: o.programs.map((p) => ({ ...p, isDefault: true })) }),
      /more than one default/,
    ],
    [
      'a default program without tier 1',
      (o: OrgFile) => ({ ...o, programs: [{ id: 1, name: 'P', isDefault: true, tiers: [{ number: 2, name: 'Two' }] }] }),
      /tier 1/,
    ],
    [
      'an identity guard pattern that does not compile',
      (o: OrgFile) => ({ ...o, identityGuards: { blocked: { externalId: { patterns: ['[0-9'] } } } }),
      /identityGuards\.blocked\.externalId\.patterns: "\[0-9" is not a valid regular expression/,
    ],
    [
      'an identity guard that rejects in an unknown way',
      (o: OrgFile) => ({ ...o, identityGuards: { onBlocked: 'warn' as 'drop' } }),
      /identityGuards\.onBlocked must be drop or reject/,
    ],
  ])('is refused with %s', (_label, change, message) => {
    expect(problems(change(demo()[0])).join('; ')).toMatch(message);
  });
});
