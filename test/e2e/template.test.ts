import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import stages from '../../config/stages.json';
import { packageStage, type Packaged } from '../support/packaged';
import { ATTEMPTS, MAX_RECEIVE_COUNT, retryDelaySeconds } from '../../lib/webhooks/schedule';
import IMPORT_SIZING from '../../config/import.json';

const ROOT = join(__dirname, '..', '..');

/** From a delivery's first attempt to its last: the schedule's delays, and the slack's receives each back after the visibility timeout. */
const totalRetrySeconds = (visibilityTimeout: number) =>
  Array.from({ length: ATTEMPTS - 1 }, (_, i) => retryDelaySeconds(i + 1)).reduce((a, b) => a + b, 0) +
  (MAX_RECEIVE_COUNT - ATTEMPTS) * visibilityTimeout;

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
  logLevel: string;
  domainName: string;
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
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];

function resourcesOf(packaged: Packaged, type: string) {
  return Object.entries(packaged.template.Resources).filter(([, resource]) => resource.Type === type);
}

const packages = new Map<string, Promise<Packaged>>();
/** Each stage packaged once for this file, as from an operator's shell that still has a local log level and another region exported. */
function packagedOnce(stage: string): Promise<Packaged> {
  if (!packages.has(stage)) packages.set(stage, packageStage(stage, { env: { LOG_LEVEL: 'debug', AWS_REGION: 'ap-south-1' } }));
  return packages.get(stage)!;
}

const statementsOf = (role: { Properties: { Policies?: { PolicyDocument: { Statement: any[] } }[] } }) =>
  (role.Properties.Policies ?? []).flatMap((policy) => policy.PolicyDocument.Statement);
const actionsOf = (statement: { Action: string | string[] }) => [statement.Action].flat();
const onDynamo = (statements: any[]) =>
  statements.filter((s) => actionsOf(s).some((action) => action.toLowerCase().startsWith('dynamodb:')));

