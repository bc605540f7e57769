import stages from '../../config/stages.json';
import { packageStage, type Packaged } from '../support/packaged';

// What `serverless package --stage <stage>` produces for each regional stage (SPEC section 1:
// region and API Gateway stage throttling per stage, derived from config/stages.json; one
// on-demand table; section 6: the per-org default limit per stage).
//
// Packaging runs in a scratch copy of the service (serverless.yml copied, everything else
// linked), so that serverless-esbuild's `.esbuild` work folder, which it deletes when done,
// is never the one a `serverless offline` of another suite is serving from.

interface StageSettings {
  region: string;
  rateLimitPerMinute: number;
  throttleOrgs: number;
}

/** SPEC section 1's table of stages. */
const EXPECTED = {
  asia1: { region: 'us-east-1', rateLimitPerMinute: 600 },
  asia2: { region: 'ap-southeast-1', rateLimitPerMinute: 100 },
  emea: { region: 'eu-west-1', rateLimitPerMinute: 100 },
} as const;
type Stage = keyof typeof EXPECTED;

/** DynamoDB actions on items (and queries of them); nothing on tables, streams or backups. */
const ITEM_ACTIONS = new Set([
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
]);
/** What the handlers call: reads of orgs, tills and customers, the rate counter, the transactions, a bulk's records. */
const ACTIONS_USED = [
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];

function resourcesOf(packaged: Packaged, type: string) {
  return Object.entries(packaged.template.Resources).filter(([, resource]) => resource.Type === type);
}

describe.each(Object.keys(EXPECTED) as Stage[])('serverless package --stage %s', (stage) => {
  const settings = (stages as unknown as Record<string, StageSettings>)[stage];
  let packaged: Packaged;

  beforeAll(async () => {
    packaged = await packageStage(stage);
  }, 120_000);

  test('config/stages.json holds the region and default limit of the spec for the stage', () => {
    expect(settings).toMatchObject(EXPECTED[stage]);
    expect(settings.throttleOrgs).toBeGreaterThan(0);
  });

  test('deploys to the stage region', () => {
    expect(packaged.state.service.provider.region).toBe(EXPECTED[stage].region);
    expect(packaged.state.service.provider.stage).toBe(stage);
  });

  test('API Gateway throttles POST /v2/customers at rateLimitPerMinute * throttleOrgs / 60 per second, burst max(10, ceil(2 * rate))', () => {
    const deployments = resourcesOf(packaged, 'AWS::ApiGateway::Deployment');
    expect(deployments).toHaveLength(1);
    const [, deployment] = deployments[0];
    expect(deployment.Properties.StageName).toBe(stage);
    const rate = (settings.rateLimitPerMinute * settings.throttleOrgs) / 60;
    const settingsForPost = deployment.Properties.StageDescription.MethodSettings.filter(
      (s: { ResourcePath: string; HttpMethod: string }) => s.ResourcePath === '/~1v2~1customers' && s.HttpMethod === 'POST',
    );
    expect(settingsForPost).toHaveLength(1);
    expect(settingsForPost[0].ThrottlingRateLimit).toBeCloseTo(rate, 2);
    expect(settingsForPost[0].ThrottlingBurstLimit).toBe(Math.max(10, Math.ceil(2 * rate)));
  });

  test('the table is on demand, with point-in-time recovery, deletion protection and TTL on expiresAt', () => {
    const tables = resourcesOf(packaged, 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    const [, table] = tables[0];
    expect(table.Properties).toMatchObject({
      TableName: `loyalty-customers-${stage}`,
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
    expect(table.Properties.ProvisionedThroughput).toBeUndefined();
    expect(table.DeletionPolicy).toBe('Retain');
  });

  test("the functions' roles may only act on items of that table: the API's role and the import worker's", () => {
    const [tableId] = resourcesOf(packaged, 'AWS::DynamoDB::Table')[0];
    const statementsOf = (role: { Properties: { Policies?: { PolicyDocument: { Statement: any[] } }[] } }) =>
      (role.Properties.Policies ?? []).flatMap((policy) => policy.PolicyDocument.Statement);
    const actionsOf = (statement: { Action: string | string[] }) => [statement.Action].flat();
    const onDynamo = (statements: any[]) =>
      statements.filter((s) => actionsOf(s).some((action) => action.toLowerCase().startsWith('dynamodb:')));
    const roles = Object.fromEntries(resourcesOf(packaged, 'AWS::IAM::Role').map(([id, role]) => [id, onDynamo(statementsOf(role))]));
    // Only the API's shared role and the import worker's own role touch DynamoDB, each in one statement.
    expect(
      Object.entries(roles)
        .filter(([, statements]) => statements.length > 0)
        .map(([id]) => id)
        .sort(),
    ).toEqual(['IamRoleLambdaExecution', 'ImportWorkerRole']);
    for (const [id, statements] of Object.entries(roles).filter(([, list]) => list.length > 0)) {
      expect({ id, statements: statements.length }).toEqual({ id, statements: 1 });
      const [statement] = statements;
      expect(statement.Effect).toBe('Allow');
      expect([statement.Resource].flat()).toEqual([{ 'Fn::GetAtt': [tableId, 'Arn'] }]);
      for (const action of actionsOf(statement))
        expect({ id, action, itemAction: ITEM_ACTIONS.has(action) }).toEqual({ id, action, itemAction: true });
    }
    expect(actionsOf(roles.IamRoleLambdaExecution[0])).toEqual(expect.arrayContaining(ACTIONS_USED));
    // No statement of any role grants everything, on DynamoDB or at all.
    for (const role of resourcesOf(packaged, 'AWS::IAM::Role').map(([, r]) => r)) {
      for (const statement of statementsOf(role)) {
        expect(actionsOf(statement).filter((action) => action === '*' || /^dynamodb:\*$/i.test(action))).toEqual([]);
      }
    }
  });

  test('every function gets the stage default limit in RATE_LIMIT_PER_MINUTE, the table name and no DynamoDB endpoint', () => {
    const functions = resourcesOf(packaged, 'AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual([
      'AddCustomerLambdaFunction',
      'BulkAddCustomersLambdaFunction',
      'GetCustomerLambdaFunction',
      'GetExtendedFieldsLambdaFunction',
      'GetOpenApiLambdaFunction',
      'ImportWorkerLambdaFunction',
      'LookupCustomerLambdaFunction',
    ]);
    for (const [id, fn] of functions) {
      const variables = fn.Properties.Environment.Variables;
      expect({ id, limit: String(variables.RATE_LIMIT_PER_MINUTE) }).toEqual({ id, limit: String(EXPECTED[stage].rateLimitPerMinute) });
      expect(variables.TABLE_NAME).toBe(`loyalty-customers-${stage}`);
      expect(variables.DYNAMODB_ENDPOINT ?? '').toBe('');
    }
  });
});
