import stages from '../../config/stages.json';
import { lintTemplate, type Finding } from '../support/cfnLint';
import { packageStage, type Packaged } from '../support/packaged';

// The CloudFormation template `serverless package --stage <stage>` compiles for each regional stage,
// linted offline with AWS's own validator (mostly cfn-lint's rules and the resource provider
// schemas, see test/support/cfnLint.ts) against the stage's region: nothing CloudFormation would
// reject, and no warning but the few that osls's own output raises, each allowed by name.
// Packaging runs in a scratch copy of the service, as in test/e2e/template.test.ts.

type Template = Packaged['template'];

/** Every stage of config/stages.json but `local` (and the file's `//` note). */
const REGIONAL_STAGES = Object.entries(stages).flatMap(([stage, settings]) =>
  stage !== 'local' && typeof settings === 'object' ? [{ stage, region: settings.region }] : [],
);

/** Warnings on what osls writes by itself, each allowed only on the resource type it comes from. */
const ALLOWED_WARNINGS = [
  {
    ruleId: 'W3011',
    resourceType: 'AWS::Lambda::Version',
    reason: 'osls keeps old versions (DeletionPolicy Retain) and names each by a hash of its code and settings: never replaced in place',
  },
  {
    ruleId: 'W3005',
    resourceType: 'AWS::Lambda::Function',
    reason: 'osls adds a role named by logical id to DependsOn beside its Fn::GetAtt; redundant and harmless (aws-cdk-lib ignores W3005)',
  },
];

const allowed = (finding: Finding) =>
  finding.severity === 'warning' &&
  ALLOWED_WARNINGS.some(({ ruleId, resourceType }) => finding.ruleId === ruleId && finding.resourceType === resourceType);

/** One line a failure can print: rule, where, what (a long "is not one of [...]" list cut to its size). */
const line = ({ ruleId, path, message }: Finding) =>
  `${ruleId} ${path || '(template)'}: ${message.replace(/\[([^\]]{200,})\]/g, (_, list: string) => `[${list.split(', ').length} values]`)}`;

describe('the CloudFormation lint of serverless package', () => {
  const templates = new Map<string, Template>();

  beforeAll(async () => {
    for (const { stage } of REGIONAL_STAGES) templates.set(stage, (await packageStage(stage)).template);
  }, 240_000);

  describe.each(REGIONAL_STAGES)('--stage $stage in $region', ({ stage, region }) => {
    let findings: Finding[];

    beforeAll(() => {
      findings = lintTemplate(templates.get(stage)!, region);
    });

    test('finds nothing CloudFormation would reject', () => {
      expect(findings.filter((finding) => finding.severity === 'error').map(line)).toEqual([]);
    });

    test('finds no warning but the allowed ones', () => {
      expect(findings.filter((finding) => finding.severity === 'warning' && !allowed(finding)).map(line)).toEqual([]);
    });
  });

  describe('fails a copy of the template with a mistake in a function', () => {
    const MISTAKES = [
      {
        mistake: 'a role that names a logical id the template does not have',
        change: (properties: Record<string, unknown>) => (properties.Role = { 'Fn::GetAtt': ['NoSuchRole', 'Arn'] }),
        severity: 'error',
        says: 'NoSuchRole',
      },
      {
        mistake: "a timeout above Lambda's 900 seconds",
        change: (properties: Record<string, unknown>) => (properties.Timeout = 901),
        severity: 'error',
        says: '901',
      },
      {
        // Only a warning to cfn-lint, so it is the allowed list that makes it fail.
        mistake: 'a runtime Lambda does not have',
        change: (properties: Record<string, unknown>) => (properties.Runtime = 'nodejs99.x'),
        severity: 'warning',
        says: 'nodejs99.x',
      },
    ];

    test.each(MISTAKES)('$mistake', ({ change, severity, says }) => {
      const [{ stage, region }] = REGIONAL_STAGES;
      const template = structuredClone(templates.get(stage)!);
      const [id, fn] = Object.entries(template.Resources).find(([, resource]) => resource.Type === 'AWS::Lambda::Function')!;
      change(fn.Properties);

      const failing = lintTemplate(template, region).filter((finding) => !allowed(finding));
      expect(failing).toContainEqual(
        expect.objectContaining({
          severity,
          path: expect.stringMatching(new RegExp(`^Resources/${id}\\b`)),
          message: expect.stringContaining(says),
        }),
      );
    });
  });
});