describe.each(Object.keys(EXPECTED) as Stage[])('serverless package --stage %s', (stage) => {
  const settings = (stages as unknown as Record<string, StageSettings>)[stage];
  let packaged: Packaged;

  beforeAll(async () => {
    packaged = await packagedOnce(stage);
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

  test('the table is on demand, with point-in-time recovery, TTL on expiresAt, warm for an import at scale, retained except by a failed first deploy', () => {
    const tables = resourcesOf(packaged, 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    const [, table] = tables[0];
    expect(table.Properties).toMatchObject({
      TableName: `loyalty-customers-${stage}`,
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
    expect(table.Properties.ProvisionedThroughput).toBeUndefined();
    // A deploy that creates the table and rolls back deletes it, so a retry is not refused with
    // "already exists"; deletion or replacement of the stack keeps it.
    expect(table.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    // Deletion protection would stop that rollback: scripts/serverless/tableProtection.js turns it
    // on after a successful deploy, and the template never names it (a later deploy leaves it on).
    expect(table.Properties.DeletionProtectionEnabled).toBeUndefined();
    expect(readFileSync(join(__dirname, '..', '..', 'serverless.yml'), 'utf8')).toMatch(
      /^ {2}- \.\/scripts\/serverless\/tableProtection\.js$/m,
    );
    // Warm for the import at scale's rate from the first minute (a new on-demand table absorbs 4,000 write units a second).
    expect(table.Properties.WarmThroughput).toEqual({
      WriteUnitsPerSecond: IMPORT_SIZING.tableWarmWriteUnits,
      ReadUnitsPerSecond: IMPORT_SIZING.tableWarmReadUnits,
    });
    expect(IMPORT_SIZING.tableWarmWriteUnits).toBeGreaterThan(4000);
  });

  test("API Gateway's account setting (its logging role) comes after the REST API, and outlives the stack", () => {
    const account = packaged.template.Resources.ApiGatewayAccount;
    expect(account.Type).toBe('AWS::ApiGateway::Account');
    expect([account.DependsOn].flat()).toContain('ApiGatewayRestApi');
    expect(account.Properties.CloudWatchRoleArn).toEqual({ 'Fn::GetAtt': ['ApiGatewayCloudWatchRole', 'Arn'] });
    expect(account.DeletionPolicy).toBe('Retain');
    expect(account.UpdateReplacePolicy).toBe('Retain');
    expect(packaged.template.Resources.ApiGatewayCloudWatchRole.DeletionPolicy ?? 'Delete').toBe('Delete');
  });

  test('each kind of function has its own role, allowed only the item actions it sends: the GET routes read, the OpenAPI route nothing', () => {
    const [tableId] = resourcesOf(packaged, 'AWS::DynamoDB::Table')[0];
    const roles = Object.fromEntries(resourcesOf(packaged, 'AWS::IAM::Role').map(([id, role]) => [id, onDynamo(statementsOf(role))]));
    const roleOf = Object.fromEntries(
      resourcesOf(packaged, 'AWS::Lambda::Function').map(([id, fn]) => [id, fn.Properties.Role['Fn::GetAtt'][0]]),
    );
    expect(roleOf).toEqual({
      AddCustomerLambdaFunction: 'RegistrationRole',
      BulkAddCustomersLambdaFunction: 'RegistrationRole',
      UpdateCustomerLambdaFunction: 'ChangeRole',
      ChangeIdentifierLambdaFunction: 'ChangeRole',
      EraseCustomerLambdaFunction: 'ChangeRole',
      MergeCustomersLambdaFunction: 'ChangeRole',
      UnmergeCustomerLambdaFunction: 'ChangeRole',
      CustomerHistoryLambdaFunction: 'ExportRole',
      ExportCustomerLambdaFunction: 'ExportRole',
      GetCustomerLambdaFunction: 'ReaderRole',
      LookupCustomerLambdaFunction: 'ReaderRole',
      GetExtendedFieldsLambdaFunction: 'ReaderRole',
      GetOpenApiLambdaFunction: 'OpenApiRole',
      ImportPlannerLambdaFunction: 'ImportPlannerRole',
      ImportWorkerLambdaFunction: 'ImportWorkerRole',
      PublishEventsLambdaFunction: 'PublisherRole',
      SendWebhooksLambdaFunction: 'WebhookSenderRole',
    });
    const tableActions = (id: string) => roles[id].flatMap(actionsOf).sort();
    // A registration never queries and sends no bare ConditionCheck (test/integration/registrationActions.test.ts).
    expect(tableActions('RegistrationRole')).toEqual(ACTIONS_USED.filter((action) => action !== 'dynamodb:Query').sort());
    expect(tableActions('ImportPlannerRole')).toEqual([]);
    expect(tableActions('ReaderRole')).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    // A change or an erase also deletes the identifier and profile items it releases; an erase deletes the history in batches.
    expect(tableActions('ChangeRole')).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(tableActions('OpenApiRole')).toEqual([]);
    // An export or a history reads the customer and counts against the org's limit.
    expect(tableActions('ExportRole')).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    expect(tableActions('ImportWorkerRole')).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(tableActions('WebhookSenderRole')).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    // Every route whose use case counts against the org's limit (lib/rateLimit.ts takeRequest) may update the counter: a GET
    // route that counts under a read-only role would answer 500 in AWS (AccessDenied), never seen against DynamoDB Local.
    const counted: string[] = [];
    for (const [functionId, role] of Object.entries(roleOf)) {
      const name = functionId.replace(/LambdaFunction$/, '');
      const handlerFile = join(ROOT, 'handlers', `${name[0].toLowerCase()}${name.slice(1)}.ts`);
      const useCase = /from '\.\.\/lib\/api\/(\w+)'/.exec(readFileSync(handlerFile, 'utf8'))?.[1];
      const counts = useCase !== undefined && readFileSync(join(ROOT, 'lib', 'api', `${useCase}.ts`), 'utf8').includes('takeRequest(');
      if (counts) counted.push(functionId);
      if (counts)
        expect({ functionId, role, updates: tableActions(role as string).includes('dynamodb:UpdateItem') }).toEqual({
          functionId,
          role,
          updates: true,
        });
    }
    expect(counted).toEqual(
      expect.arrayContaining([
        'AddCustomerLambdaFunction',
        'CustomerHistoryLambdaFunction',
        'ExportCustomerLambdaFunction',
        'MergeCustomersLambdaFunction',
      ]),
    );
    // The publisher reads items and its stream, each in a statement of its own.
    const publisher = roles.PublisherRole;
    expect(publisher.map((statement) => [statement.Resource].flat())).toEqual([
      [{ 'Fn::GetAtt': [tableId, 'Arn'] }],
      [{ 'Fn::GetAtt': [tableId, 'StreamArn'] }],
    ]);
    // The history: entries put in a transaction with a check of the customer item, deleted in batches on an erase.
    expect(actionsOf(publisher[0]).sort()).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    expect(actionsOf(publisher[1]).sort()).toEqual([
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
    ]);
    // Only these roles touch DynamoDB, each in one statement on the table's items.
    expect(
      Object.entries(roles)
        .filter(([, statements]) => statements.length > 0)
        .map(([id]) => id)
        .sort(),
    ).toEqual(['ChangeRole', 'ExportRole', 'ImportWorkerRole', 'PublisherRole', 'ReaderRole', 'RegistrationRole', 'WebhookSenderRole']);
    for (const [id, statements] of Object.entries(roles).filter(([role, list]) => list.length > 0 && role !== 'PublisherRole')) {
      expect({ id, statements: statements.length }).toEqual({ id, statements: 1 });
      const [statement] = statements;
      expect(statement.Effect).toBe('Allow');
      expect([statement.Resource].flat()).toEqual([{ 'Fn::GetAtt': [tableId, 'Arn'] }]);
      for (const action of actionsOf(statement))
        expect({ id, action, itemAction: ITEM_ACTIONS.has(action) }).toEqual({ id, action, itemAction: true });
    }
    // Each function's role writes to that function's log group, and sends X-Ray traces.
    for (const [fnId, roleId] of Object.entries(roleOf)) {
      const role = packaged.template.Resources[roleId];
      const logs = statementsOf(role).filter((s) => actionsOf(s).includes('logs:PutLogEvents'));
      const name = packaged.template.Resources[fnId].Properties.FunctionName;
      expect(JSON.stringify(logs)).toContain(`log-group:/aws/lambda/${name}:*`);
      expect(statementsOf(role).flatMap(actionsOf)).toEqual(expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']));
    }
    // No statement of any role grants everything, on DynamoDB or at all; none may create roles.
    for (const role of resourcesOf(packaged, 'AWS::IAM::Role').map(([, r]) => r)) {
      for (const statement of statementsOf(role)) {
        expect(
          actionsOf(statement).filter((action) => action === '*' || /^(dynamodb|iam):\*$/i.test(action) || /^iam:/i.test(action)),
        ).toEqual([]);
      }
    }
    expect(resourcesOf(packaged, 'Custom::ApiGatewayAccountRole')).toEqual([]);
    expect(Object.keys(packaged.template.Resources).filter((id) => id.startsWith('CustomDash'))).toEqual([]);
  });

  test("functions run on nodejs24.x (arm64) with X-Ray active; the API traces and writes JSON access logs through the template's own logging role", () => {
    for (const [id, fn] of resourcesOf(packaged, 'AWS::Lambda::Function')) {
      expect({ id, runtime: fn.Properties.Runtime, arch: fn.Properties.Architectures, tracing: fn.Properties.TracingConfig }).toEqual({
        id,
        runtime: 'nodejs24.x',
        arch: ['arm64'],
        tracing: { Mode: 'Active' },
      });
    }
    const provider = packaged.state.service.provider;
    expect(provider.tracing).toEqual({ apiGateway: true, lambda: true });
    expect(provider.endpointType).toBe('REGIONAL');
    const restApi = provider.logs.restApi;
    expect(restApi).toMatchObject({ accessLogging: true, executionLogging: false, fullExecutionData: false, roleManagedExternally: true });
    // One JSON object per request, with the ids that join it to the function's log line and trace.
    const sample = restApi.format.replace(/\$context\.[\w.]+/g, 'x');
    expect(Object.keys(JSON.parse(sample))).toEqual(
      expect.arrayContaining(['requestId', 'status', 'latencyMs', 'traceId', 'errorType', 'path', 'method']),
    );
    expect(resourcesOf(packaged, 'AWS::Logs::LogGroup').map(([, g]) => g.Properties.LogGroupName)).toContain(
      `/aws/api-gateway/loyalty-customers-${stage}`,
    );
    const [, account] = resourcesOf(packaged, 'AWS::ApiGateway::Account')[0];
    const cloudWatchRole = packaged.template.Resources[account.Properties.CloudWatchRoleArn['Fn::GetAtt'][0]];
    expect(cloudWatchRole.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'apigateway.amazonaws.com' });
    expect(JSON.stringify(cloudWatchRole.Properties.ManagedPolicyArns)).toContain('AmazonAPIGatewayPushToCloudWatchLogs');
    expect(resourcesOf(packaged, 'AWS::ApiGateway::RestApi')[0][1].Properties.EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
  });

  test('alarms for every function (errors, throttles), the API (5xx, p99 latency) and the table (throttled requests, system errors) notify one SNS topic', () => {
    const alarms = resourcesOf(packaged, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const functions = resourcesOf(packaged, 'AWS::Lambda::Function').map(([id]) => id);
    for (const id of functions) {
      for (const metric of ['Errors', 'Throttles']) {
        const found = alarms.filter((a) => a.Namespace === 'AWS/Lambda' && a.MetricName === metric && a.Dimensions[0].Value.Ref === id);
        expect({ id, metric, alarms: found.length }).toEqual({ id, metric, alarms: 1 });
      }
    }
    const api = alarms.filter((a) => a.Namespace === 'AWS/ApiGateway');
    expect(api.map((a) => a.MetricName).sort()).toEqual(['5XXError', 'Latency']);
    expect(api.find((a) => a.MetricName === 'Latency')).toMatchObject({ ExtendedStatistic: 'p99' });
    for (const a of api)
      expect(a.Dimensions).toEqual([
        { Name: 'ApiName', Value: `${stage}-loyalty-customers` },
        { Name: 'Stage', Value: stage },
      ]);
    const table = alarms.filter((a) => a.Metrics);
    expect(table.map((a) => a.Metrics[0].MetricStat.Metric.MetricName).sort()).toEqual(['SystemErrors', 'ThrottledRequests']);
    for (const a of table) {
      const operations = a.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric.Dimensions[1].Value);
      expect(operations).toEqual(
        expect.arrayContaining(['TransactWriteItems', 'GetItem', 'UpdateItem', 'Query', 'PutItem', 'BatchGetItem']),
      );
      expect(a.Metrics.filter((m: any) => m.ReturnData)).toEqual([expect.objectContaining({ Expression: 'SUM(METRICS())' })]);
    }
    const queues = alarms.filter((a) => a.Namespace === 'AWS/SQS').map((a) => a.Dimensions[0].Value['Fn::GetAtt'][0]);
    expect(queues.sort()).toEqual(['StreamFailureQueue', 'WebhookDeadLetterQueue']);
    const iteratorAge = alarms.filter((a) => a.MetricName === 'IteratorAge');
    expect(iteratorAge.map((a) => a.Dimensions[0].Value.Ref)).toEqual(['PublishEventsLambdaFunction']);
    // 429s, which API Gateway counts only among 4xx, from the access log: a metric filter and its alarm.
    const filter = resourcesOf(packaged, 'AWS::Logs::MetricFilter').map(([, f]) => f.Properties);
    expect(filter).toEqual([
      {
        LogGroupName: { Ref: 'ApiGatewayLogGroup' },
        FilterPattern: '{ $.status = "429" }',
        MetricTransformations: [{ MetricNamespace: 'LoyaltyCustomers', MetricName: `api_429_${stage}`, MetricValue: '1', DefaultValue: 0 }],
      },
    ]);
    expect(alarms.filter((a) => a.MetricName === `api_429_${stage}`)).toEqual([
      expect.objectContaining({ Namespace: 'LoyaltyCustomers', Statistic: 'Sum', Threshold: 100 }),
    ]);
    // The import state machine: a run that fails, times out or is stopped.
    const runs = alarms.filter((a) => a.Namespace === 'AWS/States');
    expect(runs.map((a) => a.MetricName).sort()).toEqual(['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut']);
    for (const a of runs) expect(a.Dimensions).toEqual([{ Name: 'StateMachineArn', Value: { Ref: 'ImportMembersStateMachine' } }]);
    expect(alarms).toHaveLength(functions.length * 2 + 4 + 2 + 1 + 1 + 3);
    const [topicId, topic] = resourcesOf(packaged, 'AWS::SNS::Topic')[0];
    // CloudWatch cannot publish to a topic under the AWS-managed aws/sns key.
    expect(topic.Properties.KmsMasterKeyId).not.toBe('alias/aws/sns');
    for (const a of alarms) expect(a.AlarmActions).toEqual([{ Ref: topicId }]);
    expect(packaged.template.Outputs.AlarmTopicArn.Value).toEqual({ Ref: topicId });
  });

  test("API Gateway's own answers (throttling, unknown path, its faults) are in the spec's error shape, with the status as the code and no 500", () => {
    const responses: Record<string, any> = Object.fromEntries(
      resourcesOf(packaged, 'AWS::ApiGateway::GatewayResponse').map(([, r]) => [r.Properties.ResponseType, r.Properties]),
    );
    for (const type of [
      'THROTTLED',
      'MISSING_AUTHENTICATION_TOKEN',
      'DEFAULT_4XX',
      'DEFAULT_5XX',
      'INTEGRATION_TIMEOUT',
      'REQUEST_TOO_LARGE',
    ]) {
      expect(responses[type]).toBeDefined();
    }
    expect(responses.THROTTLED.StatusCode).toBe('429');
    expect(responses.THROTTLED.ResponseParameters['gatewayresponse.header.Retry-After']).toBe("'1'");
    expect(responses.MISSING_AUTHENTICATION_TOKEN.StatusCode).toBe('404');
    for (const [type, response] of Object.entries(responses)) {
      const body = JSON.parse(response.ResponseTemplates['application/json']);
      expect({ type, body }).toEqual({
        type,
        body: { errors: [{ status: false, code: Number(response.StatusCode), message: expect.any(String) }], warnings: [] },
      });
      expect(Number(response.StatusCode)).not.toBe(500);
      expect(response.ResponseParameters['gatewayresponse.header.Content-Type']).toBe("'application/json'");
      // Browsers are not clients: no CORS headers.
      expect(Object.keys(response.ResponseParameters).filter((h) => /access-control/i.test(h))).toEqual([]);
    }
    // They take effect with this deployment.
    const [, deployment] = resourcesOf(packaged, 'AWS::ApiGateway::Deployment')[0];
    for (const [id] of resourcesOf(packaged, 'AWS::ApiGateway::GatewayResponse')) expect(deployment.DependsOn).toContain(id);
  });

  test('every resource that takes tags has service and stage; the stack and the API stage too', () => {
    const wanted = [
      { Key: 'service', Value: 'loyalty-customers' },
      { Key: 'stage', Value: stage },
    ];
    const untaggable = new Set([
      'AWS::ApiGateway::Account',
      'AWS::ApiGateway::Deployment',
      'AWS::ApiGateway::GatewayResponse',
      'AWS::ApiGateway::Method',
      'AWS::ApiGateway::Resource',
      'AWS::Lambda::Permission',
      'AWS::Lambda::Version',
      'AWS::Logs::MetricFilter',
      'AWS::S3::BucketPolicy',
    ]);
    for (const [id, resource] of Object.entries(packaged.template.Resources)) {
      if (untaggable.has(resource.Type)) continue;
      expect({ id, tags: resource.Properties.Tags }).toEqual({ id, tags: expect.arrayContaining(wanted) });
    }
    expect(packaged.state.service.provider.stackTags).toEqual({ service: 'loyalty-customers', stage });
    const [, deployment] = resourcesOf(packaged, 'AWS::ApiGateway::Deployment')[0];
    expect(deployment.Properties.StageDescription.Tags).toEqual(expect.arrayContaining(wanted));
  });

  test('old function versions are pruned on deploy (three kept); a custom domain only where the stage names one', () => {
    const custom = (packaged.state.service as any).custom;
    expect(custom.prune).toEqual({ automatic: true, number: 3 });
    expect((packaged.state.service as any).plugins).toEqual(
      expect.arrayContaining(['serverless-prune-plugin', 'serverless-domain-manager']),
    );
    expect(custom.customDomain).toMatchObject({ basePath: '', endpointType: 'REGIONAL', enabled: Boolean(settings.domainName) });
  });

  test("every function gets the stage's default limit in RATE_LIMIT_PER_MINUTE, the table name, the stage's log level and no DynamoDB endpoint", () => {
    const functions = resourcesOf(packaged, 'AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual([
      'AddCustomerLambdaFunction',
      'BulkAddCustomersLambdaFunction',
      'ChangeIdentifierLambdaFunction',
      'CustomerHistoryLambdaFunction',
      'EraseCustomerLambdaFunction',
      'ExportCustomerLambdaFunction',
      'GetCustomerLambdaFunction',
      'GetExtendedFieldsLambdaFunction',
      'GetOpenApiLambdaFunction',
      'ImportPlannerLambdaFunction',
      'ImportWorkerLambdaFunction',
      'LookupCustomerLambdaFunction',
      'MergeCustomersLambdaFunction',
      'PublishEventsLambdaFunction',
      'SendWebhooksLambdaFunction',
      'UnmergeCustomerLambdaFunction',
      'UpdateCustomerLambdaFunction',
    ]);
    for (const [id, fn] of functions) {
      const variables = fn.Properties.Environment.Variables;
      expect({ id, limit: String(variables.RATE_LIMIT_PER_MINUTE) }).toEqual({ id, limit: String(EXPECTED[stage].rateLimitPerMinute) });
      expect(variables.TABLE_NAME).toBe(`loyalty-customers-${stage}`);
      expect(variables.DYNAMODB_ENDPOINT ?? '').toBe('');
      expect(variables.LOG_LEVEL).toBe(settings.logLevel);
      expect(variables.POWERTOOLS_METRICS_DISABLED).toBe('false');
    }
  });
});

describe.each(Object.keys(EXPECTED) as Stage[])('events of serverless package --stage %s', (stage) => {
  let packaged: Packaged;

  beforeAll(async () => {
    packaged = await packagedOnce(stage);
  }, 120_000);

  test('the table streams new and old images to the publisher, filtered to customer and profile items, failures reported per record', () => {
    const [, table] = resourcesOf(packaged, 'AWS::DynamoDB::Table')[0];
    expect(table.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    const mappings = resourcesOf(packaged, 'AWS::Lambda::EventSourceMapping').map(([, m]) => m.Properties);
    const stream = mappings.find((m) => m.EventSourceArn['Fn::GetAtt']?.[1] === 'StreamArn')!;
    expect(stream).toMatchObject({
      FunctionName: { 'Fn::GetAtt': ['PublishEventsLambdaFunction', 'Arn'] },
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      ParallelizationFactor: 1,
      MaximumRetryAttempts: 20,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['StreamFailureQueue', 'Arn'] } } },
    });
    const pattern = JSON.parse(stream.FilterCriteria.Filters[0].Pattern);
    expect(pattern).toEqual({ dynamodb: { Keys: { sk: { S: ['CUSTOMER', { prefix: 'PROFILE#' }] } } } });
  });

  test('webhooks go through a queue to the sender, with partial batch failures and a dead-letter queue; events to the stage bus', () => {
    const mappings = resourcesOf(packaged, 'AWS::Lambda::EventSourceMapping').map(([, m]) => m.Properties);
    const queue = mappings.find((m) => m.EventSourceArn['Fn::GetAtt']?.[0] === 'WebhookQueue')!;
    expect(queue).toMatchObject({
      FunctionName: { 'Fn::GetAtt': ['SendWebhooksLambdaFunction', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const webhookQueue = packaged.template.Resources.WebhookQueue.Properties;
    expect(webhookQueue.RedrivePolicy.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': ['WebhookDeadLetterQueue', 'Arn'] });
    // The sender's 12 attempts over about three days end in the dead-letter queue by the sender's own
    // hand; the queue's redrive is a backstop three receives later (receives that were no attempt).
    expect(webhookQueue.RedrivePolicy.maxReceiveCount).toBe(MAX_RECEIVE_COUNT);
    expect(MAX_RECEIVE_COUNT).toBe(ATTEMPTS + 3);
    const sender = packaged.template.Resources.SendWebhooksLambdaFunction.Properties.Environment.Variables;
    expect(sender.WEBHOOK_DEAD_LETTER_QUEUE_URL).toEqual({ Ref: 'WebhookDeadLetterQueue' });
    const senderStatements = statementsOf(packaged.template.Resources.WebhookSenderRole);
    expect(senderStatements.filter((st) => actionsOf(st).includes('sqs:SendMessage')).map((st) => st.Resource)).toEqual([
      [{ 'Fn::GetAtt': ['WebhookDeadLetterQueue', 'Arn'] }],
    ]);
    expect(webhookQueue.MessageRetentionPeriod).toBeGreaterThan(totalRetrySeconds(webhookQueue.VisibilityTimeout));
    expect(webhookQueue.VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * packaged.template.Resources.SendWebhooksLambdaFunction.Properties.Timeout,
    );
    expect(packaged.template.Resources.EventBus.Properties.Name).toBe(`loyalty-customers-${stage}`);
    const publisher = packaged.template.Resources.PublishEventsLambdaFunction.Properties.Environment.Variables;
    expect(publisher.EVENT_BUS_NAME).toEqual({ Ref: 'EventBus' });
    expect(publisher.WEBHOOK_QUEUE_URL).toEqual({ Ref: 'WebhookQueue' });
    expect(publisher.STAGE_IS_LOCAL).toBe('false');
    const statements = statementsOf(packaged.template.Resources.PublisherRole);
    expect(statements.find((st) => actionsOf(st).includes('events:PutEvents')).Resource).toEqual([{ 'Fn::GetAtt': ['EventBus', 'Arn'] }]);
  });
});

describe('a local endpoint in the shell', () => {
  test.each(Object.keys(EXPECTED))(
    'refuses to package %s, with one clear line',
    async (stage) => {
      const failure = await packageStage(stage, { env: { DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' } }).then(
        () => undefined,
        (error: { code?: number; stdout?: string; stderr?: string }) => error,
      );
      expect(failure).toBeDefined();
      expect(failure!.code).not.toBe(0);
      const output = `${failure!.stdout}${failure!.stderr}`;
      expect(output).toContain(
        `stage ${stage} uses AWS's DynamoDB, but DYNAMODB_ENDPOINT=http://127.0.0.1:8000 is set in this shell; unset it to package or deploy ${stage}`,
      );
    },
    120_000,
  );
});
