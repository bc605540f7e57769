import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import stages from '../../config/stages.json';
import type { OrgFile } from '../../lib/org';
import { problemsOfOrgShape } from '../../lib/schemas/validate';
import { main, throttleWarnings } from '../../scripts/loadOrgs';
import StageThrottling from '../../scripts/serverless/stageThrottling';

// `npm run load-orgs -- --stage <stage>` and API Gateway's stage throttle (SPEC section 6): the
// stage admits rateLimitPerMinute * throttleOrgs registrations a minute on POST /v2/customers for
// all its orgs together, so an org's own limit above that is never reached there (the stage
// answers 429 first). The loader says so, one line per org, and loads the org all the same.

const ORGS = join(__dirname, '..', '..', 'config', 'orgs');
const exampleBrand = (changes: Partial<OrgFile> = {}): OrgFile => ({
  ...(JSON.parse(readFileSync(join(ORGS, 'example-brand.json'), 'utf8')) as OrgFile),
  ...changes,
});
const demoRetail = (): OrgFile => (JSON.parse(readFileSync(join(ORGS, 'demo.json'), 'utf8')) as OrgFile[])[0];

// emea and asia2: 100 a minute per org, 20 orgs at that rate: 33.33 requests a second.
const EMEA = stages.emea;

describe('the warnings about per-org limits the stage throttle cannot admit', () => {
  test('the stage throttle is the one the Serverless plugin deploys: about 2,000 a minute in emea, 12,000 in asia1', () => {
    expect(StageThrottling.throttleFor(stages.emea).rateLimit).toBe(33.33);
    expect(StageThrottling.throttleFor(stages.asia1).rateLimit).toBe(200);
  });

  test("an org above the stage throttle gets one line naming the org, its limit, the stage's throttle a minute and what to do", () => {
    expect(throttleWarnings([demoRetail()], 'emea', EMEA)).toEqual([
      'warning: org 100 (Demo Retail) has rateLimitPerMinute 100000, but API Gateway admits about 2000 registrations a minute' +
        ' (33.33 per second) on POST /v2/customers for all the orgs of stage emea together, so it answers 429 before the' +
        ' org reaches its limit; to admit it, raise throttleOrgs (to 1000) or rateLimitPerMinute of emea in' +
        ' config/stages.json and deploy',
    ]);
  });

  test('the same limit fits a stage with a larger throttle', () => {
    expect(throttleWarnings([exampleBrand({ rateLimitPerMinute: 10_000 })], 'asia1', stages.asia1)).toEqual([]);
    expect(throttleWarnings([exampleBrand({ rateLimitPerMinute: 10_000 })], 'asia2', stages.asia2)).toEqual([
      expect.stringMatching(/^warning: org 4100 \(Example Brand\) has rateLimitPerMinute 10000, .* raise throttleOrgs \(to 100\) /),
    ]);
  });

  test('an org at the stage throttle or below it, or with the stage default, gets none', () => {
    const orgs = [
      exampleBrand({ orgId: 1, rateLimitPerMinute: 2000 }),
      exampleBrand({ orgId: 2, rateLimitPerMinute: 300 }),
      exampleBrand({ orgId: 3, rateLimitPerMinute: undefined }),
    ];
    expect(throttleWarnings(orgs, 'emea', EMEA)).toEqual([]);
    expect(throttleWarnings([exampleBrand({ rateLimitPerMinute: 2001 })], 'emea', EMEA)).toHaveLength(1);
  });

  test('one line for each org above, in the order of the files', () => {
    const orgs = [exampleBrand({ orgId: 7, rateLimitPerMinute: 5000 }), exampleBrand({ orgId: 8 }), demoRetail()];
    expect(throttleWarnings(orgs, 'emea', EMEA).map((line) => line.match(/^warning: org (\d+)/)?.[1])).toEqual(['7', '100']);
  });

  test('a till has no limit of its own to check: its requests count against the org limit, and the schema refuses one', () => {
    const withTillLimit = { ...exampleBrand(), tills: [{ username: 'store1', password: 'x', rateLimitPerMinute: 100_000 }] };
    expect(problemsOfOrgShape(withTillLimit).join('; ')).toMatch(/\/tills\/0\/rateLimitPerMinute is not a key of this object/);
  });

  test('the local stage gets none: serverless offline has no stage throttle', () => {
    expect(throttleWarnings([demoRetail()], 'local', { rateLimitPerMinute: 1, throttleOrgs: 1 })).toEqual([]);
  });
});

describe('npm run load-orgs (its main, with the table replaced by a recorder)', () => {
  let dir: string;
  const saved: Record<string, string | undefined> = {};
  const SHELL = ['DYNAMODB_ENDPOINT', 'AWS_REGION', 'TABLE_NAME'];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'load-orgs-'));
    for (const name of SHELL) saved[name] = process.env[name];
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const name of SHELL) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  function fileOf(orgs: OrgFile[]): string {
    const path = join(dir, 'orgs.json');
    writeFileSync(path, JSON.stringify(orgs));
    return path;
  }

  async function run(argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const loaded: number[] = [];
    const code = await main(argv, {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      save: async (org) => void loaded.push(org.orgId),
    });
    return { code, out, err, loaded };
  }

  test('in a regional stage: prints the warning on stderr, still loads every org and exits 0', async () => {
    // A regional stage is AWS's table: the shell of a test has DynamoDB Local in it, which the stage refuses.
    delete process.env.DYNAMODB_ENDPOINT;
    delete process.env.AWS_REGION;
    process.env.TABLE_NAME = 'loyalty-customers-emea';
    const file = fileOf([exampleBrand({ rateLimitPerMinute: 100_000 }), exampleBrand({ orgId: 4101, rateLimitPerMinute: 300 })]);
    const result = await run(['--stage', 'emea', file]);
    expect(result.code).toBe(0);
    expect(result.err).toEqual([expect.stringMatching(/^load-orgs: warning: org 4100 \(Example Brand\) has rateLimitPerMinute 100000, /)]);
    expect(result.loaded).toEqual([4100, 4101]);
    expect(result.out).toEqual(['loaded orgs 4100, 4101 into loyalty-customers-emea (emea: AWS eu-west-1)']);
  });

  test('on the local stage: no warning', async () => {
    const file = fileOf([exampleBrand({ rateLimitPerMinute: 100_000 })]);
    const result = await run(['--stage', 'local', file]);
    expect(result).toMatchObject({ code: 0, err: [], loaded: [4100] });
  });
});
