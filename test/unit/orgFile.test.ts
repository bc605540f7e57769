import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { problemsOfOrgFile, type OrgFile } from '../../lib/org';
import { orgFileJsonSchema } from '../../lib/schemas/orgFile.schema';
import { problemsOfOrgShape } from '../../lib/schemas/validate';
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

describe('the shape of an org file, checked against its schema before anything is loaded', () => {
  const read = (name: string) => JSON.parse(readFileSync(join(__dirname, '..', '..', 'config', 'orgs', name), 'utf8'));
  const demoOrg = () => read('demo.json')[0];

  test('every demo org and the example brand fit the schema', () => {
    for (const org of [...read('demo.json'), read('example-brand.json')]) {
      expect({ org: org.orgId, problems: problemsOfOrgShape(org) }).toEqual({ org: org.orgId, problems: [] });
    }
  });

  test('a plausible but wrong account list says where and what form was expected', () => {
    const org = demoOrg();
    org.sources.MOBILE_APP = ['app-ios'];
    expect(problemsOfOrgShape(org)).toEqual([
      'org 100: /sources/MOBILE_APP must be object; expected an object {"accounts": [...]} listing the account ids of the source: [] for a single-account source',
    ]);
  });

  test('a misspelt key is named with its place, and a tier number given as text is refused', () => {
    const org = demoOrg();
    org.tills[0].pasword = 'x';
    org.programs[0].tiers[0].number = '1';
    const problems = problemsOfOrgShape(org);
    expect(problems).toContainEqual(expect.stringMatching(/^org 100: \/tills\/0\/pasword is not a key of this object; expected a till/));
    expect(problems).toContainEqual(expect.stringMatching(/^org 100: \/programs\/0\/tiers\/0\/number must be integer/));
  });

  test('an unknown source is refused with the list of sources', () => {
    const org = demoOrg();
    org.sources.TIKTOK = { accounts: [] };
    expect(problemsOfOrgShape(org).join('\n')).toMatch(/\/sources .*one of INSTORE, FACEBOOK/);
  });

  test('config/orgs/org.schema.json is what the schema gives editors (run `npm run build:schemas` after changing it)', () => {
    expect(read('org.schema.json')).toEqual(JSON.parse(JSON.stringify(orgFileJsonSchema())));
  });
});
