import { packageStage } from '../support/packaged';
import IMPORT_SIZING from '../../config/import.json';

// The importMembers state machine as `serverless package --stage emea` builds it (SPEC section 9,
// imports at scale): a Distributed Map over a JSON Lines object in the import bucket, in batches,
// with bounded concurrency, a tolerated failure percentage and its results written back to S3,
// each batch registered by the importWorker function, whose role allows only what a registration
// sends. Step Functions cannot run offline here, so the definition is checked with asl-validator
// and by reading it; the worker itself runs against DynamoDB Local in test/integration/import.test.ts.
//
// Packaging runs in a scratch copy of the service (serverless.yml copied, everything else linked),
// as test/e2e/template.test.ts does, so that serverless-esbuild's work folder is never the one a
// `serverless offline` of another suite is serving from.

// asl-validator ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const validateAsl = require('asl-validator') as (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };

type Resource = { Type: string; Properties: any; DependsOn?: string[]; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Template = { Resources: Record<string, Resource>; Outputs: Record<string, { Value: unknown }> };

async function packageEmea(): Promise<Template> {
  return (await packageStage('emea')).template as Template;
}

/**
 * The definition as Step Functions would get it: the plugin writes it as an Fn::Sub whose
 * placeholders stand for CloudFormation references; each becomes a recognisable string here.
 */
function definitionOf(machine: Resource): any {
  const [text, references] = machine.Properties.DefinitionString['Fn::Sub'] as [string, Record<string, unknown>];
  const resolved = text.replace(/\$\{(\w+)\}/g, (_, name: string) => {
    const reference = JSON.stringify(references[name]);
    if (reference.includes('ImportWorkerLambdaFunction'))
      return 'arn:aws:lambda:eu-west-1:123456789012:function:loyalty-customers-emea-importWorker';
    if (reference.includes('ImportPlannerLambdaFunction'))
      return 'arn:aws:lambda:eu-west-1:123456789012:function:loyalty-customers-emea-importPlanner';
    if (reference.includes('ImportBucket')) return 'loyalty-customers-emea-importbucket';
    return `unresolved-${name}`;
  });
  return JSON.parse(resolved);
}

const statementsOf = (role: Resource) =>
  (role.Properties.Policies ?? []).flatMap((policy: { PolicyDocument: { Statement: any[] } }) => policy.PolicyDocument.Statement);
const actionsOf = (statement: { Action: string | string[] }) => [statement.Action].flat();

describe('the importMembers state machine of serverless package --stage emea', () => {
  let template: Template;
  let machine: Resource;
  let definition: any;
  let map: any;

  beforeAll(async () => {
    template = await packageEmea();
    machine = template.Resources.ImportMembersStateMachine;
    definition = definitionOf(machine);
    map = definition.States[Object.keys(definition.States).find((name) => definition.States[name].Type === 'Map')!];
  }, 120_000);

  test('is a valid Amazon States Language definition (asl-validator, paths and ARNs checked)', () => {
    expect(machine.Type).toBe('AWS::StepFunctions::StateMachine');
    const result = validateAsl(definition, { checkPaths: true, checkArn: true });
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  test('asl-validator refuses a broken copy of it (the check is not a formality)', () => {
    const broken = structuredClone(definition);
    const name = Object.keys(broken.States).find((n) => broken.States[n].Type === 'Map')!;
    delete broken.States[name].ItemProcessor;
    expect(validateAsl(broken).isValid).toBe(false);
  });

  test('first plans the run: the planner cuts the object named by the input into batches of whole lines', () => {
    expect(definition.States.Input.Next).toBe('PlanBatches');
    expect(definition.States.PlanBatches).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: {
        FunctionName: 'arn:aws:lambda:eu-west-1:123456789012:function:loyalty-customers-emea-importPlanner',
        // The execution's name is unique per start: two runs of one job never share a plan.
        Payload: { 'key.$': '$.key', 'job.$': '$.job', 'run.$': '$$.Execution.Name' },
      },
      ResultPath: '$.plan',
      Next: definition.States[Object.keys(definition.States).find((name) => definition.States[name].Type === 'Map')!] ? 'ImportLines' : '',
    });
    const planner = template.Resources.ImportPlannerLambdaFunction.Properties;
    expect(planner.Environment.Variables).toMatchObject({
      IMPORT_BUCKET: { Ref: 'ImportBucket' },
      IMPORT_LINES_PER_BATCH: String(IMPORT_SIZING.linesPerBatch),
    });
    expect(planner.Timeout).toBe(900);
  });

  test("the map reads the plan (lines this service wrote), never the members' bytes: a line that is not JSON cannot fail the run", () => {
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    expect(map.ItemReader).toEqual({
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSONL' },
      Parameters: { Bucket: 'loyalty-customers-emea-importbucket', 'Key.$': '$.plan.key' },
    });
    expect(map.ItemSelector).toBeUndefined();
  });

  test('hands the worker one planned batch at a time, with the job, the object and its planned version, in bounded concurrency', () => {
    expect(map.ItemBatcher).toEqual({
      MaxItemsPerBatch: 1,
      BatchInput: { 'orgId.$': '$.orgId', 'job.$': '$.job', 'till.$': '$.till', 'key.$': '$.key', 'tag.$': '$.plan.tag' },
    });
    expect(map.MaxConcurrency).toBe(IMPORT_SIZING.maxConcurrency);
    const worker = template.Resources.ImportWorkerLambdaFunction.Properties;
    expect(worker.Environment.Variables).toMatchObject({
      IMPORT_BUCKET: { Ref: 'ImportBucket' },
      IMPORT_WORKER_RATE: String(IMPORT_SIZING.workerRate),
      IMPORT_WORKER_CONCURRENCY: String(IMPORT_SIZING.workerConcurrency),
    });
    expect(worker.MemorySize).toBe(IMPORT_SIZING.workerMemoryMb);
    expect(worker.Timeout).toBe(IMPORT_SIZING.workerTimeoutSeconds);
  });

  test('tolerates a small share of failed batches and writes only the workers outputs to the bucket under results/<job>', () => {
    expect(map.ToleratedFailurePercentage).toBeGreaterThan(0);
    expect(map.ToleratedFailurePercentage).toBeLessThanOrEqual(10);
    expect(map.ResultWriter).toEqual({
      Resource: 'arn:aws:states:::s3:putObject',
      Parameters: { Bucket: 'loyalty-customers-emea-importbucket', 'Prefix.$': "States.Format('results/{}', $.job)" },
      // COMPACT: the children's outputs only, not their inputs and metadata (NONE, the default when exporting).
      WriterConfig: { OutputType: 'JSONL', Transformation: 'COMPACT' },
    });
  });

  test('the sizing meets the target: 10 M lines within the hour, within the warm table and the limits that bind', () => {
    const linesPerSecond = IMPORT_SIZING.maxConcurrency * IMPORT_SIZING.workerRate;
    // Within the hour with room for the plan and the stragglers.
    expect(10_000_000 / linesPerSecond).toBeLessThan(0.85 * 3600);
    // A line is 10 write units (test/integration/cost.test.ts and the bench): the warm table takes them, with room for the API.
    expect(linesPerSecond * 10).toBeLessThanOrEqual(0.95 * IMPORT_SIZING.tableWarmWriteUnits);
    // A batch finishes well within the worker's timeout, and its output within Step Functions' 256 KiB
    // (a result is at most about 60 bytes and a reason of 160 characters).
    expect((IMPORT_SIZING.linesPerBatch / IMPORT_SIZING.workerRate) * 5).toBeLessThan(IMPORT_SIZING.workerTimeoutSeconds);
    expect(IMPORT_SIZING.linesPerBatch * (60 + 160 * 1.2)).toBeLessThan(256 * 1024);
    // Lambda's default concurrency quota is 1,000 per account and region: the workers take a small share.
    expect(IMPORT_SIZING.maxConcurrency).toBeLessThanOrEqual(100);
  });

  test('the execution input may leave out till: the machine defaults it to null before the map', () => {
    expect(definition.StartAt).toBe('Defaults');
    expect(definition.States.Defaults).toMatchObject({ Type: 'Pass', Result: { till: null }, ResultPath: '$.defaults', Next: 'Input' });
    expect(definition.States.Input).toMatchObject({ Type: 'Pass', Parameters: { 'args.$': 'States.JsonMerge($.defaults, $, false)' } });
  });

  test('logs its failures without execution data, traces with X-Ray, and says its ARN as a stack output', () => {
    expect(machine.Properties.LoggingConfiguration).toEqual({
      Level: 'ERROR',
      IncludeExecutionData: false,
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': ['ImportMembersLogGroup', 'Arn'] } } }],
    });
    expect(template.Resources.ImportMembersLogGroup.Properties.RetentionInDays).toBe(30);
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(template.Outputs.ImportStateMachineArn.Value).toEqual({ Ref: 'ImportMembersStateMachine' });
    const actions = statementsOf(template.Resources.ImportMembersRole).flatMap(actionsOf);
    expect(actions).toEqual(expect.arrayContaining(['logs:CreateLogDelivery', 'xray:PutTraceSegments']));
  });

  test('each batch invokes the importWorker function and is retried with backoff when DynamoDB or Lambda fails', () => {
    const [task] = Object.values(map.ItemProcessor.States) as any[];
    expect(Object.keys(map.ItemProcessor.States)).toHaveLength(1);
    expect(task).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'arn:aws:lambda:eu-west-1:123456789012:function:loyalty-customers-emea-importWorker', 'Payload.$': '$' },
      OutputPath: '$.Payload',
      End: true,
    });
    const [retry] = task.Retry;
    expect(retry.ErrorEquals).toEqual(expect.arrayContaining(['ImportUnavailable', 'Lambda.TooManyRequestsException']));
    expect(retry.BackoffRate).toBeGreaterThan(1);
    expect(retry.MaxAttempts).toBeGreaterThan(1);
  });

  test('the worker has a role of its own allowing only the item actions a registration sends, reading the members file, its log stream and X-Ray', () => {
    const worker = template.Resources.ImportWorkerLambdaFunction;
    expect(worker.Properties.Role).toEqual({ 'Fn::GetAtt': ['ImportWorkerRole', 'Arn'] });
    expect(worker.Properties.Environment.Variables.TABLE_NAME).toBe('loyalty-customers-emea');
    expect(worker.Properties.Environment.Variables.DYNAMODB_ENDPOINT ?? '').toBe('');
    const statements = statementsOf(template.Resources.ImportWorkerRole);
    const allActions = statements.flatMap(actionsOf).sort();
    // GetItem: the org's configuration; PutItem, UpdateItem: the transactions' items (a merge
    // updates the known identifiers) and an idempotency record claimed alone;
    // DeleteItem: a refusal's record naming an erased customer, dropped before the line runs anew.
    // test/integration/import.test.ts checks that the importer sends nothing else.
    expect(allActions).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:GetObject',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    const dynamo = statements.find((s: any) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.Effect).toBe('Allow');
    expect([dynamo.Resource].flat()).toEqual([{ 'Fn::GetAtt': ['CustomersTable', 'Arn'] }]);
    // Of S3 only reading the members' files: its batch's byte range.
    const s3 = statements.filter((s: any) => actionsOf(s).some((a) => a.startsWith('s3:')));
    expect(s3.map((s: any) => [actionsOf(s), JSON.stringify(s.Resource)])).toEqual([
      [['s3:GetObject'], expect.stringContaining('/imports/*')],
    ]);
    expect(allActions.filter((a: string) => a === '*')).toEqual([]);
  });

  test("the planner reads imports/ and writes plans/; the state machine's role reads plans/, writes results/, invokes both and runs the map's child workflows", () => {
    const planner = statementsOf(template.Resources.ImportPlannerRole);
    const s3Of = (statements: any[]) =>
      statements
        .filter((st: any) => actionsOf(st).some((a) => a.startsWith('s3:')))
        .map((st: any) => [actionsOf(st), JSON.stringify(st.Resource)]);
    expect(s3Of(planner)).toEqual([
      [['s3:GetObject'], expect.stringContaining('/imports/*')],
      [['s3:PutObject'], expect.stringContaining('/plans/*')],
    ]);
    expect(planner.flatMap(actionsOf).filter((a: string) => a.startsWith('dynamodb:'))).toEqual([]);
    expect(machine.Properties.RoleArn).toEqual({ 'Fn::GetAtt': ['ImportMembersRole', 'Arn'] });
    const statements = statementsOf(template.Resources.ImportMembersRole);
    const byAction = (action: string) => statements.filter((s: any) => actionsOf(s).includes(action));
    expect(JSON.stringify(byAction('s3:GetObject').map((s: any) => s.Resource))).toContain('/plans/*');
    expect(JSON.stringify(byAction('s3:GetObject').map((s: any) => s.Resource))).not.toContain('/imports/');
    expect(JSON.stringify(byAction('lambda:InvokeFunction').map((s: any) => s.Resource))).toContain('ImportPlannerLambdaFunction');
    expect(JSON.stringify(byAction('s3:PutObject').map((s: any) => s.Resource))).toContain('/results/*');
    expect(JSON.stringify(byAction('s3:PutObject').map((s: any) => s.Resource))).not.toContain('/imports/');
    expect(JSON.stringify(byAction('lambda:InvokeFunction').map((s: any) => s.Resource))).toContain('ImportWorkerLambdaFunction');
    expect(byAction('states:StartExecution')).toHaveLength(1);
    for (const statement of statements) {
      expect(actionsOf(statement).filter((a) => a === '*' || a.endsWith(':*') || a.startsWith('dynamodb:'))).toEqual([]);
    }
  });

  test("the import bucket is private, encrypted, TLS-only, forgets the members' files after 7 days and results with the records (30 days)", () => {
    const bucket = template.Resources.ImportBucket;
    expect(bucket.Type).toBe('AWS::S3::Bucket');
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe(
      'AES256',
    );
    const expiry = Object.fromEntries(
      bucket.Properties.LifecycleConfiguration.Rules.map((rule: any) => [
        rule.Prefix ?? '',
        rule.Status === 'Enabled' ? rule.ExpirationInDays : 0,
      ]),
    );
    expect(expiry).toEqual({ 'imports/': 7, 'plans/': 7, 'results/': 30, '': 30 });
    expect(bucket.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
    const policy = template.Resources.ImportBucketPolicy.Properties.PolicyDocument.Statement[0];
    expect(policy).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });
});
